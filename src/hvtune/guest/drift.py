"""Drift: what a guest received against what a configuration asks for on a
host (hvtune cpuid's prediction), each difference with its likely cause.

Both sides are read with the same decoder (hvtune.cpuid.read_leaves), and
only as a guest may read them: a leaf past the last one its interface
announces, or of an interface that is not there, means nothing and is left
out. The hypervisor range is two regions, 0x40000000 (Hyper-V, or KVM when
nothing moves it) and 0x40000100 (KVM, moved there by Hyper-V); when a
region holds another interface than predicted, that is one difference and
its values are not compared. Then:

- features (each catalog feature whose bits are all set), configured but
  not received, or received but not configured;
- values the features do not own, field by field with the table's names
  (vendor id, spinlock retries, maximum leaf, eVMCS version, ...).

KVM's features leaf after its signature holds what the host's KVM offers,
which the prediction cannot know: it is never compared.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from hvtune.catalog import in_qemu, load_catalog
from hvtune.config import HypervConfig
from hvtune.cpuid import REGION_SIZE, Leaves, Registers, all_set, feature_mask, interface_at, read_leaves
from hvtune.cpuid_table import REGISTER_NAMES, CpuidField
from hvtune.guestview import predict_cpuid
from hvtune.host.profile import HostProfile
from hvtune.releases import parse_release

HYPERVISOR_FIRST = 0x40000000
REGION_BASES = (HYPERVISOR_FIRST, HYPERVISOR_FIRST + REGION_SIZE)  # Hyper-V's (or KVM's), KVM's moved


class DriftKind(StrEnum):
    MISSING = "missing"  # configured, not received
    UNEXPECTED = "unexpected"  # received, not configured
    VALUE = "value"  # both, with different values


class Cause(StrEnum):
    """Why a guest likely received something else than configured."""

    HOST_LACKS = "host-lacks"  # the host profile says its KVM does not support it
    QEMU_DROPPED = "qemu-dropped"  # the host's QEMU leaves it out
    OTHER_HOST = "other-host"  # hv-passthrough copied another host than the profile's
    OTHER_CONFIG = "other-config"  # the guest was started with a different configuration


@dataclass(frozen=True)
class Drift:
    """One difference: what (a property, or a leaf's field), the configured
    and the received value as text (None: not there), the likely cause and
    why it is likely."""

    kind: DriftKind
    subject: str
    expected: str | None
    received: str | None
    cause: Cause
    why: str


def meaningful(leaves: Leaves) -> dict[int, Registers]:
    """The hypervisor leaves of `leaves` a guest may interpret."""
    return {
        reading.leaf: reading.registers
        for reading in read_leaves(leaves)
        if reading.leaf >= HYPERVISOR_FIRST and not reading.unread
    }


def interfaces(leaves: Leaves) -> dict[int, str | None]:
    """The interface each region of the hypervisor range holds."""
    return {base: interface_at(leaves, base) for base in REGION_BASES}


def kvm_features_leaves(leaves: Leaves) -> tuple[int, ...]:
    """The leaves after KVM's signatures in `leaves` (its features: the
    host's KVM's, never predicted)."""
    bases = load_catalog().cpuid.qemu
    return tuple(base + 1 for base in (bases.kvm_first, bases.kvm_moved) if interface_at(leaves, base) == "KVM")


def received_features(leaves: Leaves) -> tuple[str, ...]:
    """The features whose bits are all set where a guest may read them, in
    catalog order."""
    readable = meaningful(leaves)
    return tuple(prop.name for prop in load_catalog().features if prop.cpuid and all_set(readable, prop.cpuid))


def _missing_cause(name: str, profile: HostProfile) -> tuple[Cause, str]:
    prop = load_catalog().property(name)
    if profile.support.get(name) is False:
        return Cause.HOST_LACKS, f"{profile.name}'s KVM does not support it"
    release = parse_release(profile.qemu_version) if profile.qemu_version else None
    if not in_qemu(prop, release):
        return Cause.QEMU_DROPPED, f"QEMU {profile.qemu_version} does not have it"
    return Cause.OTHER_CONFIG, "the guest was started with a configuration without it"


def _unexpected_cause(config: HypervConfig, profile: HostProfile) -> tuple[Cause, str]:
    if config.passthrough:
        return Cause.OTHER_HOST, f"hv-passthrough copies the host's support: this host has it, {profile.name} does not"
    return Cause.OTHER_CONFIG, "the guest was started with a configuration that has it (hv-passthrough, or defaults)"


def _feature_drift(config: HypervConfig, profile: HostProfile, expected: Leaves, received: Leaves) -> list[Drift]:
    wanted, got = set(received_features(expected)), set(received_features(received))
    drifts = []
    for prop in load_catalog().features:
        if prop.name in wanted - got:
            cause, why = _missing_cause(prop.name, profile)
            drifts.append(Drift(DriftKind.MISSING, prop.name, "on", None, cause, why))
        elif prop.name in got - wanted:
            cause, why = _unexpected_cause(config, profile)
            drifts.append(Drift(DriftKind.UNEXPECTED, prop.name, None, "on", cause, why))
    return drifts


def _region_drift(config: HypervConfig, base: int, expected: str | None, received: str | None) -> Drift:
    subject = f"0x{base:08X}: the hypervisor interface"
    kind = DriftKind.VALUE if expected and received else DriftKind.MISSING if expected else DriftKind.UNEXPECTED
    hidden = " (kvm=off)" if config.kvm_hidden else ""
    why = f"the guest was started with other enlightenments or another kvm= setting than configured{hidden}"
    return Drift(kind, subject, expected, received, Cause.OTHER_CONFIG, why)


def _text(fields: Iterable[CpuidField], registers: Registers) -> str:
    raw = "".join(field.shown(field.value(registers[REGISTER_NAMES.index(field.reg)]))[1:-1] for field in fields)
    return f'"{raw.rstrip(chr(0))}"'


def _value_drift(leaf: int, expected: Registers, received: Registers, cause: tuple[Cause, str]) -> list[Drift]:
    """The fields of one leaf whose values differ, bits features own apart:
    a leaf's text fields as one signature, every other field on its own,
    bits nothing names as one remainder per register."""
    names = load_catalog().cpuid.leaf(leaf)
    drifts: list[Drift] = []
    texts: list[CpuidField] = []
    differs_in_text = False
    for index, reg in enumerate(REGISTER_NAMES):
        differing = (expected[index] ^ received[index]) & ~feature_mask(leaf, reg)
        fields = () if names is None else names.fields_of(reg)
        for field in fields:
            if field.format == "text":
                texts.append(field)
                differs_in_text |= bool(differing & field.mask)
            elif differing & field.mask:
                shown = (field.shown(field.value(expected[index])), field.shown(field.value(received[index])))
                drifts.append(Drift(DriftKind.VALUE, str(field), *shown, *cause))
            differing &= ~field.mask
        if differing:
            subject = f"0x{leaf:08X}.{reg.upper()} bits 0x{differing:08X}"
            shown = (f"0x{expected[index] & differing:08X}", f"0x{received[index] & differing:08X}")
            drifts.append(Drift(DriftKind.VALUE, subject, *shown, *cause))
    if differs_in_text:
        title = names.title if names else "signature"
        subject = f"0x{leaf:08X} {title}"
        drifts.insert(0, Drift(DriftKind.VALUE, subject, _text(texts, expected), _text(texts, received), *cause))
    return drifts


def judge_drift(config: HypervConfig, profile: HostProfile, observed: Leaves) -> tuple[Drift, ...]:
    """Every difference between what `config` gives a guest on `profile`'s
    host and the `observed` leaves, most telling first: interfaces, then
    features, then values."""
    predicted = predict_cpuid(config, profile)
    expected, received = meaningful(predicted.leaves), meaningful(observed)
    skipped = {*predicted.unpredicted, *kvm_features_leaves(observed)}
    drifts: list[Drift] = []
    compared_regions = []
    wanted_interfaces, got_interfaces = interfaces(predicted.leaves), interfaces(observed)
    for base in REGION_BASES:
        wanted, got = wanted_interfaces[base], got_interfaces[base]
        if wanted != got:
            drifts.append(_region_drift(config, base, wanted, got))
        elif wanted is not None:
            compared_regions.append(base)
    drifts += _feature_drift(config, profile, predicted.leaves, observed)
    if config.passthrough:
        cause = (Cause.OTHER_HOST, f"hv-passthrough copies the host's values: this host's differ from {profile.name}'s")
    else:
        cause = (Cause.OTHER_CONFIG, "the guest was started with a configuration with other values")
    for leaf in sorted({*expected, *received} - skipped):
        if leaf - leaf % REGION_SIZE in compared_regions:
            zeros = (0, 0, 0, 0)
            drifts += _value_drift(leaf, expected.get(leaf, zeros), received.get(leaf, zeros), cause)
    return tuple(drifts)
