"""The hypervisor CPUID leaves QEMU builds for a configuration on a host:
what a guest started with it will read from 0x40000000 on.

It follows QEMU's hyperv_fill_cpuids() and kvm_arch_init_vcpu() with the
facts of the catalog: each feature's bits (``cpuid``, and ``cpuid_also``
under its condition), and what QEMU writes besides (``[cpuid.qemu]``: the
interface, limits, version, the eVMCS version, the synthetic debugger's
leaves, KVM's own signature leaf and where it goes). hv-passthrough is
expanded from the host's KVM_GET_SUPPORTED_HV_CPUID leaves as QEMU does.

The prediction assumes QEMU starts the configuration (hvtune check says
whether it does). KVM's features leaf (after its signature) holds what the
host's KVM offers a CPU model, which a host profile does not record: it is
named as unpredicted, not guessed.
"""

from __future__ import annotations

from dataclasses import dataclass

from hvtune.catalog import Property, in_qemu, load_catalog
from hvtune.config import HypervConfig
from hvtune.cpuid import Leaves, Registers, built, or_register, unpack_registers
from hvtune.cpuid_table import REGISTER_NAMES
from hvtune.host.profile import HostProfile
from hvtune.releases import Release, parse_release

_SIGNATURE_SIZE = 12  # bytes of a vendor signature: EBX, ECX, EDX
_HYPERVISOR_FIRST = 0x40000000  # the first leaf of the hypervisors' range


@dataclass(frozen=True)
class GuestCpuid:
    """The leaves QEMU builds (every other hypervisor leaf reads as zeros on
    an AMD host), the features that are on (hv-passthrough expanded), and
    the leaves that exist but whose value the prediction cannot know."""

    leaves: Leaves
    features: tuple[str, ...]
    unpredicted: tuple[int, ...]


def _words(text: bytes, count: int) -> tuple[int, ...]:
    """Bytes as `count` little-endian registers, cut or padded with zeros."""
    size = 4 * count
    data = text[:size].ljust(size, b"\0")
    return unpack_registers(data.ljust(16, b"\0"))[:count]


def passthrough_features(profile: HostProfile) -> tuple[str, ...]:
    """The features hv-passthrough turns on for `profile` (QEMU's
    kvm_hyperv_expand_features): those its KVM supports that its QEMU has,
    less those QEMU leaves out of passthrough from ``qemu.passthrough_skips``
    on."""
    catalog = load_catalog()
    release = _release(profile)
    skips = release is None or release >= parse_release(catalog.qemu.passthrough_skips)
    return tuple(
        prop.name
        for prop in catalog.features
        if profile.support.get(prop.name) and in_qemu(prop, release) and not (skips and prop.skip_passthrough)
    )


def _release(profile: HostProfile) -> Release | None:
    return parse_release(profile.qemu_version) if profile.qemu_version else None


def _older(profile: HostProfile, version: str | None) -> bool:
    """Whether the profile's QEMU is older than `version` (a profile that
    names no QEMU is taken as current)."""
    release = _release(profile)
    return version is not None and release is not None and release < parse_release(version)


def _host_leaf(profile: HostProfile, leaf: int) -> Registers:
    """A leaf KVM reported for the host, zeros when absent (QEMU's
    hv_cpuid_get_host), as plain numbers (a profile keeps them as
    Registers, which JSON writes in hex)."""
    eax, ebx, ecx, edx = (int(value) for value in (profile.kvm.hv_cpuid or {}).get(leaf, (0, 0, 0, 0)))
    return eax, ebx, ecx, edx


def _feature_bits(
    leaves: dict[int, list[int]], features: tuple[Property, ...], config: HypervConfig, profile: HostProfile
) -> None:
    """Each feature's bits, and the bits its notes set unless their
    property is on or the QEMU is older than the note (QEMU's
    hv_build_cpuid_leaf and hyperv_fill_cpuids)."""
    on = {prop.name for prop in features}
    for prop in features:
        for bit in prop.cpuid:
            or_register(leaves, bit.leaf, bit.reg, 1 << bit.bit)
        for note in prop.cpuid_also:
            if _older(profile, note.since):
                continue
            if note.sets and not (note.unless and (note.unless in on or config.effective(note.unless) is True)):
                value = note.mask if note.value is None else note.value << (note.mask & -note.mask).bit_length() - 1
                or_register(leaves, note.leaf, note.reg, value)


def _identity(config: HypervConfig, profile: HostProfile) -> dict[int, list[int]]:
    """Vendor, interface, version and limits leaves, and the spinlock count
    (as 0x40000004.EBX): the configuration's, or with hv-passthrough the
    host's."""
    facts = load_catalog().cpuid.qemu
    if config.passthrough:
        host = {leaf: list(_host_leaf(profile, leaf)) for leaf in range(0x40000000, facts.last_leaf + 1)}
        return {**host, 0x40000003: [0, 0, 0, 0], 0x40000004: [0, host[0x40000004][1], 0, 0]}
    vendor = str(config.effective("hv-vendor-id")).encode("utf-8")
    if _older(profile, facts.fixed_version_before):
        version = list(facts.fixed_version)
    else:
        number = {name: int(config.effective(f"hv-version-id-{name}")) for name in ("build", "major", "minor")}
        extra = {name: int(config.effective(f"hv-version-id-{name}")) for name in ("spack", "sbranch", "snumber")}
        version = [
            number["build"],
            number["major"] << 16 | number["minor"],
            extra["spack"],
            extra["sbranch"] << 24 | extra["snumber"] & 0xFFFFFF,
        ]
    return {
        0x40000000: [0, *_words(vendor, 3)],
        0x40000001: [*_words(facts.interface, 4)],
        0x40000002: version,
        0x40000004: [0, int(config.effective("hv-spinlocks")) & 0xFFFFFFFF, 0, 0],
        facts.last_leaf: [int(config.effective("x-hv-max-vps")) & 0xFFFFFFFF, *facts.limits],
    }


