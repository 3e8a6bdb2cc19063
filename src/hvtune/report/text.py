"""Small helpers shared by the text reports."""

from __future__ import annotations

import textwrap

from hvtune.errors import printable

WIDTH = 100


def wrap(text: str, indent: str, first: str | None = None) -> str:
    """Wrap a paragraph to the report width with a hanging indent; control
    characters in it (from a quoted value) are escaped first."""
    return textwrap.fill(
        printable(text),
        width=WIDTH,
        initial_indent=first if first is not None else indent,
        subsequent_indent=indent,
        break_long_words=False,
        break_on_hyphens=False,
    )


def plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"
