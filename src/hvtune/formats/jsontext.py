"""Reading JSON text safely: the one JSON reader for configurations and
host profiles.

Python's json module accepts what no configuration holds and fails in ways
that are not input errors: NaN and Infinity, integers too long to convert
(ValueError past 4300 digits), nesting deep enough to exhaust the stack
(RecursionError), duplicate keys (silently, the last wins) and keys
with control characters. Each is an
InputError here, naming the source.
"""

from __future__ import annotations

import json
from typing import Any

from hvtune.errors import InputError, has_control_characters

# No value hvtune reads needs more digits (2**64 has 20).
MAX_INTEGER_DIGITS = 40


class _Refused(ValueError):
    pass


def _integer(text: str) -> int:
    if len(text.lstrip("-")) > MAX_INTEGER_DIGITS:
        raise _Refused(f"an integer of {len(text.lstrip('-'))} digits; no value hvtune reads has more than 20")
    return int(text)


def _constant(name: str) -> Any:
    raise _Refused(f"{name} is not a JSON number")


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    document: dict[str, Any] = {}
    for key, value in pairs:
        if key in document:
            raise _Refused(f"key {key!r} is given twice")
        if has_control_characters(key):
            raise _Refused(f"key {key!r} holds control characters")
        document[key] = value
    return document


def load_json(text: str, *, source: str, what: str = "JSON") -> Any:
    """The document in `text`; InputError names the source and the place."""
    try:
        return json.loads(text, parse_int=_integer, parse_constant=_constant, object_pairs_hook=_object)
    except json.JSONDecodeError as error:
        raise InputError(source, f"line {error.lineno} column {error.colno}", f"invalid {what}: {error.msg}") from None
    except _Refused as error:
        raise InputError(source, None, f"invalid {what}: {error}") from None
    except RecursionError:
        raise InputError(source, None, f"invalid {what}: nested too deeply") from None