def _hyperv_leaves(config: HypervConfig, profile: HostProfile) -> tuple[dict[int, list[int]], tuple[str, ...]]:
    """QEMU's hyperv_fill_cpuids(): the Hyper-V leaves and the features on
    (before ``passthrough_copies``, hv-passthrough's leaves are KVM's)."""
    catalog = load_catalog()
    facts = catalog.cpuid.qemu
    # passthrough adds the host's features to those set on (QEMU ORs them in)
    added = set(passthrough_features(profile)) if config.passthrough else set()
    features = tuple(p for p in catalog.features if p.name in added or config.enabled(p.name))
    names = tuple(p.name for p in features)
    if config.passthrough and _older(profile, facts.passthrough_copies_before):
        return {leaf: list(_host_leaf(profile, leaf)) for leaf in profile.kvm.hv_cpuid or {}}, names
    leaves = _identity(config, profile)
    for leaf in range(0x40000000, facts.last_leaf + 1):
        leaves.setdefault(leaf, [0, 0, 0, 0])
    for always in facts.always:
        if not _older(profile, always.since) or set(always.before_with) & set(names):
            or_register(leaves, always.leaf, always.reg, 1 << always.bit)
    _feature_bits(leaves, features, config, profile)
    coresharing = catalog.property("hv-no-nonarch-coresharing")
    mode = config.effective(coresharing.name)
    for bit in coresharing.cpuid:
        host = _host_leaf(profile, bit.leaf)[REGISTER_NAMES.index(bit.reg)]
        if mode == "on" or (mode == "auto" and host >> bit.bit & 1):
            or_register(leaves, bit.leaf, bit.reg, 1 << bit.bit)
    last = facts.last_leaf
    if leaves.get(facts.nested_leaf, [0])[0]:
        last = facts.nested_leaf
        for leaf in range(facts.last_leaf + 1, facts.nested_leaf):
            leaves.setdefault(leaf, [0, 0, 0, 0])
    else:
        leaves.pop(facts.nested_leaf, None)
    if "hv-syndbg" in names:
        capabilities = facts.syndbg_capabilities
        leaves[facts.syndbg_vendor_leaf] = [0, *_words(facts.syndbg_vendor, 3)]
        leaves[facts.syndbg_interface_leaf] = [*_words(facts.syndbg_interface, 4)]
        leaves[capabilities.leaf] = [0, 0, 0, 0]
        or_register(leaves, capabilities.leaf, capabilities.reg, 1 << capabilities.bit)
        last = max(last, capabilities.leaf)
    leaves[0x40000000][0] = last
    return leaves, names


def predict_cpuid(config: HypervConfig, profile: HostProfile) -> GuestCpuid:
    """The hypervisor leaves QEMU builds for `config` on `profile`'s host
    (QEMU's kvm_arch_init_vcpu): the Hyper-V leaves when QEMU builds them
    (an enlightenment on, and a KVM with Hyper-V emulation), then KVM's
    signature leaf after them unless kvm=off hides it."""
    facts = load_catalog().cpuid.qemu
    leaves: dict[int, list[int]] = {}
    names: tuple[str, ...] = ()
    base = facts.kvm_first
    if (config.hyperv_enabled or config.passthrough) and profile.hyperv_emulation:
        leaves, names = _hyperv_leaves(config, profile)
        base = facts.kvm_moved
    unpredicted: tuple[int, ...] = ()
    if not config.kvm_hidden:
        leaves[base] = [base + 1, *_words(facts.kvm_signature, 3)]
        unpredicted = (base + 1,)
    registers = built(leaves)
    return GuestCpuid(registers, names, unpredicted)


@dataclass(frozen=True)
class ComparedRegister:
    """One register of one hypervisor leaf: what hvtune predicted (None for
    a leaf it leaves open) and what a guest read."""

    leaf: int
    reg: str
    predicted: int | None
    observed: int

    @property
    def differs(self) -> bool:
        return self.predicted is not None and self.predicted != self.observed


def compare_cpuid(predicted: GuestCpuid, observed: Leaves) -> tuple[ComparedRegister, ...]:
    """Every register of every hypervisor leaf either side holds, in leaf
    and register order (a leaf QEMU does not build reads as zeros on an AMD
    host, and is predicted so)."""
    rows = []
    for leaf in sorted({*predicted.leaves, *observed}):
        if leaf < _HYPERVISOR_FIRST:
            continue
        expected = None if leaf in predicted.unpredicted else predicted.leaves.get(leaf, (0, 0, 0, 0))
        seen = observed.get(leaf, (0, 0, 0, 0))
        rows += [
            ComparedRegister(leaf, reg, None if expected is None else expected[index], seen[index])
            for index, reg in enumerate(REGISTER_NAMES)
        ]
    return tuple(rows)


def cpuid_differences(predicted: GuestCpuid, observed: Leaves) -> tuple[ComparedRegister, ...]:
    """The registers where the prediction and what a guest read differ."""
    return tuple(row for row in compare_cpuid(predicted, observed) if row.differs)
