"""The release matrix's agreement, counted as the tests go and printed as
one table at the end of the run (tests/conftest.py): per release and
judge, how many cases were run and how many agreed with hvtune."""

from __future__ import annotations

from collections import defaultdict

# (release, judge) -> [cases, agreed]
_COUNTS: defaultdict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])


def count(release: str, judge: str, cases: int, agreed: int) -> None:
    counted = _COUNTS[(release, judge)]
    counted[0] += cases
    counted[1] += agreed


def agreement_table() -> list[str]:
    """The table's lines (none when no matrix test ran)."""
    if not _COUNTS:
        return []
    lines = [f"{'release':<10} {'judge':<10} {'cases':>6} {'agreed':>7} {'disagreed':>10}"]
    for (release, judge), (cases, agreed) in sorted(_COUNTS.items()):
        lines.append(f"{release:<10} {judge:<10} {cases:>6} {agreed:>7} {cases - agreed:>10}")
    return lines
