"""What the kernel tells anyone about this machine, read from /proc and
/sys: the CPU, the KVM module and its parameters, the clocksource, TSC
flags, SMT and the kernel release.

Every reader takes the file-system root, so tests read recorded trees of
other machines; a file that is missing or unreadable is a fact left unknown
(None), never an error.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

# The /proc/cpuinfo flags that matter for Hyper-V enlightenments.
CPU_FLAGS = ("vmx", "svm", "hypervisor", "constant_tsc", "nonstop_tsc", "tsc_known_freq", "tsc_reliable", "tsc_scale")
# KVM modules and the parameters that matter, as /sys/module shows them.
KVM_MODULES: Mapping[str, tuple[str, ...]] = {
    "kvm_intel": ("nested", "enable_apicv", "enable_ipiv", "enable_shadow_vmcs"),
    "kvm_amd": ("nested", "avic", "enable_ipiv", "force_avic"),
    "kvm_pvm": (),
    "kvm": ("tsc_tolerance_ppm",),
}
_VENDORS = {"GenuineIntel": "intel", "AuthenticAMD": "amd", "HygonGenuine": "hygon", "CentaurHauls": "centaur"}
VENDOR_NAMES = {"intel": "Intel", "amd": "AMD", "hygon": "Hygon", "centaur": "Centaur"}


@dataclass(frozen=True)
class CpuFacts:
    """The first CPU of /proc/cpuinfo: vendor (``intel``, ``amd``, ...),
    model name, family and model, and the flags in CPU_FLAGS it has."""

    vendor: str | None = None
    model_name: str | None = None
    family: int | None = None
    model: int | None = None
    flags: frozenset[str] = frozenset()

    @property
    def vendor_name(self) -> str:
        """The vendor as people write it (Intel, AMD), or "unknown"."""
        return VENDOR_NAMES.get(self.vendor or "", self.vendor or "unknown")

    @property
    def virtualization(self) -> str | None:
        """``vmx``, ``svm`` or None (hidden, as inside most VMs and PVM hosts)."""
        return next((flag for flag in ("vmx", "svm") if flag in self.flags), None)


@dataclass(frozen=True)
class SystemFacts:
    """Everything read from /proc and /sys."""

    kernel: str | None = None
    cpu: CpuFacts = field(default_factory=CpuFacts)
    modules: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    clocksource: str | None = None
    clocksources: tuple[str, ...] = ()
    smt: str | None = None


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8", errors="replace").strip()
    except OSError:
        return None


def _cpu(root: Path) -> CpuFacts:
    text = _read(root / "proc/cpuinfo") or ""
    first: dict[str, str] = {}
    for line in text.splitlines():
        if not line.strip():
            if first:
                break  # the first processor is enough
            continue
        key, _, value = line.partition(":")
        first.setdefault(key.strip(), value.strip())
    family, model = first.get("cpu family", ""), first.get("model", "")
    vendor = first.get("vendor_id")
    return CpuFacts(
        vendor=_VENDORS.get(vendor, vendor.lower()) if vendor else None,
        model_name=first.get("model name"),
        family=int(family) if family.isdigit() else None,
        model=int(model) if model.isdigit() else None,
        flags=frozenset(first.get("flags", "").split()) & frozenset(CPU_FLAGS),
    )


def _modules(root: Path) -> dict[str, dict[str, str]]:
    loaded = {}
    for module, parameters in KVM_MODULES.items():
        folder = root / "sys/module" / module
        if not folder.is_dir():
            continue
        values = {name: value for name in parameters if (value := _read(folder / "parameters" / name)) is not None}
        loaded[module] = values
    return loaded


def read_system(root: str | Path = "/") -> SystemFacts:
    """The facts of the machine whose file system starts at `root`."""
    base = Path(root)
    clock = base / "sys/devices/system/clocksource/clocksource0"
    available = _read(clock / "available_clocksource")
    return SystemFacts(
        kernel=_read(base / "proc/sys/kernel/osrelease"),
        cpu=_cpu(base),
        modules=_modules(base),
        clocksource=_read(clock / "current_clocksource"),
        clocksources=tuple(available.split()) if available else (),
        smt=_read(base / "sys/devices/system/cpu/smt/control"),
    )
