"""CPUID leaves as text: one leaf per line, its registers in hex, then per
register the names of the bits set (the TLFS's names, the properties that
set them in brackets), the named fields with their values, and the set
bits nothing names."""

from __future__ import annotations

from hvtune.cpuid import FieldReading, LeafReading, Leaves, RegisterReading, read_leaves
from hvtune.cpuid_table import REGISTER_NAMES
from hvtune.errors import printable


def _field(reading: FieldReading) -> str:
    field = reading.field
    text = field.name if field.format == "flag" else f"{field.name} {printable(field.shown(reading.value))}"
    return f"{text} [{', '.join(reading.properties)}]" if reading.properties else text


def _register(reading: RegisterReading) -> str | None:
    parts = [_field(field) for field in reading.fields]
    if reading.unnamed:
        parts.append(f"unnamed 0x{reading.unnamed:08X}")
    return f"{reading.reg}: {', '.join(parts)}" if parts else None


def leaf_line(reading: LeafReading) -> str:
    """One leaf: its number and title, its registers, and what they say."""
    title = f" {reading.title}" if reading.title else ""
    values = " ".join(f"{reg} {value:08X}" for reg, value in zip(REGISTER_NAMES, reading.registers, strict=True))
    if reading.unread:
        said = [f"not read: {reading.unread}"]
    else:
        said = [text for register in reading.read if (text := _register(register))]
    return f"0x{reading.leaf:08X}{title}: {values}" + "".join(f"; {text}" for text in said)


def cpuid_text(leaves: Leaves) -> str:
    """Every leaf of `leaves`, one per line, read with the catalog's table."""
    return "".join(leaf_line(reading) + "\n" for reading in read_leaves(leaves))


def register_text(leaves: Leaves, leaf: int, reg: str) -> str:
    """What one register of `leaves` says, read as cpuid_text reads it
    (within all of `leaves`: a leaf means something only under its
    interface's signature)."""
    reading = next((reading for reading in read_leaves(leaves) if reading.leaf == leaf), None)
    if reading is None:
        return f"{reg}: no such leaf (it reads as zeros)"
    if reading.unread:
        return f"not read: {reading.unread}"
    register = reading.read[REGISTER_NAMES.index(reg)]
    return _register(register) or f"{reg}: nothing set"
