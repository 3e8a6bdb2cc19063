"""Reports of check and doctor results."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from hvtune.errors import printable
from hvtune.findings import CheckResult, Finding, Severity
from hvtune.formats import format_named
from hvtune.formats.json import to_json
from hvtune.report.text import plural, wrap

if TYPE_CHECKING:
    from hvtune.doctor import DoctorReport
    from hvtune.host.profile import HostProfile

_PROGRAM = {"qemu": "QEMU", "libvirt": "libvirt"}
_LABEL = {Severity.ERROR: "ERROR", Severity.WARNING: "WARNING", Severity.INFO: "info"}
_VERDICT = {Severity.ERROR: "WILL NOT START", Severity.WARNING: "AT RISK", Severity.INFO: "OK (notes)", None: "OK"}
_VERDICT_KEY = {Severity.ERROR: "will-not-start", Severity.WARNING: "at-risk", Severity.INFO: "ok", None: "ok"}


def _finding_lines(finding: Finding, spelling: str) -> list[str]:
    label = f"  {_LABEL[finding.severity]:<8} "
    named = finding.feature and finding.message.startswith(finding.feature)
    subject = f"{finding.feature}: " if finding.feature and not named else ""
    lines = [wrap(subject + finding.message, " " * len(label), first=label)]
    if finding.fix and finding.fix.values:
        fix = "fix: " + format_named(spelling).describe(finding.fix)
        lines.append(wrap(fix, " " * (len(label) + 5), first=" " * len(label)))
    return lines


def _counts(result: CheckResult) -> str:
    if result.problem:
        return f"{_PROGRAM.get(result.refused_by or 'qemu', 'QEMU')} refuses this configuration"
    parts = [plural(result.count(severity), severity.value) for severity in Severity if result.count(severity)]
    return ", ".join(parts) or "no findings"


def result_text(result: CheckResult, *, verdict: bool = False) -> str:
    source = printable(result.source)
    head = f"{source}: {_counts(result)}"
    if verdict:
        head = f"{source}  {_VERDICT[result.worst]}  ({_counts(result)})"
    lines = [head]
    if result.problem:
        lines.append(wrap(result.problem, " " * 11, first=f"  {'ERROR':<8} "))
    for finding in result.findings:
        lines += _finding_lines(finding, result.format)
    return "\n".join(lines)


def summary(results: Sequence[CheckResult]) -> dict[str, int]:
    return {
        "error": sum(r.errors for r in results),
        "warning": sum(r.count(Severity.WARNING) for r in results),
        "info": sum(r.count(Severity.INFO) for r in results),
    }


def check_text(results: Sequence[CheckResult]) -> str:
    return "".join(result_text(result) + "\n\n" for result in results).removesuffix("\n")


def _source_json(result: CheckResult) -> dict[str, Any]:
    return {
        "source": result.source,
        "config": to_json(result.config) if result.config else None,
        "problem": result.problem,
        "refused_by": result.refused_by,
    }


def check_json(results: Sequence[CheckResult], unusable: Sequence[str] = ()) -> str:
    document = {
        "findings": [
            {"source": result.source, **finding.to_json()} for result in results for finding in result.findings
        ],
        "sources": [_source_json(result) for result in results],
        "unusable": list(unusable),
        "summary": summary(results),
    }
    return json.dumps(document, indent=2) + "\n"


def _host_line(host: HostProfile | None) -> str:
    if host is None:
        return "Judged without a host (--host names one)."
    origin = f"probed {host.probed}" if host.probed else "bundled profile"
    return wrap(f"Judged on host {host.name} ({origin}): {host.status}.", "")


def doctor_text(report: DoctorReport) -> str:
    results = report.results
    note = "\n".join(wrap(line + ".", "") for line in f"hvtune doctor {report.note}".split("\n"))
    blocks = [note + "\n" + _host_line(report.host)]
    blocks += [result_text(result, verdict=True) for result in results]
    stopped = sum(1 for r in results if r.worst is Severity.ERROR)
    at_risk = sum(1 for r in results if r.worst is Severity.WARNING)
    fine = len(results) - stopped - at_risk
    summary_line = f"Summary: {plural(len(results), 'VM')}: {stopped} will not start, {at_risk} at risk, {fine} fine"
    if report.unusable:
        summary_line += f"; {plural(len(report.unusable), 'file')} could not be used (named on standard error)"
    blocks.append(summary_line + ".")
    return "\n\n".join(blocks) + "\n"


def doctor_json(report: DoctorReport) -> str:
    host = report.host
    document = {
        "origin": report.origin,
        "note": report.note,
        "host": None if host is None else {"name": host.name, "probed": host.probed, "status": host.status},
        "vms": [
            {
                **_source_json(result),
                "verdict": _VERDICT_KEY[result.worst],
                "findings": [finding.to_json() for finding in result.findings],
            }
            for result in report.results
        ],
        "unusable": list(report.unusable),
        "summary": summary(report.results),
    }
    return json.dumps(document, indent=2) + "\n"
