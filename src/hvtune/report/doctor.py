"""doctor's report: for each host, its own problems said once, then every
VM with its verdict (WILL NOT START > WILL NOT MIGRATE > SLOW > AT RISK >
OK) and only the findings that are its own, most urgent first; with several
hosts, a summary per host."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar, Literal, cast

from hvtune.errors import printable
from hvtune.findings import CheckResult, Severity
from hvtune.jsonrecords import encode
from hvtune.report import style
from hvtune.report.findings import SourceRecord, Summary, counts_text, finding_lines, labelled
from hvtune.report.records import FindingRecord
from hvtune.report.text import plural, wrap
from hvtune.verdict import Verdict, biggest_loss, result_verdict

if TYPE_CHECKING:
    from hvtune.doctor import DoctorReport
    from hvtune.host.profile import HostProfile

Origin = Literal["files", "libvirt", "examples"]


def verdict(report: DoctorReport, result: CheckResult) -> Verdict:
    return result_verdict(result, migratable=report.migratable)


def host_problems(report: DoctorReport) -> dict[str, list[str]]:
    """Each problem of the host itself (a finding's ``host``), with the VMs
    it touches, in the order first met."""
    touched: dict[str, list[str]] = {}
    for result in report.results:
        for problem in dict.fromkeys(f.host for f in result.findings if f.host):
            touched.setdefault(problem, []).append(result.source)
    return touched


def _host_line(host: HostProfile | None) -> str:
    if host is None:
        return "Judged without a host (--host names one)."
    origin = f"probed {host.probed}" if host.probed else "bundled profile"
    return wrap(f"Judged on host {host.name} ({origin}): {host.status}.", "")


def _named(host: HostProfile | None) -> str:
    return f" ({printable(host.name)})" if host else ""


def _head(report: DoctorReport, result: CheckResult) -> str:
    judged = verdict(report, result)
    loss = biggest_loss(result.findings) if judged is Verdict.SLOW else None
    title = style.verdict(judged) + (f": {loss}" if loss else "")
    return f"{printable(result.source)}  {title}  ({counts_text(result)})"


def _vm_text(report: DoctorReport, result: CheckResult, told: dict[tuple[str, str, str], str]) -> str:
    """A VM's block: its verdict, one line for what this host does to it,
    then its own findings; a finding already told in full for an earlier VM
    (in the same spelling) is named with that VM."""
    lines = [_head(report, result)]
    if result.problem:
        lines.append(labelled(Severity.ERROR, result.problem))
    from_host = [f for f in result.findings if f.host]
    if from_host:
        worst = min(from_host, key=lambda f: f.severity.rank).severity
        features = [f.feature for f in from_host if f.feature]
        rest = ["the rest dropped"] if any(f.feature is None for f in from_host) else []
        names = ", ".join([*dict.fromkeys(features), *rest])
        lines.append(labelled(worst, f"because of this host (above): {names}"))
    for finding in result.findings:
        if finding.host:
            continue
        key = (finding.code, finding.message, result.format)
        if key in told:
            subject = finding.feature or finding.code
            lines.append(labelled(finding.severity, f"{subject}: as for {told[key]} above"))
            continue
        told[key] = printable(result.source)
        lines += finding_lines(finding, result.format)
    return "\n".join(lines)


def _tally(report: DoctorReport) -> Counter[Verdict]:
    return Counter(verdict(report, result) for result in report.results)


def _summary_line(report: DoctorReport) -> str:
    tally = _tally(report)
    shown = [Verdict.WILL_NOT_START, *([Verdict.WILL_NOT_MIGRATE] if report.migratable else []), Verdict.SLOW]
    parts = [f"{tally[v]} {v.words.lower()}" for v in (*shown, Verdict.AT_RISK)] + [f"{tally[Verdict.OK]} fine"]
    line = f"Summary: {plural(len(report.results), 'VM')}: {', '.join(parts)}"
    if report.unusable:
        line += f"; {plural(len(report.unusable), 'file')} could not be used (named on standard error)"
    line += "."
    if report.origin == "examples":
        line += " These are hvtune's examples, not your VMs: the exit code speaks only for your own (0 here)."
    return line


def host_section_text(report: DoctorReport) -> str:
    note = "\n".join(wrap(line + ".", "") for line in f"hvtune doctor {report.note}".split("\n"))
    blocks = [note + "\n" + _host_line(report.host)]
    problems = host_problems(report)
    if problems:
        lines = [
            f"This host{_named(report.host)}, for {len(vms)} of {plural(len(report.results), 'VM')}: {problem}"
            for problem, vms in problems.items()
        ]
        blocks.append("\n".join(wrap(line + ".", "  ") for line in lines))
    told: dict[tuple[str, str, str], str] = {}
    blocks += [_vm_text(report, result, told) for result in report.results]
    blocks.append(_summary_line(report))
    return "\n\n".join(blocks) + "\n"


def doctor_text(reports: Sequence[DoctorReport]) -> str:
    """One host: its section. Several: each under its URI, then a table of
    verdicts per host."""
    if len(reports) == 1:
        return host_section_text(reports[0])
    sections = [f"== {report.uri or 'this machine'} ==\n\n" + host_section_text(report) for report in reports]
    names = [printable(report.uri or "this machine") for report in reports]
    width = max(len(name) for name in [*names, "host"])
    columns = list(Verdict)
    header = f"{'host':<{width}}  {'VMs':>4}  " + "  ".join(f"{v.words.lower():>16}" for v in columns)
    rows = [header]
    for name, report in zip(names, reports, strict=True):
        tally = _tally(report)
        rows.append(f"{name:<{width}}  {len(report.results):>4}  " + "  ".join(f"{tally[v]:>16}" for v in columns))
    return "\n".join(sections) + "\nHosts:\n" + "\n".join(rows) + "\n"


@dataclass(frozen=True)
class JudgedHost:
    """The host doctor judged against: ``probed`` is when (null: a bundled profile)."""

    name: str
    probed: str | None
    status: str


@dataclass(frozen=True)
class HostProblem:
    """A problem of the host itself, said once, and the VMs it touches."""

    problem: str
    vms: tuple[str, ...]


@dataclass(frozen=True)
class VmRecord(SourceRecord):
    """One VM: its source, its verdict (with the biggest loss when it is
    slow) and its findings."""

    verdict: Verdict
    biggest_loss: str | None
    findings: tuple[FindingRecord, ...]


@dataclass(frozen=True)
class VerdictCounts:
    """How many VMs got each verdict."""

    will_not_start: int
    will_not_migrate: int
    slow: int
    at_risk: int
    ok: int


@dataclass(frozen=True)
class HostSection:
    """What doctor looked at on one host (``uri``: the libvirt daemon
    named, null for this machine) and why (``origin``, ``note``), the host
    judged on, its own problems, every VM most urgent first, the files that
    were no VM definition, and the counts."""

    uri: str | None
    origin: Origin
    note: str
    host: JudgedHost | None
    host_problems: tuple[HostProblem, ...]
    vms: tuple[VmRecord, ...]
    unusable: tuple[str, ...]
    summary: Summary
    verdicts: VerdictCounts


@dataclass(frozen=True)
class DoctorDocument:
    """``hvtune doctor --format json``: a section per host (one unless
    --connect was repeated)."""

    SCHEMA: ClassVar[str] = "hvtune/doctor/2"

    hosts: tuple[HostSection, ...]


def _counts(report: DoctorReport) -> VerdictCounts:
    tally = _tally(report)
    return VerdictCounts(**{v.name.lower(): tally[v] for v in Verdict})


def _vm(report: DoctorReport, result: CheckResult) -> VmRecord:
    judged = verdict(report, result)
    return VmRecord.of(
        result,
        verdict=judged,
        biggest_loss=biggest_loss(result.findings) if judged is Verdict.SLOW else None,
        findings=tuple(FindingRecord.of(finding) for finding in result.findings),
    )


def _section(report: DoctorReport) -> HostSection:
    host = report.host
    return HostSection(
        uri=report.uri,
        origin=cast(Origin, report.origin),
        note=report.note,
        host=None if host is None else JudgedHost(host.name, host.probed, host.status),
        host_problems=tuple(HostProblem(p, tuple(vms)) for p, vms in host_problems(report).items()),
        vms=tuple(_vm(report, result) for result in report.results),
        unusable=tuple(map(str, report.unusable)),
        summary=Summary.of(report.results),
        verdicts=_counts(report),
    )


def doctor_json(reports: Sequence[DoctorReport]) -> str:
    return encode(DoctorDocument(hosts=tuple(_section(report) for report in reports)))
