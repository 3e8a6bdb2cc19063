"""Formats: each module turns one outside format into a HypervConfig and
back. ``read_text`` picks the parser from the content."""

from __future__ import annotations

from pathlib import Path

from hvtune.errors import InputError
from hvtune.files import load_text
from hvtune.formats.reading import Reading


def read_text(text: str, *, source: str) -> Reading:
    """Parse text in whichever format it is written. (The parsers are
    imported here, so that importing one format does not load them all.)"""
    from hvtune.formats import json as json_format
    from hvtune.formats import libvirt, qemu

    stripped = text.lstrip("\ufeff \t\r\n")
    if stripped.startswith("{"):
        return json_format.parse_text(text, source=source)
    if stripped.startswith("<"):
        return libvirt.parse_text(text, source=source)
    if not stripped:
        raise InputError(source, None, "empty input")
    return qemu.parse_text(text, source=source)


def read_file(path: str | Path) -> Reading:
    """Read and parse one file."""
    return read_text(load_text(path), source=str(path))


__all__ = ["Reading", "load_text", "read_file", "read_text"]
