"""A VM object of an AdmissionReview judged as `hvtune check` judges a
KubeVirt manifest: denied when it would not start, or not migrate when its
eviction strategy says it must live-migrate (``--deny-on slow``: also when
slow; ``warning``: at any warning); otherwise allowed, each warning one
warning of the response. Only what hvtune can judge is judged: another
operation or kind, or an object it cannot read, is allowed (the latter
with a warning saying why) — KubeVirt's own webhook still guards it."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from hvtune.checking import check_reading
from hvtune.errors import InputError
from hvtune.findings import CheckResult, Finding, Severity
from hvtune.formats.kubevirt import read_vm
from hvtune.host.profile import HostProfile
from hvtune.plan import Goals
from hvtune.report.findings import finding_text, fix_text
from hvtune.verdict import Verdict, fails, result_verdict, verdict_of
from hvtune.webhook.admission import Answer, Judge, Request

JUDGED_KINDS = ("VirtualMachine", "VirtualMachineInstance")
JUDGED_OPERATIONS = ("CREATE", "UPDATE")
MIGRATING = ("LiveMigrate",)  # eviction strategies under which the VM must migrate
_STOPPING = (Verdict.WILL_NOT_START, Verdict.WILL_NOT_MIGRATE)


def _told(finding: Finding, *, migratable: bool) -> str:
    """A finding in one line, after the verdict it gives on its own."""
    verdict = verdict_of([finding], migratable=migratable).words
    fix = fix_text(finding, "kubevirt")
    return f"hvtune: {verdict}: {finding_text(finding)}" + (f" Fix: {fix}." if fix else "")


def _migrates(obj: Mapping[str, Any]) -> bool:
    spec = obj.get("spec")
    if isinstance(spec, Mapping) and obj.get("kind") == "VirtualMachine":
        template = spec.get("template")
        spec = template.get("spec") if isinstance(template, Mapping) else None
    return isinstance(spec, Mapping) and spec.get("evictionStrategy") in MIGRATING


def denied(result: CheckResult, deny_on: str, *, migratable: bool) -> bool:
    """Whether `result` is denied under `deny_on` (error, slow, warning)."""
    if deny_on == "error":
        return result_verdict(result, migratable=migratable) in _STOPPING
    return fails(result, deny_on, migratable=migratable)


def answer(result: CheckResult, deny_on: str, *, migratable: bool) -> Answer:
    """The answer for a checked VM: the reason to deny is its most urgent
    finding; warnings are its warnings, most urgent first."""
    verdict = result_verdict(result, migratable=migratable)
    if result.problem:
        return Answer(False, f"hvtune: {verdict.words}: {result.problem}")
    warned = [f for f in result.findings if f.severity is Severity.WARNING]
    if not denied(result, deny_on, migratable=migratable):
        return Answer(True, None, tuple(_told(f, migratable=migratable) for f in warned))
    # the first finding that gives the verdict; under --deny-on warning, of any warning
    reason = next(
        (f for f in result.findings if verdict_of([f], migratable=migratable) is verdict),
        next(f for f in result.findings if f.severity is not Severity.INFO),
    )
    others = tuple(_told(f, migratable=migratable) for f in warned if f is not reason)
    return Answer(False, _told(reason, migratable=migratable), others)


def make_judge(
    *, host: HostProfile | None, deny_on: str, goals: Goals | None = None, say: Callable[[str], None]
) -> Judge:
    """The judge the server asks for each review."""

    def judge(request: Request) -> Answer:
        obj = request.obj
        if obj is None or request.operation not in JUDGED_OPERATIONS or request.kind not in JUDGED_KINDS:
            return Answer(True)
        source = f"{request.kind} {request.namespace}/{request.name}".rstrip("/")
        try:
            reading = read_vm(obj, source=source)
        except InputError as error:
            return Answer(True, None, (f"hvtune could not judge this VM: {error.located}",))
        try:
            result = check_reading(reading, host=host, goals=goals)
        except Exception as error:  # a defect of hvtune must not stop the cluster's VMs
            say(f"internal error judging review {request.uid}: {type(error).__name__}: {error}")
            return Answer(True, None, ("hvtune could not judge this VM (an internal error; see its log)",))
        return answer(result, deny_on, migratable=_migrates(obj))

    return judge
