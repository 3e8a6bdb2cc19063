"""What every format's parser returns."""

from __future__ import annotations

from dataclasses import dataclass

from hvtune.config import HypervConfig


@dataclass(frozen=True)
class Reading:
    """A config read from one source, with what the source said besides.

    ``format`` names the parser (``qemu``, ``json``); ``line`` is where the
    CPU configuration was found; ``guest_os`` is what the source reveals
    about the guest (``-kernel`` means Linux); ``ambiguous`` lists names
    QEMU would warn about.
    """

    source: str
    format: str
    config: HypervConfig
    line: int | None = None
    guest_os: str | None = None
    ambiguous: tuple[str, ...] = ()
