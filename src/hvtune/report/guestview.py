"""hvtune cpuid: the hypervisor CPUID leaves QEMU builds for each
configuration on a host, as text (each leaf read with the catalog's table:
named bits, the properties that set them, fields) or JSON."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

from hvtune.cpuid import Leaves, leaves_json
from hvtune.guestview import ComparedRegister, GuestCpuid
from hvtune.host.profile import HostProfile
from hvtune.jsonrecords import encode
from hvtune.report.cpuid import cpuid_text, register_text


@dataclass(frozen=True)
class PredictedLeaves:
    """One configuration: where it came from, the features on (with
    hv-passthrough expanded), the leaves QEMU builds (``{"0x40000003":
    [eax, ebx, ecx, edx]}``; a hypervisor leaf not listed reads as zeros on
    AMD hosts) and the leaves that exist but that hvtune cannot predict."""

    source: str
    features: tuple[str, ...]
    leaves: dict[str, list[int]]
    unpredicted: tuple[str, ...]


@dataclass(frozen=True)
class CpuidDocument:
    """``hvtune cpuid --format json``: the host predicted for, and each
    configuration's leaves."""

    SCHEMA: ClassVar[str] = "hvtune/cpuid/1"

    host: str
    qemu_version: str | None
    results: tuple[PredictedLeaves, ...]


def _hex(leaf: int) -> str:
    return f"0x{leaf:08X}"


def cpuid_json(profile: HostProfile, predictions: Sequence[tuple[str, GuestCpuid]]) -> str:
    return encode(
        CpuidDocument(
            profile.name,
            profile.qemu_version,
            tuple(
                PredictedLeaves(source, each.features, leaves_json(each.leaves), tuple(map(_hex, each.unpredicted)))
                for source, each in predictions
            ),
        )
    )


def predicted_text(profile: HostProfile, predictions: Sequence[tuple[str, GuestCpuid]]) -> str:
    lines = []
    for source, each in predictions:
        qemu = f", QEMU {profile.qemu_version}" if profile.qemu_version else ""
        lines.append(f"{source}: on {profile.name}{qemu}, the guest reads")
        lines += [f"  {line}" for line in cpuid_text(each.leaves).splitlines()]
        lines += [f"  {_hex(leaf)}: set by the host's KVM (not predicted)" for leaf in each.unpredicted]
        if not each.leaves:
            lines.append("  no hypervisor leaves (no Hyper-V, and kvm=off hides KVM's)")
        lines.append(f"  features on: {', '.join(each.features) or 'none'}")
    return "".join(line + "\n" for line in lines)


def _value(value: int | None) -> str:
    return "(KVM's)" if value is None else f"0x{value:08X}"


def difference_text(row: ComparedRegister) -> str:
    """One register where the prediction and what a guest read differ."""
    return f"{_hex(row.leaf)} {row.reg}: predicted {_value(row.predicted)}, read {_value(row.observed)}"


COMPARED_HEADING = f"{'leaf':<10}  {'reg':<3}  {'predicted':<10}  {'observed':<10}"


def compared_text(predicted: GuestCpuid, observed: Leaves, rows: Sequence[ComparedRegister]) -> str:
    """The predicted and the observed hypervisor leaves side by side: one
    line per register that is not zero on both sides (a leaf left open as
    ``(KVM's)``), a register that differs marked and read on both sides as
    hvtune cpuid reads it."""
    lines = [COMPARED_HEADING]
    for row in rows:
        if not (row.predicted or row.observed or row.differs):
            continue
        mark = "  DIFFERS" if row.differs else ""
        lines.append(f"{_hex(row.leaf)}  {row.reg:<3}  {_value(row.predicted):<10}  {_value(row.observed):<10}{mark}")
        if row.differs:
            lines.append(f"  predicted {register_text(predicted.leaves, row.leaf, row.reg)}")
            lines.append(f"  observed  {register_text(observed, row.leaf, row.reg)}")
    return "".join(line + "\n" for line in lines)
