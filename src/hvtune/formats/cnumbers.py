"""C's strtol family, as QEMU and libvirt parse numbers with it.

Both read integers with ``strtoul``/``strtoll`` and friends: leading C white
space, an optional sign, then ASCII digits in a base (0 means: ``0x``
hexadecimal, a leading ``0`` octal, else decimal). Nothing else is a digit
to them: Unicode digits, superscripts and underscores are refused.
"""

from __future__ import annotations

from typing import NamedTuple

C_SPACE = " \t\n\v\f\r"
_DIGITS = {8: frozenset("01234567"), 10: frozenset("0123456789"), 16: frozenset("0123456789abcdefABCDEF")}
# More significant digits than any 64-bit value has in any base (octal: 22):
# such a number is out of range without converting it (and Python refuses to
# convert very long digit strings at all).
_MAX_DIGITS = 23
OVERFLOW = 2**64  # stands for any magnitude beyond 64 bits


class CInteger(NamedTuple):
    """What strto(u)l(l) read: the magnitude (OVERFLOW when it has more
    digits than 64 bits hold) and whether a minus sign came first."""

    magnitude: int
    negative: bool


def c_integer(text: str, base: int = 0) -> CInteger | None:
    """The whole of `text` read as a C integer in `base` (0, 8, 10 or 16),
    or None when any of it is not part of the number."""
    rest = text.lstrip(C_SPACE)
    negative = rest[:1] == "-"
    if rest[:1] in ("+", "-"):
        rest = rest[1:]
    if base in (0, 16) and rest[:2] in ("0x", "0X") and rest[2:3] and rest[2] in _DIGITS[16]:
        base, rest = 16, rest[2:]
    elif base == 0:
        base = 8 if rest.startswith("0") else 10
    if not rest or not _DIGITS[base].issuperset(rest):
        return None
    significant = rest.lstrip("0")
    if len(significant) > _MAX_DIGITS:
        return CInteger(OVERFLOW, negative)
    return CInteger(int(significant or "0", base), negative)


def ascii_digits(text: str) -> bool:
    """Whether `text` is one or more ASCII decimal digits (str.isdigit also
    takes Unicode digits and superscripts, which no C parser does)."""
    return bool(text) and _DIGITS[10].issuperset(text)
