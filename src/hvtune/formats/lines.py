"""Lines of a text: the line endings a text hvtune edits or writes anew
keeps, and the line an offset is on."""

from __future__ import annotations


def line_ending(text: str) -> str:
    """The line ending a text uses: CRLF when most of its lines end so."""
    if "\r" not in text:
        return "\n"
    return "\r\n" if text.count("\r\n") * 2 > text.count("\n") else "\n"


def with_line_ending(text: str, ending: str) -> str:
    """`text`, written with "\\n", with `ending` instead."""
    return text if ending == "\n" else text.replace("\n", ending)


def line_at(text: str, offset: int) -> int:
    """The line (from 1) that character `offset` of `text` is on."""
    return text.count("\n", 0, offset) + 1
