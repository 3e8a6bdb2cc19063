"""HostProfile: what a host offers Hyper-V guests, probed here or loaded
from a saved profile, so that a fleet's hosts can be judged from one
machine. The raw facts are kept; what follows from them is computed."""

from __future__ import annotations

import shutil
import socket
import subprocess
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property

from hvtune.catalog import Property, load_catalog
from hvtune.errors import InputError
from hvtune.formats.domcaps import HypervCapabilities, parse_domcaps
from hvtune.host.kvm import KvmFacts, probe_kvm
from hvtune.host.support import feature_support, hyperv_emulation, vp_index_settable
from hvtune.host.sysfs import VENDOR_NAMES, SystemFacts, read_system
from hvtune.host.versions import local_libvirt_version, local_qemu_version
from hvtune.valuetypes import Value

# Host clocksources KVM can base a stable kvmclock (and so the Hyper-V TSC page) on.
TSC_CLOCKSOURCES = ("tsc", "hyperv_clocksource_tsc_page")
_YES = ("Y", "y", "1")


@dataclass(frozen=True)
class HostProfile:
    """One host: ``name`` and ``description`` say which; ``probed`` is when
    it was probed (None for the bundled examples)."""

    name: str
    description: str
    system: SystemFacts
    kvm: KvmFacts
    qemu_version: str | None = None
    libvirt_version: str | None = None
    libvirt_hyperv: HypervCapabilities | None = None
    probed: str | None = None
    support: Mapping[str, bool] = field(init=False, repr=False, compare=False)
    # The supported features as QEMU's bit mask, for the dependency walk.
    support_mask: int = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        support = feature_support(self.kvm)
        bits = load_catalog().feature_bits
        object.__setattr__(self, "support", support)
        object.__setattr__(self, "support_mask", sum(1 << bits[name] for name, ok in support.items() if ok))

    @property
    def hyperv_emulation(self) -> bool:
        return hyperv_emulation(self.kvm)

    @property
    def supported(self) -> tuple[str, ...]:
        """The features this host's KVM supports, in QEMU's order."""
        return tuple(name for name, ok in self.support.items() if ok)

    @property
    def vp_index_settable(self) -> bool:
        return vp_index_settable(self.kvm)

    @property
    def vendor(self) -> str | None:
        return self.system.cpu.vendor

    @property
    def kvm_module(self) -> str | None:
        """The module that provides KVM here (kvm_intel, kvm_amd, kvm_pvm)."""
        return next((module for module in self.system.modules if module != "kvm"), None)

    def _parameter(self, module: str, name: str) -> bool | None:
        value = self.system.modules.get(module, {}).get(name)
        return None if value is None else value in _YES

    @property
    def nested(self) -> bool | None:
        """Whether KVM offers nested virtualization (None: unknown)."""
        for module in ("kvm_intel", "kvm_amd"):
            if module in self.system.modules:
                return self._parameter(module, "nested")
        return None

    @property
    def apicv(self) -> bool | None:
        """Whether APICv (Intel) or AVIC (AMD) is on in KVM (None: unknown)."""
        if "kvm_intel" in self.system.modules:
            return self._parameter("kvm_intel", "enable_apicv")
        if "kvm_amd" in self.system.modules:
            return self._parameter("kvm_amd", "avic")
        return None

    @property
    def stable_clocksource(self) -> bool | None:
        """Whether the host clocksource lets KVM publish a stable reference
        TSC page (None: unknown)."""
        source = self.system.clocksource
        return None if source is None else source in TSC_CLOCKSOURCES

    @property
    def invariant_tsc(self) -> bool:
        return {"constant_tsc", "nonstop_tsc"} <= self.system.cpu.flags

    def runs_tsc_at(self, hertz: Value) -> bool:
        """Whether a guest can have a fixed TSC frequency of `hertz` here:
        KVM scales the TSC (KVM_CAP_TSC_CONTROL), or the host's own runs at
        exactly that many kHz (QEMU's rule), or the profile does not say."""
        if not isinstance(hertz, int) or self.kvm.capability("KVM_CAP_TSC_CONTROL"):
            return True
        return self.kvm.tsc_khz is None or self.kvm.tsc_khz == hertz // 1000

    @property
    def smt_active(self) -> bool | None:
        """Whether sibling threads share cores now (None: unknown)."""
        smt = self.system.smt
        return None if smt is None else smt == "on"

    def why_unsupported(self, prop: Property) -> str:
        """Why this host's KVM does not offer `prop`, as far as its facts tell."""
        needs = prop.host
        cpu = self.system.cpu
        if needs.vendor and cpu.vendor and cpu.vendor != needs.vendor:
            return f"{prop.name} needs an {VENDOR_NAMES[needs.vendor]} CPU; this host's is {cpu.vendor_name}"
        if needs.nested and self.nested is False:
            return f"{prop.name} needs nested virtualization, which is off in {self.kvm_module}"
        if self.kvm.hv_cpuid is None and prop.legacy is None:
            return f"this kernel has no KVM_GET_SUPPORTED_HV_CPUID, the only way QEMU can enable {prop.name}"
        kernel = f"Linux {self.system.kernel}" if self.system.kernel else "this kernel"
        return f"{kernel} does not offer it; KVM has it from Linux {prop.since.kernel}"

    @cached_property
    def status(self) -> str:
        """The one-line answer: can this host give guests Hyper-V enlightenments?"""
        kvm = self.kvm
        if kvm.device != "present":
            return f"no usable KVM: {kvm.problem}"
        if not self.hyperv_emulation:
            return "KVM present; Hyper-V emulation not available (KVM_CAP_HYPERV is 0)"
        if kvm.hv_cpuid is None and kvm.hv_cpuid_source is not None:
            return f"KVM present; Hyper-V emulation present but unreadable: {kvm.hv_cpuid_problem}"
        return f"KVM present; Hyper-V emulation supports {len(self.supported)} of {len(self.support)} features"


def _libvirt_hyperv(uri: str) -> HypervCapabilities | None:
    """The Hyper-V part of `virsh domcapabilities` when a daemon answers."""
    virsh = shutil.which("virsh")
    if virsh is None:
        return None
    command = [virsh, "-c", uri, "domcapabilities", "--virttype", "kvm"]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return None
    if done.returncode != 0:
        return None
    try:
        return parse_domcaps(done.stdout, source=f"{uri} domcapabilities")
    except InputError:
        return None


def probe_host(
    *, kvm_path: str = "/dev/kvm", root: str = "/", libvirt_uri: str | None = "qemu:///system"
) -> HostProfile:
    """Probe this machine without changing anything (libvirt_uri None: skip
    asking a libvirt daemon). The programs asked for versions and
    capabilities run side by side while /dev/kvm and /sys are read."""
    with ThreadPoolExecutor(max_workers=3) as pool:
        qemu = pool.submit(local_qemu_version)
        libvirt = pool.submit(local_libvirt_version)
        domcaps = pool.submit(_libvirt_hyperv, libvirt_uri) if libvirt_uri else None
        system, kvm = read_system(root), probe_kvm(kvm_path)
    return HostProfile(
        name=socket.gethostname(),
        description="probed by hvtune host",
        system=system,
        kvm=kvm,
        qemu_version=qemu.result(),
        libvirt_version=libvirt.result(),
        libvirt_hyperv=domcaps.result() if domcaps else None,
        probed=datetime.now(UTC).isoformat(timespec="seconds"),
    )
