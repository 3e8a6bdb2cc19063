"""Where findings stand in their sources: the line of each finding, as the
format that read the source places it (the element, -cpu token or key
that spells the property, else where it would be written), for reports
that point at lines (SARIF)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from hvtune.findings import CheckResult
from hvtune.formats import format_named


@dataclass(frozen=True)
class Placed:
    """A result, the file it came from (None: a daemon's domain, a --cpu
    value, standard input or a bundled example) and, for each finding in
    order, its line there (None: not known)."""

    result: CheckResult
    path: str | None
    lines: tuple[int | None, ...]


def finding_lines(result: CheckResult) -> tuple[int | None, ...]:
    """The line of each of `result`'s findings in the text it was read from."""
    reading = result.reading
    if reading is None:
        return (None,) * len(result.findings)
    return tuple(format_named(reading.format).lines(reading, [finding.feature for finding in result.findings]))


def place(results: Iterable[CheckResult], files: Sequence[str]) -> list[Placed]:
    """Each result with its lines; a result is a file's when its source is
    one of `files` (the paths named on the command line)."""
    named = {name for name in files if name != "-"}
    return [
        Placed(result, result.source if result.source in named else None, finding_lines(result)) for result in results
    ]
