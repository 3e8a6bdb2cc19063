"""What a check may know besides the config itself."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Target = Literal["qemu", "libvirt"]


@dataclass(frozen=True)
class CheckContext:
    """The circumstances of one check.

    ``target`` is the program that will read the configuration: limits that
    only libvirt enforces are errors for ``libvirt`` and warnings for
    ``qemu``. ``guest_os`` is ``linux``, a Windows name such as ``win11``, or
    None when unknown. ``ambiguous`` lists property names the source text
    both switched with ``+x``/``-x`` and set with ``x=...``, which QEMU warns
    about.
    """

    target: Target = "qemu"
    guest_os: str | None = None
    ambiguous: tuple[str, ...] = ()

    @property
    def linux_guest(self) -> bool:
        return self.guest_os == "linux"
