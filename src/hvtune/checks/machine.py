"""A versioned machine type the guest's QEMU lacks (pc-q35-7.2 on QEMU 5.2,
pc-q35-5.1 on QEMU 11.1), judged when the QEMU release is known: QEMU
refuses to start, and libvirt refuses the domain first, in its define-time
validation (checks/libvirt.py)."""

from __future__ import annotations

import re

from hvtune.catalog import load_catalog, said_by
from hvtune.checks.context import CheckContext
from hvtune.checks.rule import only_for
from hvtune.config import HypervConfig
from hvtune.findings import Finding, Severity
from hvtune.releases import Release, parse_release

_VERSIONED = re.compile(r"^pc-(q35|i440fx)-(\d+\.\d+(?:\.\d+)?)$")


def qemu_release(context: CheckContext) -> Release | None:
    """The QEMU release that runs the guest: the context's, else the host's."""
    version = context.qemu_version or (context.host.qemu_version if context.host else None)
    return parse_release(version) if version else None


def lacks_machine(machine: str | None, qemu: Release) -> bool:
    """Whether QEMU `qemu` lacks the versioned machine type `machine`: one
    newer than itself, or older than the oldest it keeps (catalog:
    qemu.machine_types). Unversioned types (pc, q35) it always has."""
    match = _VERSIONED.match(machine or "")
    if match is None:
        return False
    family, version = match.groups()
    wanted = parse_release(version)
    if wanted[:2] > qemu[:2]:
        return True
    kept = [entry for entry in load_catalog().qemu.machine_types if parse_release(entry.qemu) <= qemu]
    return bool(kept) and wanted < parse_release(getattr(kept[-1], family))


def qemu_machine_message(machine: str, qemu: Release) -> str:
    """QEMU's words for a machine type it lacks, as release `qemu` says them."""
    return said_by(load_catalog().qemu.machine_refused, qemu).format(machine=machine)


@only_for("qemu")
def check_machine_type(config: HypervConfig, context: CheckContext) -> list[Finding]:
    qemu = qemu_release(context)
    if qemu is None or config.machine is None or not lacks_machine(config.machine, qemu):
        return []
    said = qemu_machine_message(config.machine, qemu)
    return [
        Finding(
            code="qemu-machine-type",
            severity=Severity.ERROR,
            feature=None,
            message=f"QEMU {qemu} has no machine type {config.machine} and refuses to start ({said})",
            refused_by="qemu",
            said=said,
        )
    ]
