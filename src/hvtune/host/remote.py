"""A host known only through its libvirt daemon: what KVM emulates there,
read back from libvirt's domcapabilities, for doctor --connect on another
machine (whose /dev/kvm hvtune cannot open)."""

from __future__ import annotations

from datetime import UTC, datetime

from hvtune.catalog import load_catalog
from hvtune.cpuid import built, or_register
from hvtune.formats.domcaps import HypervCapabilities
from hvtune.host.kvm import KvmFacts
from hvtune.host.profile import HostProfile
from hvtune.host.sysfs import SystemFacts


def profile_from_libvirt(uri: str, libvirt_version: str, capabilities: HypervCapabilities | None) -> HostProfile:
    """The host behind `uri` as its domcapabilities describe it: each
    Hyper-V feature libvirt lists has its CPUID bits set, so QEMU's support
    rule gives libvirt's answer (hv-time, a clock timer libvirt does not
    list, goes with SynIC); nothing is known of its CPU, modules or
    clocksource. No capabilities (libvirt before 9.0, or none there): a KVM
    without Hyper-V emulation, as libvirt reports it."""
    catalog = load_catalog()
    listed = capabilities.features if capabilities else frozenset()
    by_libvirt = catalog.by_libvirt()
    supported = {by_libvirt[name].name for name in listed if name in by_libvirt and by_libvirt[name].is_feature}
    if "hv-synic" in supported:
        supported.add("hv-time")
    leaves: dict[int, list[int]] = {}
    for prop in catalog.features:
        if prop.name in supported:
            for bit in prop.cpuid:
                or_register(leaves, bit.leaf, bit.reg, 1 << bit.bit)
    hyperv = 1 if supported else 0
    kvm = KvmFacts(
        device="present",
        capabilities={"KVM_CAP_HYPERV": hyperv, "KVM_CAP_HYPERV_VP_INDEX": int("hv-vpindex" in supported)},
        hv_cpuid=built(leaves) if hyperv else None,
        hv_cpuid_source="system" if hyperv else None,
    )
    return HostProfile(
        name=uri,
        description=f"known from libvirt {libvirt_version}'s domcapabilities at {uri}",
        system=SystemFacts(),
        kvm=kvm,
        libvirt_version=libvirt_version,
        libvirt_hyperv=capabilities,
        probed=datetime.now(UTC).isoformat(timespec="seconds"),
    )
