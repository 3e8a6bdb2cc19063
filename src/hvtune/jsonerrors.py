"""msgspec's validation errors said as hvtune says them: the place as a
dotted path (``kvm.capabilities.KVM_CAP_HYPERV``, ``cpu.flags[2]``) and the
problem as ``must be ..., not VALUE``, for one InputError line.

msgspec says "PROBLEM", "PROBLEM - at `$.a[0].b`" or "PROBLEM - at `key` in
`$.a`", and writes ``[...]`` for the value of a dict's key without naming
the key; the record types, walked beside the data, name it.
"""

from __future__ import annotations

import re
import typing
from dataclasses import is_dataclass
from functools import cache
from typing import Literal

from hvtune.jsonrecords import convert, shown

_MESSAGE = re.compile(r"(?P<problem>.*?)(?: - at `(?P<path>[^`]*)`(?: in `(?P<within>[^`]*)`)?)?", re.S)
_STEP = re.compile(r"\.([^.\[]+)|\[(\d+|\.\.\.)\]")
_MISSING = re.compile(r"Object missing required field `(?P<name>[^`]*)`")
_TYPE_ONLY = re.compile(r"Expected `[^`]*`, got `[^`]*`")
_KINDS: dict[object, str] = {
    int: "an int",
    str: "a string",
    bool: "a bool",
    float: "a number",
    list: "a list",
    tuple: "a list",
}


def explain(message: str, data: object, hint: object) -> tuple[str, str]:
    """(dotted place, problem) for msgspec's `message` about `data` read as `hint`."""
    match = _MESSAGE.fullmatch(message)
    assert match is not None  # the pattern matches any text
    path = match["within"] or match["path"] or "$"
    steps: list[str] = [name or index for name, index in _STEP.findall(path)]
    if match["within"]:
        steps.append("...")  # a key of that dict
    place = ""
    for step in steps:
        hint = _bare(hint)[0]
        if step == "...":
            return _explain_entry(place, data, hint)
        if step.isdigit():
            place, data, hint = f"{place}[{step}]", _item(data, int(step)), _items_hint(hint, int(step))
        else:
            place, data, hint = _key(place, step), _value(data, step), _field_hints(hint)[step]
    missing = _MISSING.fullmatch(match["problem"])
    if missing:
        return _key(place, missing["name"]), "missing"
    return place, _problem(match["problem"], data, hint)


def _explain_entry(place: str, data: object, hint: object) -> tuple[str, str]:
    """The first entry of the dict `data` that msgspec refused, found by
    reading each key and value again: its place is named by its key."""
    import msgspec

    key_hint, value_hint = typing.get_args(hint)
    assert isinstance(data, dict)
    for key, value in data.items():
        for part, part_hint in ((key, key_hint), (value, value_hint)):
            try:
                convert(part, part_hint)
            except msgspec.ValidationError as error:
                if part is key:  # a key is a plain value: msgspec names no place inside it
                    return _key(place, key), _problem(str(error), key, key_hint)
                inner, problem = explain(str(error), value, value_hint)
                return _within(_key(place, key), inner), problem
    raise AssertionError(f"msgspec refused an entry of {place} that each reads alone")


def _problem(problem: str, value: object, hint: object) -> str:
    if not problem.startswith(("Expected", "Invalid enum value")):
        return problem  # a Parsed type's own words
    if value is None:
        return "missing"  # null stands for a key left out
    bare, description, nullable = _bare(hint)
    origin = typing.get_origin(bare) or bare
    if description and not _TYPE_ONLY.fullmatch(problem):
        verb = "list" if origin in (list, tuple) else "be"
        return f"must {verb} {description}, not {shown(value)}"
    if origin is Literal:
        choices = [str(choice) for choice in typing.get_args(bare)] + (["null"] if nullable else [])
        expected = ", ".join(choices[:-1]) + " or " + choices[-1] if len(choices) > 1 else choices[0]
    else:
        expected = _KINDS.get(origin, "an object")
    return f"must be {expected}, not {shown(value)}"


def _bare(hint: object) -> tuple[object, str | None, bool]:
    """`hint` without Annotated and None: (the type, its description, whether null is allowed)."""
    description = None
    nullable = False
    while True:
        if typing.get_origin(hint) is typing.Annotated:
            hint, *extras = typing.get_args(hint)
            description = next((getattr(m, "description", None) for m in extras if hasattr(m, "description")), None)
        elif type(None) in typing.get_args(hint) and typing.get_origin(hint) in (typing.Union, _UNION):
            others = [arg for arg in typing.get_args(hint) if arg is not type(None)]
            nullable = True
            hint = others[0] if len(others) == 1 else typing.Union[tuple(others)]  # noqa: UP007
        else:
            return hint, description, nullable


_UNION = type(int | str)


@cache
def _field_hints(record: type) -> dict[str, object]:
    if not is_dataclass(record):
        return {}
    return typing.get_type_hints(record, include_extras=True)


def _items_hint(hint: object, index: int) -> object:
    args = typing.get_args(hint)
    if typing.get_origin(hint) is tuple and not (len(args) == 2 and args[1] is Ellipsis):
        return args[index]
    return args[0]


def _value(data: object, key: str) -> object:
    return data.get(key) if isinstance(data, dict) else None


def _item(data: object, index: int) -> object:
    return data[index] if isinstance(data, list) and index < len(data) else None


def _key(place: str, key: object) -> str:
    return f"{place}.{key}" if place else str(key)


def _within(place: str, inner: str) -> str:
    """A place `inner` inside the value at `place` (``[2]`` or ``a.b``)."""
    return place + inner if inner.startswith("[") or not inner else _key(place, inner)
