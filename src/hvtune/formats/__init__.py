"""Formats: each module turns one outside format into a HypervConfig and
back, behind one interface (hvtune.formats.base.Format). MODULES names
them; ``read_text`` asks each in turn whether a text is written in it.
Modules are imported on first use, so naming the formats costs nothing."""

from __future__ import annotations

from dataclasses import replace
from functools import cache
from importlib import import_module
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from hvtune.errors import InputError
    from hvtune.formats.base import Format
    from hvtune.formats.reading import Reading

# Every format by name, in the order their `sniff` is asked: the last one
# (a bare -cpu value or a command line) takes what no other recognises;
# kubevirt comes before json, which takes any text starting with "{".
MODULES = {
    "kubevirt": "hvtune.formats.kubevirt",
    "json": "hvtune.formats.json",
    "libvirt": "hvtune.formats.libvirt",
    "proxmox": "hvtune.formats.proxmox",
    "qemu": "hvtune.formats.qemu",
}


@cache
def format_named(name: str) -> Format:
    """The format called `name` (a key of MODULES)."""
    module = MODULES.get(name)
    if module is None:
        raise ValueError(f"unknown format {name!r}; expected one of {', '.join(MODULES)}")
    found: Format = import_module(module).FORMAT
    assert found.name == name, f"{module} names its format {found.name!r}"
    return found


def format_names() -> tuple[str, ...]:
    """Every format's name (for options such as --to)."""
    return tuple(MODULES)


def sniffed_format(text: str) -> Format | None:
    """The format that recognises `text`, or None when only the last one
    (which takes anything) would read it."""
    *specific, _ = MODULES
    return next((fmt for fmt in map(format_named, specific) if fmt.sniff(text)), None)


def read_text(text: str, *, source: str, qemu_version: str | None = None) -> Reading[Any]:
    """Parse text in whichever format it is written (a QEMU command line or
    -cpu value as QEMU `qemu_version` reads it)."""
    from hvtune.errors import InputError

    if not text.lstrip("\ufeff \t\r\n"):
        raise InputError(source, None, "empty input")
    chosen = sniffed_format(text) or format_named(list(MODULES)[-1])
    return _with_text(chosen.read(text, source=source, qemu_version=qemu_version), text)


def _with_text(reading: Reading[Any], text: str) -> Reading[Any]:
    """`reading` keeping the text it was read from (hvtune.locating)."""
    return replace(reading, text=text)


def read_texts(texts: list[tuple[str, str]], *, qemu_version: str | None = None) -> list[Reading[Any] | InputError]:
    """Several (text, source) inputs, in order, each its reading or its
    InputError; the inputs of one format are read together (Format.read_all),
    and an input that only serves the others (a KubeVirt preference) gives
    nothing of its own."""
    from hvtune.errors import InputError

    results: list[Reading[Any] | InputError | None] = [None] * len(texts)
    groups: dict[str, list[int]] = {}
    for index, (text, source) in enumerate(texts):
        if not text.lstrip("\ufeff \t\r\n"):
            results[index] = InputError(source, None, "empty input")
            continue
        chosen = sniffed_format(text) or format_named(list(MODULES)[-1])
        groups.setdefault(chosen.name, []).append(index)
    for name, indexes in groups.items():
        read = format_named(name).read_all([texts[i] for i in indexes], qemu_version=qemu_version)
        for index, result in zip(indexes, read, strict=True):
            results[index] = (
                result if result is None or isinstance(result, InputError) else _with_text(result, texts[index][0])
            )
    return [result for result in results if result is not None]


def read_file(path: str | Path) -> Reading[Any]:
    """Read and parse one file."""
    from hvtune.files import load_text

    return read_text(load_text(path), source=str(path))


_RECORDS = {"Format": "hvtune.formats.base", "Reading": "hvtune.formats.reading", "load_text": "hvtune.files"}


def __getattr__(name: str) -> Any:
    """The records imported on first use, so that naming the formats (the
    command line's choices) loads no parser, config or catalog."""
    if name in _RECORDS:
        return getattr(import_module(_RECORDS[name]), name)
    raise AttributeError(f"module 'hvtune.formats' has no attribute {name!r}")


__all__ = [
    "MODULES",
    "Format",
    "Reading",
    "format_named",
    "format_names",
    "load_text",
    "read_file",
    "read_text",
    "read_texts",
    "sniffed_format",
]
