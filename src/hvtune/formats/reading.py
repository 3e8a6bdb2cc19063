"""What every format's parser returns."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from hvtune.config import HypervConfig

if TYPE_CHECKING:
    from hvtune.formats.libvirt import LibvirtDomain


@dataclass(frozen=True)
class Reading:
    """A config read from one source, with what the source said besides.

    ``format`` names the parser (``qemu``, ``json``, ``libvirt``); ``line``
    is where the CPU configuration was found; ``guest_os`` is what the source
    reveals about the guest (``-kernel`` means Linux, libosinfo metadata names
    the OS); ``ambiguous`` lists names QEMU would warn about; ``libvirt`` holds
    a domain's facts for libvirt's own rules.
    """

    source: str
    format: str
    config: HypervConfig
    line: int | None = None
    guest_os: str | None = None
    ambiguous: tuple[str, ...] = ()
    libvirt: LibvirtDomain | None = None
    span: tuple[int, int] | None = None  # where the -cpu value stands in the text
