"""Formats: each module turns one outside format into a HypervConfig and
back. ``read_text`` picks the parser from the content."""

from __future__ import annotations

from pathlib import Path

from hvtune.errors import InputError
from hvtune.formats import json as json_format
from hvtune.formats import libvirt, qemu
from hvtune.formats.reading import Reading

# Larger inputs are not configurations; refusing them early keeps hostile
# files from costing time or memory.
MAX_INPUT_BYTES = 16 * 1024 * 1024


def read_text(text: str, *, source: str) -> Reading:
    """Parse text in whichever format it is written."""
    stripped = text.lstrip("\ufeff \t\r\n")
    if stripped.startswith("{"):
        return json_format.parse_text(text, source=source)
    if stripped.startswith("<"):
        return libvirt.parse_text(text, source=source)
    if not stripped:
        raise InputError(source, None, "empty input")
    return qemu.parse_text(text, source=source)


def load_text(path: str | Path) -> str:
    """The text of a file; unreadable, huge or binary files are InputErrors."""
    name = str(path)
    try:
        with open(path, "rb") as handle:
            data = handle.read(MAX_INPUT_BYTES + 1)
    except OSError as error:
        raise InputError(name, None, error.strerror or str(error)) from None
    if len(data) > MAX_INPUT_BYTES:
        raise InputError(name, None, f"larger than {MAX_INPUT_BYTES // (1024 * 1024)} MiB; not a VM configuration")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise InputError(name, f"byte {error.start}", "not UTF-8 text") from None


def read_file(path: str | Path) -> Reading:
    """Read and parse one file."""
    return read_text(load_text(path), source=str(path))


__all__ = ["Reading", "load_text", "read_file", "read_text"]
