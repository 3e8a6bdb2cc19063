"""Reports of hvtune fix."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Self

from hvtune.errors import printable
from hvtune.findings import Finding, Severity
from hvtune.fixing import FileFix, FixOutcome, LiveFix
from hvtune.formats import format_named
from hvtune.formats.json_schema import ChangeObject
from hvtune.jsonrecords import encode
from hvtune.report.records import FindingRecord
from hvtune.report.text import plural, wrap


def _finding_line(finding: Finding, prefix: str) -> str:
    subject = f"{finding.feature}: " if finding.feature and not finding.message.startswith(finding.feature) else ""
    return wrap(subject + finding.message, " " * len(prefix), first=prefix)


def _fixed_lines(outcome: FixOutcome, done: bool) -> list[str]:
    """The plan or each finding fixed ("would fix" when not `done`), then
    what is left."""
    fixed = "fixed" if done else "would fix"
    width = max(len(fixed), len("not now")) + 4

    def label(name: str) -> str:
        return f"  {name:<{width - 2}}"

    spelt = format_named(outcome.format)
    lines = []
    if outcome.plan_change is not None:
        change = spelt.describe(outcome.plan_change) or "nothing: it already is the plan"
        lines.append(wrap(change, " " * width, first=label("plan")))
    for finding in outcome.applied:
        assert finding.fix is not None
        lines.append(_finding_line(finding, label(fixed)))
        lines.append(wrap(spelt.describe(finding.fix), " " * (width + 4), first=" " * width + "by "))
    left = [f for f in outcome.remaining if f.severity is not Severity.INFO]
    for finding in left:
        lines.append(_finding_line(finding, label("left" if finding.fix is None else "not now")))
    return lines


def _summary(outcome: FixOutcome, done: bool) -> str:
    errors = sum(f.severity is Severity.ERROR for f in outcome.remaining)
    left = f"; {plural(errors, 'error')} left that {'needs' if errors == 1 else 'need'} a decision" if errors else ""
    source = printable(outcome.source)
    if outcome.plan_change is not None:
        return f"{source}: {'applied' if done else 'would apply'} hvtune's plan{left}"
    return f"{source}: {'fixed' if done else 'would fix'} {plural(len(outcome.applied), 'finding')}{left}"


def _written(fix: FileFix) -> str:
    if fix.written is None:
        return "nothing to change; wrote nothing" if not fix.outcome.changed else "wrote nothing"
    if fix.backup is None:
        return printable(f"wrote {fix.written}")
    return printable(f"wrote {fix.written} (original kept as {fix.backup})")


def file_text(fix: FileFix) -> str:
    lines = [_summary(fix.outcome, True), *_fixed_lines(fix.outcome, True), _written(fix)]
    return "\n".join(lines) + "\n"


def _next_start(live: LiveFix) -> str:
    if live.running:
        return "at the next boot (the domain is running; its live state was not touched)"
    return "when the domain next starts"


def live_text(live: LiveFix, uri: str) -> str:
    outcome = live.outcome
    done = live.applied or not outcome.changed
    lines = [_summary(outcome, done), *_fixed_lines(outcome, done)]
    if not outcome.changed:
        lines.append("the definition needs no change")
    elif live.applied:
        lines.append(printable(f"saved the definition it replaces as {live.backup}"))
        lines.append(printable(f"redefined {outcome.source} at {uri}; the change applies {_next_start(live)}"))
    else:
        lines += [
            outcome.diff(f"{outcome.source}.xml").rstrip("\n"),
            "nothing changed: run again with --yes to redefine",
        ]
    return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class OutcomeRecord:
    """What fixing one source did or would do: the plan's change
    (``--plan``), the findings fixed, those left, and the diff."""

    source: str
    changed: bool
    plan_change: ChangeObject | None
    applied: tuple[FindingRecord, ...]
    remaining: tuple[FindingRecord, ...]
    diff: str

    @classmethod
    def of(cls, outcome: FixOutcome, **more: Any) -> Self:
        """The record of `outcome`; `more` fills a subclass's own fields."""
        return cls(
            source=outcome.source,
            changed=outcome.changed,
            plan_change=ChangeObject.of(outcome.plan_change) if outcome.plan_change else None,
            applied=tuple(FindingRecord.of(finding) for finding in outcome.applied),
            remaining=tuple(FindingRecord.of(finding) for finding in outcome.remaining),
            diff=outcome.diff(),
            **more,
        )


@dataclass(frozen=True)
class FixDocument(OutcomeRecord):
    """``hvtune fix FILE --format json``: the file written (null: none) and
    where the original was kept."""

    SCHEMA: ClassVar[str] = "hvtune/fix/1"

    written: str | None
    backup: str | None


@dataclass(frozen=True)
class LiveFixDocument(OutcomeRecord):
    """``hvtune fix --connect URI DOMAIN --format json``: whether the domain
    was redefined, where its previous definition was saved, and whether it
    was running (the change then applies at its next boot)."""

    SCHEMA: ClassVar[str] = "hvtune/fix-connect/1"

    uri: str
    redefined: bool
    backup: str | None
    running: bool


def file_json(fix: FileFix) -> str:
    return encode(FixDocument.of(fix.outcome, written=fix.written, backup=fix.backup))


def live_json(live: LiveFix, uri: str) -> str:
    return encode(
        LiveFixDocument.of(live.outcome, uri=uri, redefined=live.applied, backup=live.backup, running=live.running)
    )


def exit_code(outcome: FixOutcome) -> int:
    """1 when errors remain after fixing, else 0."""
    return 1 if any(f.severity is Severity.ERROR for f in outcome.remaining) else 0
