"""Converting configurations between formats, and into a domain file. Every
function takes the libvirt release to write for (None: the newest hvtune
knows); none looks at the machine it runs on."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hvtune.checking import refuse_refused
from hvtune.checks.context import CheckContext
from hvtune.checks.values import check_spinlocks, check_vendor_id
from hvtune.config import HypervConfig
from hvtune.errors import InputError
from hvtune.formats import format_named
from hvtune.formats.domcaps import HypervCapabilities
from hvtune.formats.libvirt import parse_text as parse_domain
from hvtune.formats.libvirt_patch import into_domain
from hvtune.formats.reading import Reading
from hvtune.writing import read_to_change, write_file


def refuse_values(config: HypervConfig, target: str, source: str, libvirt_version: str | None) -> None:
    """Raise InputError when the program `target` refuses one of `config`'s
    values as it reads them (libvirt's limits on spinlock retries and vendor
    ids): hvtune writes nothing that program cannot read."""
    context = CheckContext(target=target, libvirt_version=libvirt_version)
    for found in (*check_spinlocks(config, context), *check_vendor_id(config, context)):
        if found.refused_by == target == "libvirt":
            raise InputError(source, found.feature, found.message)


def render(config: HypervConfig, to: str, *, source: str = "config", libvirt_version: str | None = None) -> str:
    """`config` written in format `to` (a name from hvtune.formats.MODULES)."""
    written = format_named(to)
    refuse_values(config, written.target, source, libvirt_version)
    return written.render(config, source=source)


def translate(
    reading: Reading[Any],
    to: str,
    *,
    libvirt_version: str | None = None,
    capabilities: HypervCapabilities | None = None,
) -> str:
    """A reading in another format. When the program reading the source
    builds the -cpu value itself (libvirt from a domain), ``qemu`` is that
    value, as release `libvirt_version` builds it; a source that program
    refuses is an InputError naming its reason."""
    read = format_named(reading.format)
    if to == "qemu" and read.target != "qemu":  # a manager builds the command line, if it accepts the source
        refuse_refused(reading, read.target, libvirt_version=libvirt_version)
    built = (
        read.builds_cpu(reading, libvirt_version=libvirt_version, capabilities=capabilities) if to == "qemu" else None
    )
    return (
        built
        if built is not None
        else render(reading.config, to, source=reading.source, libvirt_version=libvirt_version)
    )


@dataclass(frozen=True)
class Into:
    """What `write_into` did: the file written (None: nothing needed
    writing) and where its original bytes were kept."""

    path: str
    written: str | None
    backup: str | None


def write_into(config: HypervConfig, path: str, *, source: str, libvirt_version: str | None = None) -> Into:
    """Make a domain XML file's Hyper-V setup `config`'s (read from
    `source`), through hvtune.writing (PATH.bak keeps the bytes read)."""
    refuse_values(config, "libvirt", source, libvirt_version)
    with read_to_change(path) as original:
        parse_domain(original.text, source=path)  # it must be a domain
        patched = into_domain(original.text, config, source=path)
        if patched == original.text:
            return Into(path, None, None)
        written = write_file(path, patched, original=original)
    return Into(path, written.path, written.backup)
