"""What a format is: one interface that every outside format implements, so
that reading, writing, patching and describing a change never branch on a
format's name. Adding a format is adding one module with one Format and
naming it in hvtune.formats.MODULES."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from hvtune.config import HypervConfig
    from hvtune.findings import ConfigChange
    from hvtune.formats.domcaps import HypervCapabilities
    from hvtune.formats.reading import Reading


class Format(ABC):
    """One outside format of a Hyper-V configuration.

    ``name`` is how users name it (``--to NAME``); ``target`` is the program
    that reads configurations written in it, whose limits are errors for
    them (``qemu`` or ``libvirt``); ``writes`` says whether hvtune can
    write it (``convert --to``, ``plan --to``); ``libvirt_version`` is the
    libvirt release the program reading the format ships (KubeVirt's
    virt-launcher), which judges it whatever libvirt is installed here.
    """

    name: str
    title: str
    target: str
    writes: bool = True
    libvirt_version: str | None = None

    @abstractmethod
    def sniff(self, text: str) -> bool:
        """Whether `text` is written in this format (asked in the order of
        hvtune.formats.MODULES; the last format takes what no other does)."""

    @abstractmethod
    def read(self, text: str, *, source: str, qemu_version: str | None = None) -> Reading[Any]:
        """The config `text` holds, with what the format keeps besides;
        a format QEMU reads itself reads it as QEMU `qemu_version` does
        (None: a release not known)."""

    @abstractmethod
    def render(self, config: HypervConfig, *, source: str) -> str:
        """`config` written in this format (text ending in a newline)."""

    @abstractmethod
    def patch(self, reading: Reading[Any], text: str, change: ConfigChange) -> str:
        """`text` (what `reading` was read from) with `change` applied,
        changing nothing else."""

    def describe(self, change: ConfigChange) -> str:
        """`change` as a person editing this format would make it."""
        return change.describe()

    def lines(self, reading: Reading[Any], features: Sequence[str | None]) -> list[int | None]:
        """For each of `features` (QEMU property names; None: the config as
        a whole), the line of ``reading.text`` that spells it, or where it
        would be written when it is not (None: no line is known, the source
        as a whole). A format that knows no lines keeps this default."""
        return [None] * len(features)

    def builds_cpu(
        self,
        reading: Reading[Any],
        *,
        libvirt_version: str | None,
        capabilities: HypervCapabilities | None,
    ) -> str | None:
        """The -cpu value the program reading this format builds for
        `reading` itself (libvirt builds one from a domain), or None when
        the config's own -cpu spelling is what QEMU gets."""
        return None
