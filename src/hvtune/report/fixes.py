"""Reports of hvtune fix."""

from __future__ import annotations

from hvtune.findings import Finding, Severity
from hvtune.fixing import FixOutcome, LiveFix
from hvtune.report.text import plural, wrap


def _finding_line(finding: Finding, prefix: str) -> str:
    subject = f"{finding.feature}: " if finding.feature and not finding.message.startswith(finding.feature) else ""
    return wrap(subject + finding.message, " " * len(prefix), first=prefix)


def _fixed_lines(outcome: FixOutcome) -> list[str]:
    lines = []
    for finding in outcome.applied:
        assert finding.fix is not None
        lines.append(_finding_line(finding, "  fixed    "))
        lines.append(wrap(finding.fix.describe(), " " * 15, first=" " * 11 + "by "))
    left = [f for f in outcome.remaining if f.severity is not Severity.INFO]
    for finding in left:
        label = "  left     " if finding.fix is None else "  not now  "
        lines.append(_finding_line(finding, label))
    return lines


def _summary(outcome: FixOutcome) -> str:
    errors = sum(f.severity is Severity.ERROR for f in outcome.remaining)
    left = f"; {plural(errors, 'error')} left that need a decision" if errors else ""
    return f"{outcome.source}: fixed {plural(len(outcome.applied), 'finding')}{left}"


def file_text(outcome: FixOutcome, written: str) -> str:
    return "\n".join([_summary(outcome), *_fixed_lines(outcome), written]) + "\n"


def live_text(live: LiveFix, uri: str) -> str:
    outcome = live.outcome
    lines = [_summary(outcome), *_fixed_lines(outcome)]
    if not outcome.changed:
        lines.append("the definition needs no change")
    elif live.applied:
        when = (
            "at the next boot (the domain is running; its live state was not touched)"
            if live.running
            else ("when the domain next starts")
        )
        lines.append(f"redefined {outcome.source} at {uri}; the change applies {when}")
    else:
        lines += [
            outcome.diff(f"{outcome.source}.xml").rstrip("\n"),
            "nothing changed: run again with --yes to redefine",
        ]
    return "\n".join(lines) + "\n"


def exit_code(outcome: FixOutcome) -> int:
    """1 when errors remain after fixing, else 0."""
    return 1 if any(f.severity is Severity.ERROR for f in outcome.remaining) else 0
