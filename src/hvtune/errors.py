"""The one error type for unusable input: it names the source, the place and
the problem, and the CLI prints it as one line and exits 2. Also the one
function that keeps a message on one line, whatever it quotes."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

# C0 and C1 controls, DEL, and the Unicode line and paragraph separators:
# anything a terminal or a log reader could take for a line break or a
# command.
CONTROL_CHARACTERS = "\x00-\x1f\x7f-\x9f\u2028\u2029"  # as a regular expression class
_CONTROL = re.compile(f"[{CONTROL_CHARACTERS}]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escaped(match: re.Match[str]) -> str:
    char = match.group()
    return _NAMED.get(char) or (f"\\x{ord(char):02x}" if ord(char) < 0x100 else f"\\u{ord(char):04x}")


def has_control_characters(text: str) -> bool:
    """Whether `text` holds a character `printable` would escape."""
    return _CONTROL.search(text) is not None


def printable(text: str) -> str:
    """`text` with every control character written as an escape (``\\n``,
    ``\\x00``, ``\\u2028``), so that a quoted value can never break a message
    line or drive the terminal."""
    return _CONTROL.sub(_escaped, text) if _CONTROL.search(text) else text


_LINE = re.compile(r"line (\d+)\b")


class InputError(Exception):
    """Input hvtune cannot use: a bad file, value or option.

    ``source`` is a file name or an option (``--cpu``); ``place`` says where in
    it (``line 3``, ``-cpu token 4``); ``problem`` says what is wrong. Printed,
    every control character in them is escaped.
    """

    def __init__(self, source: str, place: str | None, problem: str):
        self.source = source
        self.place = place
        self.problem = problem
        super().__init__(str(self))

    def __str__(self) -> str:
        return f"{printable(self.source)}: {self.located}"

    @property
    def located(self) -> str:
        """The place and the problem, without the source."""
        return printable(f"{self.place}: {self.problem}" if self.place else self.problem)

    @property
    def line(self) -> int | None:
        """The line of the source the problem is on, when the place starts
        with one (``line 9, -cpu token 8 ...``)."""
        found = _LINE.match(self.place or "")
        return int(found.group(1)) if found else None

    def within(self, source: str, place: str | None = None) -> InputError:
        """The same problem, reported against an enclosing source and place
        (a -cpu value found on line 12 of a file, say)."""
        places = ", ".join(p for p in (place, self.place) if p)
        return InputError(source, places or None, self.problem)


@dataclass(frozen=True)
class Correction:
    """The one rewrite of a refused token that surely says what was meant
    (a misspelt property with a single close name): the token `written`,
    its replacement `meant`, the property `name` and `value` it then sets,
    and `text`, the whole input with only that token rewritten."""

    written: str
    meant: str
    name: str
    value: bool | int | str
    text: str


class Refusal(InputError):
    """A configuration hvtune can read but that the program reading it
    (``by``: ``qemu`` or ``libvirt``) refuses outright, such as an unknown
    hv-* property or a state libvirt does not know. It is unusable input to
    `check`, and to `doctor` a VM that will not start. A refused unknown
    name (`unknown`) may carry the `correction` hvtune can make alone."""

    def __init__(
        self,
        by: str,
        source: str,
        place: str | None,
        problem: str,
        *,
        said: str | None = None,
        unknown: bool = False,
        correction: Correction | None = None,
    ):
        super().__init__(source, place, problem)
        self.by = by
        self.said = said  # the program's own line, when hvtune knows it exactly
        self.unknown = unknown
        self.correction = correction

    def within(self, source: str, place: str | None = None) -> Refusal:
        moved = super().within(source, place)
        return self._as(moved.source, moved.place, moved.problem, self.correction)

    def corrected_in(self, text: str) -> Refusal:
        """The same refusal, its correction's text now `text` (the whole
        input, when the refused part was read from within it)."""
        if self.correction is None:
            return self
        return self._as(self.source, self.place, self.problem, replace(self.correction, text=text))

    def _as(self, source: str, place: str | None, problem: str, correction: Correction | None) -> Refusal:
        return Refusal(self.by, source, place, problem, said=self.said, unknown=self.unknown, correction=correction)
