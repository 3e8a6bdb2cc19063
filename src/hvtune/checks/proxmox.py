"""qemu-server's own rules, for a VM read from a qm configuration file: what
it refuses to start, the lines it skips (a ``cpu:`` with flags a VM may not
set makes it start the VM with its default CPU), and a -cpu in ``args:``,
which replaces the one it builds. QEMU's rules then judge the -cpu QEMU
gets, as for any command line."""

from __future__ import annotations

from hvtune.catalog import load_catalog
from hvtune.checks.context import CheckContext
from hvtune.config import HypervConfig
from hvtune.documents.proxmox import Ignored, ProxmoxVM
from hvtune.findings import ConfigChange, Finding, Severity
from hvtune.valuetypes import Value


def check_proxmox_start(config: HypervConfig, context: CheckContext) -> list[Finding]:
    """A machine type the node's QEMU or qemu-server cannot run."""
    vm = context.document_of(ProxmoxVM)
    if vm is None or vm.refused is None:
        return []
    return [
        Finding(
            code="proxmox-refused",
            severity=Severity.ERROR,
            feature=None,
            message=f"qemu-server refuses to start the VM: {vm.refused}",
            refused_by="proxmox",
            said=vm.refused,
        )
    ]


def _wanted(ignored: Ignored) -> ConfigChange | None:
    """What refused per-VM flags asked for, as a change the Proxmox format
    writes where qemu-server takes it; None when one is no property."""
    values: dict[str, Value | None] = {}
    for flag in ignored.flags:
        entry = load_catalog().entry(flag[1:])
        if entry is None:
            return None
        values[entry.name] = flag[0] == "+"
    return ConfigChange(values)


def check_proxmox_skipped(config: HypervConfig, context: CheckContext) -> list[Finding]:
    """Each line qemu-server skips with a warning when it starts the VM."""
    vm = context.document_of(ProxmoxVM)
    if vm is None:
        return []
    return [_skipped(ignored, vm) for ignored in vm.ignored]


def _skipped(ignored: Ignored, vm: ProxmoxVM) -> Finding:
    if ignored.key == "cpu":
        return Finding(
            code="proxmox-cpu-skipped",
            severity=Severity.ERROR,
            feature=None,
            message=(
                f"qemu-server skips line {ignored.line} ({ignored.problem}): `qm set` refuses it, and at start "
                f"the VM gets the -cpu qemu-server builds without it ({vm.built.partition(',')[0]})"
            ),
            fix=_wanted(ignored),
            said=ignored.problem,
        )
    return Finding(
        code="proxmox-line-skipped",
        severity=Severity.WARNING,
        feature=None,
        message=f"qemu-server skips line {ignored.line} when it starts the VM ({ignored.problem})",
        said=ignored.problem,
    )


def check_proxmox_args(config: HypervConfig, context: CheckContext) -> list[Finding]:
    """A -cpu in args: QEMU takes it, not the one qemu-server builds."""
    vm = context.document_of(ProxmoxVM)
    if vm is None or vm.args_cpu is None:
        return []
    return [
        Finding(
            code="proxmox-args-cpu",
            severity=Severity.INFO,
            feature=None,
            message=(
                f"line {vm.settings['args'].line}: the -cpu in args: replaces the one qemu-server builds "
                f"({vm.built}): changes of ostype, machine or cpu: no longer reach the guest"
            ),
        )
    ]
