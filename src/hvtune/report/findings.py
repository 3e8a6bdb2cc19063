"""Reports of check results, and the finding lines doctor's report shares."""

from __future__ import annotations

import shlex
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Self

from hvtune.errors import printable
from hvtune.findings import CheckResult, Finding, Severity
from hvtune.formats import format_named
from hvtune.formats.json_schema import ConfigObject
from hvtune.jsonrecords import encode
from hvtune.report import style
from hvtune.report.records import FindingRecord
from hvtune.report.text import plural, wrap

_PROGRAM = {"qemu": "QEMU", "libvirt": "libvirt"}
LABEL = {Severity.ERROR: "ERROR", Severity.WARNING: "WARNING", Severity.INFO: "info"}


_LABEL_WIDTH = 11  # "  WARNING  ": what a finding's lines are indented by


def labelled(level: Severity, text: str) -> str:
    """A paragraph under a severity label, with a hanging indent. It is
    wrapped with the plain label and the label painted afterwards, so that
    colour never moves a line break."""
    label = LABEL[level]
    first = f"  {label:<8} "
    return "  " + style.severity(label, level) + wrap(text, " " * _LABEL_WIDTH, first=first)[2 + len(label) :]


def finding_text(finding: Finding) -> str:
    """The finding's message, after the property it is about unless the
    message names it first."""
    named = finding.feature and finding.message.startswith(finding.feature)
    return (f"{finding.feature}: " if finding.feature and not named else "") + finding.message


def fix_text(finding: Finding, spelling: str) -> str | None:
    """The finding's fix as a person editing format `spelling` makes it."""
    if finding.fix and not finding.fix.empty:
        return format_named(spelling).describe(finding.fix)
    return None


def finding_lines(finding: Finding, spelling: str) -> list[str]:
    lines = [labelled(finding.severity, finding_text(finding))]
    fix = fix_text(finding, spelling)
    if fix:
        lines.append(wrap("fix: " + fix, " " * (_LABEL_WIDTH + 5), first=" " * _LABEL_WIDTH))
    return lines


def counts_text(result: CheckResult) -> str:
    if result.problem:
        return f"{_PROGRAM.get(result.refused_by or 'qemu', 'QEMU')} refuses this configuration"
    parts = [plural(result.count(severity), severity.value) for severity in Severity if result.count(severity)]
    return ", ".join(parts) or "no findings"


def result_text(result: CheckResult) -> str:
    lines = [f"{printable(result.source)}: {counts_text(result)}"]
    if result.problem:
        lines.append(labelled(Severity.ERROR, result.problem))
    for finding in result.findings:
        lines += finding_lines(finding, result.format)
    return "\n".join(lines)


@dataclass(frozen=True)
class Summary:
    """How many findings of each severity (a refused configuration counts as an error)."""

    error: int
    warning: int
    info: int

    @classmethod
    def of(cls, results: Sequence[CheckResult]) -> Summary:
        return cls(
            error=sum(r.errors for r in results),
            warning=sum(r.count(Severity.WARNING) for r in results),
            info=sum(r.count(Severity.INFO) for r in results),
        )


def check_text(results: Sequence[CheckResult]) -> str:
    return "".join(result_text(result) + "\n\n" for result in results).removesuffix("\n")


VERIFIED = ("qemu", "libvirt")  # the formats hvtune verify runs


def verify_offer(results: Sequence[CheckResult], files: Sequence[str]) -> str:
    """A closing paragraph offering `hvtune verify` for the files hvtune
    predicts QEMU or libvirt refuses ('' when there are none): it boots the
    sandbox only when the user runs it."""
    refused = [
        result.source
        for result in results
        if result.source in files
        and result.format in VERIFIED
        and (result.refused_by or any(finding.refused_by for finding in result.findings))
    ]
    if not refused:
        return ""
    command = "hvtune verify " + " ".join(shlex.quote(printable(source)) for source in refused)
    return (
        "\n" + wrap(f"To see QEMU's and libvirt's own verdict on a real Hyper-V KVM: {command}", "  ", first="") + "\n"
    )


@dataclass(frozen=True)
class SourceRecord:
    """One source: its configuration, or why QEMU or libvirt (``refused_by``)
    refuses it (``problem``; ``config`` is then null)."""

    source: str
    config: ConfigObject | None
    problem: str | None
    refused_by: str | None

    @classmethod
    def of(cls, result: CheckResult, **more: Any) -> Self:
        """The record of `result`; `more` fills a subclass's own fields."""
        config = ConfigObject.of(result.config) if result.config else None
        return cls(source=result.source, config=config, problem=result.problem, refused_by=result.refused_by, **more)


@dataclass(frozen=True)
class Sourced:
    """The source a record is about, as its first key: a dataclass takes
    the fields of its last base first."""

    source: str


@dataclass(frozen=True)
class CheckFinding(FindingRecord, Sourced):
    """A finding, after the source it is about."""


@dataclass(frozen=True)
class CheckDocument:
    """``hvtune check --format json``: every finding, every source, the
    sources that were no usable input (one line each), and the counts."""

    SCHEMA: ClassVar[str] = "hvtune/check/1"

    findings: tuple[CheckFinding, ...]
    sources: tuple[SourceRecord, ...]
    unusable: tuple[str, ...]
    summary: Summary


def check_json(results: Sequence[CheckResult], unusable: Sequence[str] = ()) -> str:
    return encode(
        CheckDocument(
            findings=tuple(CheckFinding.of(f, source=result.source) for result in results for f in result.findings),
            sources=tuple(SourceRecord.of(result) for result in results),
            unusable=tuple(unusable),
            summary=Summary.of(results),
        )
    )
