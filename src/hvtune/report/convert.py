"""Reports of hvtune convert: the translation, or what --into wrote, as JSON
(the text output is the translation itself)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, cast

from hvtune.config import HypervConfig
from hvtune.converting import Into
from hvtune.formats.json_schema import ConfigObject
from hvtune.jsonrecords import encode
from hvtune.report.plan import OutputFormat, Rendered


@dataclass(frozen=True)
class IntoRecord:
    """What --into did: the domain file, the file written (null: it already
    had this configuration) and where its original bytes were kept."""

    path: str
    written: str | None
    backup: str | None


@dataclass(frozen=True)
class ConvertDocument:
    """``hvtune convert --format json``: the configuration read (from
    ``source``, in ``format``), and either its translation (``rendered``,
    for --to) or what --into wrote (``into``); the other is null."""

    SCHEMA: ClassVar[str] = "hvtune/convert/1"

    source: str
    format: str
    config: ConfigObject
    rendered: Rendered | None
    into: IntoRecord | None


def convert_json(
    source: str, read: str, config: HypervConfig, *, to: str | None, text: str | None, into: Into | None
) -> str:
    rendered = Rendered(cast(OutputFormat, to), text) if to is not None and text is not None else None
    done = IntoRecord(into.path, into.written, into.backup) if into is not None else None
    return encode(ConvertDocument(source, read, ConfigObject.of(config), rendered, done))
