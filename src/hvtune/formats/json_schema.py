"""The JSON Schema of hvtune's config format (``hvtune/config/1``), made
from the catalog: one key per property and neighbour, any of its names,
with its QEMU type and range. HypervConfig stays the one validator of what
a configuration may hold; the schema tells other programs the same.

Reports embed configurations and fixes as `ConfigObject` and `ChangeObject`,
which carry this schema into theirs.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any

from hvtune.catalog import Entry, load_catalog
from hvtune.config import HypervConfig
from hvtune.findings import ConfigChange
from hvtune.formats.json import HOST_MODEL, MACHINE, MODEL, OTHER, SCHEMA, to_json
from hvtune.jsonrecords import SCHEMA_KEY, TEXT_PATTERN, Custom
from hvtune.valuetypes import VALUE_TYPES

_NULL = {"type": "null"}


def _value_schema(entry: Entry) -> dict[str, Any]:
    """What a property's value may be: its QEMU type, within its range."""
    kind = VALUE_TYPES[entry.type]
    if kind.python is bool:
        return {"type": "boolean"}
    if kind.python is int:
        return {"type": "integer", "minimum": kind.minimum, "maximum": kind.maximum}
    if kind.choices:
        return {"enum": list(kind.choices)}
    return {"type": "string", "pattern": TEXT_PATTERN}


def _by_name(value: Callable[[Entry], dict[str, Any]]) -> dict[str, Any]:
    """`value(entry)` under every name of every catalog entry, in the catalog's order."""
    catalog = load_catalog()
    entries = sorted(catalog.entries, key=lambda entry: catalog.order[entry.name])
    return {
        name: {"description": entry.title if name == entry.name else f"{entry.title} (as {entry.name})", **value(entry)}
        for entry in entries
        for name in (entry.name, *entry.aliases)
    }


@cache
def config_schema() -> dict[str, Any]:
    """The schema of one configuration object."""
    return {
        "type": "object",
        "description": "A configuration: the CPU model, then each property that is set, named as QEMU names it.",
        "properties": {
            SCHEMA_KEY: {"const": SCHEMA},
            MODEL: {"description": "the CPU model token (null: QEMU's default)", "type": ["string", "null"]},
            MACHINE: {"description": "the machine type, when known", "type": ["string", "null"]},
            OTHER: {
                "description": "the other -cpu tokens",
                "type": "array",
                "items": {"type": "string", "minLength": 1},
            },
            HOST_MODEL: {"description": "libvirt's <hyperv mode='host-model'>", "type": "boolean"},
            **_by_name(_value_schema),
        },
        "additionalProperties": False,
    }


class ConfigObject(dict[str, Any], Custom):
    """A configuration inside a report, as the config format writes it."""

    @classmethod
    def of(cls, config: HypervConfig) -> ConfigObject:
        return cls(to_json(config))

    @classmethod
    def json_schema(cls) -> dict[str, Any]:
        return config_schema()

    def to_builtin(self) -> object:
        return dict(self)


RENAME = "rename"  # the key of a change's renames (no property is named so)


class ChangeObject(dict[str, Any], Custom):
    """A fix: the value to give each property, null to remove it; and under
    "rename", each misspelt name to write as the one it means."""

    @classmethod
    def of(cls, change: ConfigChange) -> ChangeObject:
        renames = {RENAME: dict(change.renames)} if change.renames else {}
        return cls({**renames, **change.values})

    @classmethod
    @cache
    def json_schema(cls) -> dict[str, Any]:
        renames = {
            "description": (
                "names written that the program reading them does not know (a misspelt libvirt <hyperv> child), "
                "each to rename to the one it surely means; what it holds is kept"
            ),
            "type": "object",
            "additionalProperties": {"type": "string", "pattern": TEXT_PATTERN},
        }
        return {
            "type": "object",
            "properties": {RENAME: renames, **_by_name(lambda entry: {"anyOf": [_value_schema(entry), _NULL]})},
            "additionalProperties": False,
        }

    def to_builtin(self) -> object:
        return dict(self)
