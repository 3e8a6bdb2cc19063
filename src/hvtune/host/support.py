"""Which enlightenments a host's KVM supports, decided by QEMU's rule
(target/i386/kvm/kvm.c): nothing without KVM_CAP_HYPERV; otherwise a feature
is supported when every CPUID bit it sets is among the bits
KVM_GET_SUPPORTED_HV_CPUID reports, or, on kernels without that ioctl, when
its legacy probe (a capability, an MSR KVM saves) succeeds. The bits and
probes are the catalog's."""

from __future__ import annotations

from hvtune.catalog import Property, load_catalog
from hvtune.cpuid import all_set
from hvtune.host.kvm import KvmFacts


def hyperv_emulation(kvm: KvmFacts) -> bool:
    """Whether KVM emulates Hyper-V at all (QEMU's hyperv_enabled())."""
    return kvm.device == "present" and kvm.capability("KVM_CAP_HYPERV") > 0


def _legacy(kvm: KvmFacts, prop: Property) -> bool:
    probe = prop.legacy
    if probe is None:
        return False  # QEMU can enable it only through KVM_GET_SUPPORTED_HV_CPUID
    if probe.capability and kvm.capability(probe.capability) <= 0:
        return False
    return probe.msr is None or probe.msr in (kvm.hyperv_msrs or ())


def _vcpu_quirk(kvm: KvmFacts, prop: Property) -> bool:
    """The vCPU form of the ioctl reports eVMCS only once it is enabled on
    that vCPU; QEMU then trusts KVM_CAP_HYPERV_ENLIGHTENED_VMCS instead."""
    return kvm.hv_cpuid_source == "vcpu" and prop.name == "hv-evmcs" and kvm.capability(prop.kvm_capability or "") > 0


def feature_support(kvm: KvmFacts) -> dict[str, bool]:
    """Every Hyper-V feature QEMU knows, and whether this KVM supports it."""
    features = load_catalog().features
    if not hyperv_emulation(kvm) or (kvm.hv_cpuid is None and kvm.hv_cpuid_source is not None):
        return {prop.name: False for prop in features}
    if kvm.hv_cpuid is not None:
        leaves = kvm.hv_cpuid
        return {prop.name: all_set(leaves, prop.cpuid) or _vcpu_quirk(kvm, prop) for prop in features}
    return {prop.name: _legacy(kvm, prop) for prop in features}


def vp_index_settable(kvm: KvmFacts) -> bool:
    """Whether QEMU may set each vCPU's VP_INDEX (else hv-vpindex cannot start)."""
    return kvm.capability("KVM_CAP_HYPERV_VP_INDEX") > 0
