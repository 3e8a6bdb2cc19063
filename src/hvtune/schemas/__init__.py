"""The JSON Schemas of the documents hvtune writes, published in the
package: ``hvtune/schemas/KIND-VERSION.json`` for ``"schema":
"hvtune/KIND/VERSION"`` (read them with `load`, or
``importlib.resources.files("hvtune") / "schemas"``).

Each is generated from the typed records the reports encode (msgspec's
schema generation), the configuration's from the catalog; `python -m
hvtune.schemas` writes them, and a test holds the files to what this module
generates, so they cannot drift from what hvtune writes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib.resources import files
from typing import Any

from hvtune.jsonrecords import SCHEMA_KEY, schema_hook

DRAFT = "https://json-schema.org/draft/2020-12/schema"


@dataclass(frozen=True)
class Published:
    """One kind of document: its schema key, the command that writes it,
    and the record type it is made from (None: the configuration, made from
    the catalog)."""

    schema: str
    title: str
    record: object | None

    @property
    def file_name(self) -> str:
        _, kind, version = self.schema.split("/")
        return f"{kind}-{version}.json"


def published() -> tuple[Published, ...]:
    """Every kind of document hvtune writes."""
    from hvtune.bench.document import BenchDocument
    from hvtune.formats import json as config_format
    from hvtune.host.profile_json import ProfileDocument
    from hvtune.report import (
        bench,
        catalog,
        compare,
        convert,
        doctor,
        findings,
        fixes,
        guest,
        guestview,
        host,
        lab,
        plan,
        verify,
    )

    records: list[tuple[str, Any]] = [
        ("hvtune check --format json", findings.CheckDocument),
        ("hvtune doctor --format json", doctor.DoctorDocument),
        ("hvtune fix FILE --format json", fixes.FixDocument),
        ("hvtune fix --connect URI DOMAIN --format json", fixes.LiveFixDocument),
        ("hvtune plan --format json", plan.PlanDocument),
        ("hvtune convert --format json", convert.ConvertDocument),
        ("hvtune compare --format json", compare.CompareDocument),
        ("hvtune host --format json, and the profiles host --save writes", ProfileDocument),
        ("hvtune host --list --format json", host.ProfilesDocument),
        ("hvtune list --format json", catalog.ListDocument),
        ("hvtune explain NAME --format json", catalog.CatalogEntry),
        ("hvtune lab --format json", lab.LabDocument),
        ("hvtune verify --format json", verify.VerifyDocument),
        ("hvtune cpuid --format json", guestview.CpuidDocument),
        ("hvtune guest --format json", guest.GuestDocument),
    ]
    return (
        Published(config_format.SCHEMA, "hvtune convert --to json: a configuration", None),
        *(Published(record.SCHEMA, title, record) for title, record in records),
        Published(bench.SCHEMA, "hvtune bench --format json", BenchDocument),
    )


def generate(document: Published) -> dict[str, Any]:
    """The JSON Schema of one kind of document."""
    head = {"$schema": DRAFT, "title": document.title}
    if document.record is None:
        from hvtune.formats.json_schema import config_schema

        return {**head, **config_schema()}
    top, components = _components(document.record)
    marker = {"type": "object", "properties": {SCHEMA_KEY: {"const": document.schema}}, "required": [SCHEMA_KEY]}
    return {**head, "allOf": [top, marker], "$defs": components}


def _components(record: object) -> tuple[dict[str, Any], dict[str, Any]]:
    """The schema of `record`, and the definitions it refers to: records,
    and `Custom` types by their class names (a configuration is described
    once, however many fields hold one). A `Custom` type may refer to
    records no field names (its ``COMPONENTS``): a first pass finds them."""
    import msgspec

    customs: dict[str, type] = {}

    def by_reference(kind: type) -> dict[str, Any]:
        customs[kind.__name__] = kind
        return {"$ref": f"#/$defs/{kind.__name__}"}

    msgspec.json.schema_components([record], schema_hook=by_reference)
    referred = dict.fromkeys(c for kind in customs.values() for c in getattr(kind, "COMPONENTS", ()))
    (top, *_), components = msgspec.json.schema_components([record, *referred], schema_hook=by_reference)
    described = {name: {"title": name, **schema_hook(kind)} for name, kind in customs.items()}
    return top, dict(sorted({**components, **described}.items()))


def text(schema: dict[str, Any]) -> str:
    """A schema as the published file holds it."""
    return json.dumps(schema, indent=2) + "\n"


def load(schema: str) -> dict[str, Any]:
    """The published JSON Schema of the documents whose schema key is `schema` ("hvtune/check/1")."""
    document = next((d for d in published() if d.schema == schema), None)
    if document is None:
        raise KeyError(schema)
    loaded: dict[str, Any] = json.loads(files("hvtune").joinpath("schemas", document.file_name).read_text("utf-8"))
    return loaded
