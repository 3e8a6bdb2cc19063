"""The webhook's HTTPS server: one listening socket, one bounded pool of
worker threads (a connection beyond what the pool and its queue hold is
closed at once, not queued without end), TLS negotiated in the worker,
and the handshake and each request (the wait for it included) given a
deadline, so that a client that sends slowly, never finishes or keeps a
connection idle holds a worker for seconds, not forever, while one that
keeps sending requests keeps its connection.

POST /validate takes an AdmissionReview; GET /healthz says the server
is up (for the Deployment's probes)."""

from __future__ import annotations

import contextlib
import json
import socket
import ssl
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

from hvtune.errors import InputError
from hvtune.webhook.admission import MAX_BODY, Judge, ReviewError, answer_review

VALIDATE = "/validate"
HEALTH = "/healthz"
QUEUED_PER_WORKER = 4  # connections waiting for each worker before new ones are closed


def tls_context(cert: str, key: str) -> ssl.SSLContext:
    """A server context with `cert` (its chain) and `key`; InputError names
    the file that is not usable."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    for path in (cert, key):
        if not Path(path).is_file():
            raise InputError(path, None, "no such file (a PEM certificate or key)")
    try:
        context.load_cert_chain(cert, key)
    except (ssl.SSLError, ValueError) as error:
        raise InputError(cert, None, f"the certificate and key {key} are no usable pair: {error}") from None
    return context


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "hvtune-webhook"
    # headers and body leave in two writes: without TCP_NODELAY the body
    # waits for the client's delayed ACK of the headers (~40 ms a request)
    disable_nagle_algorithm = True
    server: WebhookServer

    def _reply(self, status: int, document: dict[str, Any]) -> None:
        data = json.dumps(document).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(data)

    def _refuse(self, status: int, problem: str) -> None:
        self.close_connection = True
        self._reply(status, {"error": problem})

    def do_GET(self) -> None:
        if self.path == HEALTH:
            self._reply(200, {"status": "ok"})
        else:
            self._refuse(404, f"not found; POST AdmissionReviews to {VALIDATE}")

    def do_POST(self) -> None:
        if self.path.split("?", 1)[0] != VALIDATE:
            return self._refuse(404, f"not found; POST AdmissionReviews to {VALIDATE}")
        length = self.headers.get("Content-Length", "")
        if not length.isdigit():
            return self._refuse(411, "a Content-Length is required")
        if int(length) > MAX_BODY:
            return self._refuse(413, f"the body is larger than {MAX_BODY} bytes")
        body = self.rfile.read(int(length))
        if len(body) < int(length):
            self.close_connection = True
            return None
        try:
            review = answer_review(body, self.server.judge)
        except ReviewError as error:
            return self._refuse(400, str(error))
        self._reply(200, review)
        self.server.said(review)
        return None

    def handle_one_request(self) -> None:
        """One request, waited for and read within the deadline: a kept-alive
        connection is reused as long as requests come, cut when one is slow
        or none comes."""
        timer = threading.Timer(self.server.deadline, _cut, (self.connection,))
        timer.start()
        try:
            super().handle_one_request()
        finally:
            timer.cancel()

    def log_message(self, format: str, *args: Any) -> None:
        """Requests are told by WebhookServer.said, one line per review."""


class WebhookServer(HTTPServer):
    """HTTPS on `address` with `workers` threads; a handshake, and each
    request with the wait for it, allowed `deadline` seconds."""

    def __init__(
        self,
        address: tuple[str, int],
        context: ssl.SSLContext,
        judge: Judge,
        *,
        workers: int,
        deadline: float,
        say: Callable[[str], None],
    ):
        super().__init__(address, _Handler)
        self.context, self.judge, self.deadline, self.say = context, judge, deadline, say
        self.pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="hvtune-webhook")
        self.slots = threading.BoundedSemaphore(workers * (1 + QUEUED_PER_WORKER))

    @property
    def url(self) -> str:
        host, port = self.socket.getsockname()[:2]
        return f"https://{host}:{port}{VALIDATE}"

    def said(self, review: dict[str, Any]) -> None:
        answer = review["response"]
        verdict = "allowed" if answer["allowed"] else f"denied: {answer['status']['message']}"
        warned = f" ({len(answer['warnings'])} warnings)" if answer.get("warnings") else ""
        self.say(f"review {answer['uid']}: {verdict}{warned}")

    def process_request(self, request: Any, client_address: Any) -> None:
        if not self.slots.acquire(blocking=False):
            self.shutdown_request(request)
            return
        self.pool.submit(self._serve, request, client_address)

    def _serve(self, request: socket.socket, client_address: Any) -> None:
        """TLS within the deadline, then the requests (each within it too)."""
        timer = threading.Timer(self.deadline, _cut, (request,))
        timer.start()
        try:
            request.settimeout(self.deadline)
            connection = self.context.wrap_socket(request, server_side=True)
            timer.cancel()
            self.finish_request(connection, client_address)
            self.shutdown_request(connection)
        except (OSError, ValueError):
            self.shutdown_request(request)
        finally:
            timer.cancel()
            self.slots.release()

    def server_close(self) -> None:
        super().server_close()
        self.pool.shutdown(wait=True, cancel_futures=True)


def _cut(connection: socket.socket) -> None:
    """End a connection past its deadline: the worker's read returns."""
    with contextlib.suppress(OSError):
        connection.shutdown(socket.SHUT_RDWR)
