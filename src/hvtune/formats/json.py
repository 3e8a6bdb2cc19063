"""The canonical JSON form of a config.

One object: ``model`` (the CPU model token or null), ``machine`` when known,
``non-hyperv-tokens`` when the -cpu value had other tokens,
``libvirt-host-model`` for libvirt's ``<hyperv mode='host-model'>``, then one key per
property that is set, named as QEMU names it, with a boolean, integer or
string value, e.g. ``{"model": "host", "kvm": false, "hv-relaxed": true,
"hv-spinlocks": 8191}``. ``convert --to json`` writes it, after the schema
key (``"schema": "hvtune/config/1"``, see hvtune.jsonrecords); every command
that reads a file reads it back, with or without that key.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from hvtune.catalog import load_catalog
from hvtune.config import ConfigValueError, HypervConfig
from hvtune.errors import InputError
from hvtune.findings import ConfigChange
from hvtune.formats.base import Format
from hvtune.formats.jsontext import load_json
from hvtune.formats.lines import line_at, line_ending, with_line_ending
from hvtune.formats.reading import Reading
from hvtune.jsonrecords import SCHEMA_KEY, check_schema, dumps, with_schema
from hvtune.valuetypes import Value

MODEL, MACHINE, OTHER, HOST_MODEL = "model", "machine", "non-hyperv-tokens", "libvirt-host-model"
SCHEMA = "hvtune/config/1"


def to_json(config: HypervConfig) -> dict[str, Any]:
    """The canonical JSON object for a config."""
    document: dict[str, Any] = {MODEL: config.model}
    if config.machine:
        document[MACHINE] = config.machine
    if config.extra:
        document[OTHER] = list(config.extra)
    if config.host_model:
        document[HOST_MODEL] = True
    document.update(config.values)
    return document


def from_json(document: object, *, source: str) -> HypervConfig:
    """A config from a canonical JSON object; InputError names the bad key."""
    if not isinstance(document, dict):
        raise InputError(source, None, "expected a JSON object with Hyper-V properties")
    check_schema(document, SCHEMA, source=source)
    catalog = load_catalog()
    values: dict[str, Value] = {}
    for key, value in document.items():
        if key in (SCHEMA_KEY, MODEL, MACHINE, OTHER, HOST_MODEL):
            continue
        if catalog.entry(key) is None:
            suggestion = catalog.suggest(key)
            hint = f"; did you mean {suggestion}?" if suggestion else ""
            raise InputError(source, f"key {key!r}", f"not a Hyper-V property or neighbour{hint}")
        values[key] = value
    for key in (MODEL, MACHINE):
        if document.get(key) is not None and not isinstance(document[key], str):
            raise InputError(source, f"key {key!r}", "expects a string or null")
    other = document.get(OTHER, [])
    if not isinstance(other, list) or not all(isinstance(token, str) and token for token in other):
        raise InputError(source, f"key {OTHER!r}", "expects a list of -cpu tokens")
    host_model = document.get(HOST_MODEL, False)
    if not isinstance(host_model, bool):
        raise InputError(source, f"key {HOST_MODEL!r}", "expects true or false")
    try:
        return HypervConfig(
            model=document.get(MODEL),
            values=values,
            machine=document.get(MACHINE),
            extra=tuple(other),
            host_model=host_model,
        )
    except ConfigValueError as error:
        key = {"model": MODEL, "token": OTHER}.get(error.name, error.name)
        place = f"key {key!r}" + (f" {error.text!r}" if error.name == "token" else "")
        raise InputError(source, place, error.problem) from None


def parse_text(text: str, *, source: str) -> Reading[None]:
    return Reading(source, "json", from_json(load_json(text, source=source), source=source), None)


def render(config: HypervConfig) -> str:
    return dumps(with_schema(SCHEMA, to_json(config)))


def _key_offset(text: str, name: str | None, otherwise: int) -> int:
    """Where the key `name` is written in `text` (`otherwise` when it is not)."""
    found = re.search(rf'"{re.escape(name)}"\s*:', text) if name else None
    return found.start() if found else otherwise


class JsonFormat(Format):
    """hvtune's JSON: one object keyed by QEMU's property names; written
    anew on every change (keeping the text's line endings)."""

    name = "json"
    title = "hvtune's JSON (one object keyed by QEMU property names)"
    target = "qemu"

    def sniff(self, text: str) -> bool:
        return text.lstrip("\ufeff \t\r\n").startswith("{")

    def read(self, text: str, *, source: str, qemu_version: str | None = None) -> Reading[None]:
        return parse_text(text, source=source)

    def render(self, config: HypervConfig, *, source: str) -> str:
        return render(config)

    def patch(self, reading: Reading[Any], text: str, change: ConfigChange) -> str:
        return with_line_ending(render(change.apply(reading.config)), line_ending(text))

    def lines(self, reading: Reading[Any], features: Sequence[str | None]) -> list[int | None]:
        """The key of each property, else the object's opening brace."""
        text = reading.text
        if text is None:
            return super().lines(reading, features)
        opening = text.find("{")
        return [line_at(text, _key_offset(text, feature, opening)) for feature in features]


FORMAT = JsonFormat()
