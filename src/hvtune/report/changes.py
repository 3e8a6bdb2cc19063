"""A fix in the spelling of the file it applies to: QEMU property names for
command lines and JSON, the elements to write for libvirt domain XML."""

from __future__ import annotations

from hvtune.catalog import Property, load_catalog
from hvtune.findings import ConfigChange


def _libvirt_part(name: str, change: ConfigChange) -> str:
    value = change.values[name]
    entry = load_catalog().entry(name)
    form = entry.libvirt if isinstance(entry, Property) else None
    if form is None:
        return ConfigChange({name: value}).describe()
    if value is None:
        return f"remove {form.snippet(True)}"
    return f"write {form.snippet(value)}"


def describe_change(change: ConfigChange, spelling: str) -> str:
    """`change` as a person editing that format would do it."""
    if spelling != "libvirt":
        return change.describe()
    return "; ".join(_libvirt_part(name, change) for name in change.values)
