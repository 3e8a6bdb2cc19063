"""Which accelerator boots an ordinary Linux guest here, and what that
changes in a -cpu value."""

from __future__ import annotations

import os
from collections.abc import Collection

from hvtune.host.kvm import probe_kvm
from hvtune.host.support import hyperv_emulation

PVM_NOTE = "KVM here is kvm_pvm, which runs only kernels built as PVM guests: an ordinary kernel does not boot under it"


def _kvm_opens() -> bool:
    try:
        os.close(os.open("/dev/kvm", os.O_RDWR | os.O_CLOEXEC))
    except OSError:
        return False
    return True


def accelerator(requested: str | None, modules: Collection[str]) -> tuple[str, str | None]:
    """The accelerator (``kvm`` or ``tcg``) and what to say about the choice,
    if anything: the one requested, else KVM when /dev/kvm opens and a KVM
    that boots ordinary guests provides it (not PVM, given `modules`, the
    loaded kernel modules), else TCG."""
    pvm = "kvm_pvm" in modules
    if requested == "kvm":
        return "kvm", PVM_NOTE if pvm else None
    if requested is None and pvm:
        return "tcg", f"{PVM_NOTE}; running under TCG"
    if requested is None and _kvm_opens():
        return "kvm", None
    return "tcg", None


def hyperv_lacking(modules: Collection[str]) -> str | None:
    """Why this machine's KVM cannot run a guest with Hyper-V
    enlightenments (`modules`: the loaded kernel modules), or None when it
    can."""
    if "kvm_pvm" in modules:
        return PVM_NOTE
    kvm = probe_kvm()
    if kvm.device != "present":
        return kvm.problem or "/dev/kvm is not usable here"
    if not hyperv_emulation(kvm):
        return "KVM here emulates no Hyper-V (KVM_CAP_HYPERV is 0): QEMU would drop every enlightenment"
    return None


def cpu_for_accel(cpu: str, accel: str) -> tuple[str, str | None]:
    """The -cpu value to give QEMU under `accel`, and what was changed, if
    anything: `host` exists only under KVM; under TCG the nearest is `max`."""
    model, _, rest = cpu.partition(",")
    if accel == "tcg" and model == "host":
        return ",".join(["max", rest]) if rest else "max", "under TCG the CPU model host is replaced by max"
    return cpu, None
