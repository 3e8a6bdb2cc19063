"""Colour in text reports: whether to use it, and the one place that
paints. Only the verdict words and severity labels are painted; a report
is plain unless the command line turned colour on (hvtune.cli.app), so
reports built by the Python API, piped or compared byte for byte stay
plain."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TextIO

import click

from hvtune.findings import Severity
from hvtune.verdict import Verdict

_ON: ContextVar[bool] = ContextVar("hvtune_colour", default=False)

# (colour, bold): the worse, the redder
_VERDICT = {
    Verdict.WILL_NOT_START: ("red", True),
    Verdict.WILL_NOT_MIGRATE: ("red", False),
    Verdict.SLOW: ("yellow", True),
    Verdict.AT_RISK: ("magenta", False),
    Verdict.OK: ("green", False),
}
_SEVERITY = {
    Severity.ERROR: ("red", True),
    Severity.WARNING: ("yellow", False),
    Severity.INFO: ("cyan", False),
}


def colour_wanted(choice: bool | None, stream: TextIO) -> bool:
    """--color/--no-color when given; else none when $NO_COLOR is set to
    anything but '' (no-color.org) or the terminal is dumb; else colour
    when the stream is a terminal."""
    if choice is not None:
        return choice
    if os.environ.get("NO_COLOR") or os.environ.get("TERM") == "dumb":
        return False
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # no standard output (None), or a closed one
        return False


@contextmanager
def colour(on: bool) -> Iterator[None]:
    """Reports built inside paint (or not)."""
    token = _ON.set(on)
    try:
        yield
    finally:
        _ON.reset(token)


def _paint(text: str, look: tuple[str, bool]) -> str:
    colour_name, bold = look
    return click.style(text, fg=colour_name, bold=bold or None) if _ON.get() else text


def verdict(judged: Verdict) -> str:
    """The verdict's words (WILL NOT START, ..., OK)."""
    return _paint(judged.words, _VERDICT[judged])


def severity(label: str, level: Severity) -> str:
    """A severity label (ERROR, WARNING, info)."""
    return _paint(label, _SEVERITY[level])
