"""AdmissionReview (admission.k8s.io/v1) in and out: the request's uid,
operation and object read from untrusted bytes, and the response that
echoes the uid. Anything that is no AdmissionReview is a ReviewError
(HTTP 400); a review whose object hvtune cannot read is still answered
(allowed, with a warning saying why), so that a request always gets its
uid back."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

API_VERSION = "admission.k8s.io/v1"
KIND = "AdmissionReview"
MAX_BODY = 4 << 20  # bytes: the API server's own request limit is 3 MiB of object
MAX_WARNING = 256  # characters: the API server may cut longer warnings
MAX_WARNINGS = 16  # per response: the API server caps their total size (4096 characters)


class ReviewError(Exception):
    """A body that is no AdmissionReview hvtune can answer."""


@dataclass(frozen=True)
class Answer:
    """What hvtune says about one object: allowed or not, why not (shown
    to whoever created it), and warnings for an allowed one."""

    allowed: bool
    message: str | None = None
    warnings: tuple[str, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class Request:
    """The parts of a review's request hvtune uses."""

    uid: str
    operation: str
    kind: str
    name: str
    namespace: str
    obj: Mapping[str, Any] | None


Judge = Callable[[Request], Answer]


def _mapping(value: object, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ReviewError(f"{where} is not an object")
    return value


def read_review(body: bytes) -> Request:
    """The request of an AdmissionReview's JSON `body` (at most MAX_BODY bytes)."""
    if len(body) > MAX_BODY:
        raise ReviewError(f"the body is larger than {MAX_BODY} bytes")
    try:
        review = json.loads(body)
    except (ValueError, RecursionError) as error:
        raise ReviewError(f"the body is not JSON: {str(error)[:200]}") from None
    review = _mapping(review, "the review")
    if review.get("apiVersion") != API_VERSION or review.get("kind") != KIND:
        raise ReviewError(f"expected apiVersion {API_VERSION} and kind {KIND}")
    request = _mapping(review.get("request"), "request")
    uid = request.get("uid")
    if not isinstance(uid, str) or not uid:
        raise ReviewError("request.uid is not a string")
    obj = request.get("object")
    kind = _mapping(request.get("kind") or {}, "request.kind").get("kind")
    return Request(
        uid=uid,
        operation=str(request.get("operation") or ""),
        kind=str(kind or ""),
        name=str(request.get("name") or ""),
        namespace=str(request.get("namespace") or ""),
        obj=obj if isinstance(obj, Mapping) else None,
    )


def _warning(text: str) -> str:
    return text if len(text) <= MAX_WARNING else text[: MAX_WARNING - 3] + "..."


def response(uid: str, answer: Answer) -> dict[str, Any]:
    """The AdmissionReview that answers request `uid`."""
    body: dict[str, Any] = {"uid": uid, "allowed": answer.allowed}
    if not answer.allowed:
        body["status"] = {"code": 403, "reason": "Forbidden", "message": answer.message or "denied by hvtune"}
    if answer.warnings:
        body["warnings"] = [_warning(text) for text in answer.warnings[:MAX_WARNINGS]]
    return {"apiVersion": API_VERSION, "kind": KIND, "response": body}


def answer_review(body: bytes, judge: Judge) -> dict[str, Any]:
    """The response to `body`; ReviewError when it is no AdmissionReview."""
    request = read_review(body)
    return response(request.uid, judge(request))
