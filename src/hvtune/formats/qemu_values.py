"""QEMU's value syntax for CPU properties given on ``-cpu``.

These mirror the C parsers QEMU uses for global properties: ``qapi_bool_parse``
for booleans (BOOL_WORDS), ``qemu_strtou64``/``qemu_strtoi64`` (C ``strtoull``/``strtoll``
with base 0) for integers, QAPI enum lookup for on/off/auto, and
``qemu_strtosz_metric`` for ``tsc-freq``. Each returns None where QEMU refuses.
"""

from __future__ import annotations

import math
import re

from hvtune.formats.cnumbers import C_SPACE, c_integer

_UINT64_MAX = 2**64 - 1
_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1

TRUE_WORDS = ("on", "yes", "true", "y")
FALSE_WORDS = ("off", "no", "false", "n")
# QEMU's qapi_bool_parse: exact, case-sensitive words only.
BOOL_WORDS = {**dict.fromkeys(TRUE_WORDS, True), **dict.fromkeys(FALSE_WORDS, False)}


def parse_unsigned(text: str) -> int | None:
    """qemu_strtou64 with base 0. Like strtoull, a minus sign wraps around
    (so "-0" is 0 and "-1" is 2**64-1); None when the text is no number or
    exceeds 64 bits."""
    parsed = c_integer(text)
    if parsed is None or parsed.magnitude > _UINT64_MAX:
        return None
    magnitude, negative = parsed
    return (-magnitude) % 2**64 if negative else magnitude


def parse_signed(text: str) -> int | None:
    """qemu_strtoi64 with base 0; None when the text is no number or out of
    the int64 range."""
    parsed = c_integer(text)
    if parsed is None:
        return None
    value = -parsed.magnitude if parsed.negative else parsed.magnitude
    return value if _INT64_MIN <= value <= _INT64_MAX else None


_SUFFIX_POWER = {"B": 0, "K": 1, "M": 2, "G": 3, "T": 4, "P": 5, "E": 6}
_DECIMAL = re.compile(r"[0-9]+")
_HEX = re.compile(r"[xX]([0-9a-fA-F]+)")
# QEMU reads the fraction as a double (strtod): digits past the 40th cannot
# change it.
_FRACTION_DIGITS = 40
_FRACTION = re.compile(r"\.([0-9]+)([eE][+-]?[0-9]*)?")


def _magnitude(digits: str, base: int) -> int:
    parsed = c_integer(digits, base)
    assert parsed is not None  # matched as digits of that base
    return parsed.magnitude


def parse_metric_size(text: str) -> int | None:
    """qemu_strtosz_metric as ``-cpu tsc-freq=`` uses it: a decimal number,
    an optional fraction, an optional suffix B/K/M/G/T/P/E (powers of 1000,
    any case); a fraction needs a suffix other than B. Hex ("0x...") is
    accepted without a fraction. None where QEMU says "bad numerical value"."""
    rest = text.lstrip(C_SPACE)
    if rest[:1] == "-":
        return None
    if rest[:1] == "+":
        rest = rest[1:]
    match = _DECIMAL.match(rest)
    if not match:
        return None
    integral, rest = _magnitude(match.group(), 10), rest[match.end() :]
    fraction_bits = 0
    if integral == 0 and rest[:1] in ("x", "X"):
        hex_match = _HEX.match(rest)
        if not hex_match:
            return None
        integral, rest = _magnitude(hex_match.group(1), 16), rest[hex_match.end() :]
        if rest[:1] == ".":
            return None
    elif rest[:1] == ".":
        fraction = _FRACTION.match(rest)
        if fraction and fraction.group(2) is not None:
            return None  # QEMU refuses exponents
        if fraction:
            fraction_bits = int(float("0." + fraction.group(1)[:_FRACTION_DIGITS]) * 2**64)
            rest = rest[fraction.end() :]
        else:
            rest = rest[1:]
    power = _SUFFIX_POWER.get(rest[:1].upper()) if rest else None
    if power is not None:
        rest = rest[1:]
    if rest:
        return None
    multiplier = 1000 ** (power or 0)
    if multiplier == 1:
        if fraction_bits:
            return None
        value = integral
    else:
        scaled_fraction = fraction_bits * multiplier
        value = integral * multiplier + (scaled_fraction >> 64) + ((scaled_fraction >> 63) & 1)
    return value if value <= _UINT64_MAX else None


# C strtod's longest number at the start of a text: hexadecimal (with a
# binary exponent) before decimal, an exponent only when digits follow it;
# ASCII digits only.
_STRTOD_HEX = re.compile(r"[+-]?0[xX](?:[0-9a-fA-F]+\.?[0-9a-fA-F]*|\.[0-9a-fA-F]+)(?:[pP][+-]?[0-9]+)?")
_STRTOD_DECIMAL = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_SMALLEST_NORMAL = 2.2250738585072014e-308
_BELOW_2_64 = math.nextafter(2.0**64, 0)


def _strtod(text: str) -> tuple[float, str] | None:
    """C strtod as QEMU's qemu_strtod_finite calls it: the finite value at
    the start of `text` and the rest; None where strtod converts nothing,
    reports ERANGE (overflow, underflow) or reads an infinity or NaN (which
    these expressions never match)."""
    rest = text.lstrip(C_SPACE)
    hexadecimal = _STRTOD_HEX.match(rest)
    match = hexadecimal or _STRTOD_DECIMAL.match(rest)
    if not match:
        return None
    try:
        value = float.fromhex(match.group()) if hexadecimal else float(match.group())
    except OverflowError:
        return None
    mantissa = re.split("[pPeE]", match.group().lower().removeprefix("+").removeprefix("-").removeprefix("0x"))[0]
    tiny = abs(value) < _SMALLEST_NORMAL and mantissa.strip("0.") != ""
    if math.isinf(value) or tiny:
        return None
    return value, rest[match.end() :]


def parse_metric_size_double(text: str) -> int | None:
    """qemu_strtosz_metric before QEMU 6.0 (cf923b783efd moved it to 64-bit
    fixed point): the number is read with strtod, so exponents and
    hexadecimal fractions pass, a fraction needs a suffix other than B, the
    product is a double truncated to an integer, and values of 2**64 or
    more and negative ones are refused. None where QEMU says "bad
    numerical value"."""
    parsed = _strtod(text)
    if parsed is None:
        return None
    value, rest = parsed
    power = _SUFFIX_POWER.get(rest[:1].upper()) if rest else None
    if power is not None:
        rest = rest[1:]
    multiplier = float(1000 ** (power or 0))
    if rest or (multiplier == 1 and value != math.floor(value)):
        return None
    product = value * multiplier
    if product > _BELOW_2_64 or value < 0:
        return None
    return int(product)
