"""The catalog's facts about Linux guests (its ``[linux]`` table): how
Linux picks between KVM and Hyper-V, what it uses of Hyper-V and loses of
KVM when it picks Hyper-V, and how systemd-detect-virt misnames a KVM guest
that shows Hyper-V's signature, with the fix."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class LinuxUse:
    """What Linux does with one enlightenment once it runs on Hyper-V."""

    property: str
    use: str
    source: str


@dataclass(frozen=True)
class DetectVirtFacts:
    """systemd-detect-virt's misnaming: its answer, its effect, the fix
    and the systemd release that has it."""

    program: str
    answer: str
    signature: str
    fixed_in: str
    effect: str
    fix: str
    sources: tuple[str, ...]


@dataclass(frozen=True)
class LinuxFacts:
    detection: str
    detection_source: str
    loses: str
    loses_source: str
    uses: tuple[LinuxUse, ...]
    detect_virt: DetectVirtFacts

    def uses_of(self, names: set[str] | frozenset[str]) -> tuple[LinuxUse, ...]:
        """What Linux uses among the enlightenments `names`, in the catalog's order."""
        return tuple(use for use in self.uses if use.property in names)


def read_linux_facts(raw: dict[str, Any]) -> LinuxFacts:
    """The facts from the catalog's ``[linux]`` table."""
    detect_virt = raw["detect_virt"]
    return LinuxFacts(
        detection=" ".join(raw["detection"].split()),
        detection_source=raw["detection_source"],
        loses=raw["loses"],
        loses_source=raw["loses_source"],
        uses=tuple(LinuxUse(**use) for use in raw["uses"]),
        detect_virt=DetectVirtFacts(**{**detect_virt, "sources": tuple(detect_virt["sources"])}),
    )
