"""CPUID as hvtune models it: a leaf's four 32-bit registers, and the
Hyper-V bits in them, named and traced to their properties by the catalog
(each feature's ``cpuid`` facts, and its table of every bit of the
hypervisor leaves).

One model serves every reader of Hyper-V CPUID: the host probe, whose
leaves come from KVM_GET_SUPPORTED_HV_CPUID (a feature is supported when
every one of its bits is reported), and what a guest is predicted to see or
really sees. The facts stay in the catalog: nothing here names a bit.

`decode` names the bits features own; `read_leaves` names every bit and
field the catalog's table knows, as a guest may read them: a leaf past what
its interface announces means nothing and is only shown. KVM's leaves are
read alike where QEMU moves them (0x40000100, as the table has them) and
where KVM signs first (0x40000000, without Hyper-V).
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache

from hvtune.catalog import CpuidBit, load_catalog
from hvtune.cpuid_table import REGISTER_NAMES as REGISTER_NAMES
from hvtune.cpuid_table import CpuidBlock, CpuidField, CpuidTable, register_bytes

Registers = tuple[int, int, int, int]  # eax, ebx, ecx, edx
Leaves = Mapping[int, Registers]  # leaf (EAX on input) -> what CPUID returned

_REGISTERS = struct.Struct("<4I")
REGISTERS_SIZE = _REGISTERS.size

# The leaves read to see what a guest got: the Hyper-V leaves (the
# interface, its limits, hardware and nested features), the synthetic
# debugger's leaves, KVM's own leaves where QEMU moves them when Hyper-V
# takes 0x40000000, and the basic leaf 1, whose ECX[31] says whether there
# is a hypervisor at all. The sandbox's payload and hvtune guest read these.
OBSERVED_LEAVES: tuple[int, ...] = (
    *range(0x40000000, 0x4000000C),
    *range(0x40000080, 0x40000083),
    *range(0x40000100, 0x40000103),
    0x00000001,
)


def unpack_registers(buffer: bytes | bytearray, offset: int = 0) -> Registers:
    """The four registers as CPUID's consumers lay them out in memory (EAX
    first, each little-endian): in KVM's ``struct kvm_cpuid_entry2`` after
    function, index and flags, or what ``/dev/cpu/N/cpuid`` reads."""
    eax, ebx, ecx, edx = _REGISTERS.unpack_from(buffer, offset)
    return eax, ebx, ecx, edx


def or_register(building: dict[int, list[int]], leaf: int, name: str, mask: int) -> None:
    """Set `mask` in one register of leaves being built (a missing leaf
    starts at zero)."""
    building.setdefault(leaf, [0, 0, 0, 0])[REGISTER_NAMES.index(name)] |= mask


def built(building: dict[int, list[int]]) -> dict[int, Registers]:
    """Leaves built with or_register, as Leaves, in leaf order."""
    return {leaf: (r[0], r[1], r[2], r[3]) for leaf, r in sorted(building.items())}


def hypervisor_present(leaves: Leaves) -> bool | None:
    """Leaf 1 ECX[31], which every hypervisor sets and hardware leaves clear
    (None when leaf 1 was not read)."""
    value = register(leaves, 1, "ecx")
    return None if value is None else bool(value >> 31 & 1)


def register(leaves: Leaves, leaf: int, name: str) -> int | None:
    """One register of one leaf (``eax`` .. ``edx``), or None when the leaf
    is not among `leaves`."""
    registers = leaves.get(leaf)
    return None if registers is None else registers[REGISTER_NAMES.index(name)]


def is_set(leaves: Leaves, bit: CpuidBit) -> bool:
    """Whether a catalog bit is set (an absent leaf sets nothing)."""
    value = register(leaves, bit.leaf, bit.reg)
    return value is not None and bool(value >> bit.bit & 1)


def all_set(leaves: Leaves, bits: Iterable[CpuidBit]) -> bool:
    """Whether every one of `bits` is set: QEMU's hyperv_feature_supported()
    for a feature's bits and the leaves KVM reported."""
    return all(is_set(leaves, bit) for bit in bits)


@dataclass(frozen=True)
class NamedBit:
    """A bit the catalog names, and the properties that set it (two
    features can share one, as hv-tlbflush and hv-ipi share
    HV_EX_PROCESSOR_MASKS_RECOMMENDED)."""

    bit: int
    name: str
    properties: tuple[str, ...]


@dataclass(frozen=True)
class DecodedRegister:
    """One register of one leaf, read with the catalog: its value, the
    named bits set in it (lowest first), and what is left of the value
    outside every bit the catalog names (fields and bits it does not
    describe, shown as they are rather than guessed at)."""

    leaf: int
    reg: str
    value: int
    named: tuple[NamedBit, ...]
    unnamed: int


@cache
def _owners() -> dict[tuple[int, str, int], tuple[str, tuple[str, ...]]]:
    """Each bit features own, by (leaf, register, bit): its name, and every
    feature that sets it, in bit order."""
    owners: dict[tuple[int, str, int], tuple[str, list[str]]] = {}
    for prop in load_catalog().features:
        for bit in prop.cpuid:
            owners.setdefault((bit.leaf, bit.reg, bit.bit), (bit.name, []))[1].append(prop.name)
    return {key: (name, tuple(properties)) for key, (name, properties) in owners.items()}


def feature_mask(leaf: int, reg: str) -> int:
    """The bits of one register that features own."""
    return sum(1 << bit for (owned, name, bit) in _owners() if (owned, name) == (leaf, reg))


@cache
def _catalog_bits() -> dict[tuple[int, str], dict[int, NamedBit]]:
    """The catalog's named bits by (leaf, register) in leaf and register
    order, then by bit, each with every property that sets it."""
    owners = _owners()
    table: dict[tuple[int, str], dict[int, NamedBit]] = {}
    for leaf, reg, number in sorted(owners, key=lambda key: (key[0], REGISTER_NAMES.index(key[1]), key[2])):
        name, properties = owners[(leaf, reg, number)]
        table.setdefault((leaf, reg), {})[number] = NamedBit(number, name, properties)
    return table


def decode(leaves: Leaves) -> tuple[DecodedRegister, ...]:
    """Every register of `leaves` the catalog names bits in, decoded, in
    leaf and register order (leaves that are absent are left out)."""
    decoded = []
    for (leaf, reg), bits in _catalog_bits().items():
        value = register(leaves, leaf, reg)
        if value is None:
            continue
        named = tuple(named for number, named in bits.items() if value >> number & 1)
        known = sum(1 << number for number in bits)
        decoded.append(DecodedRegister(leaf, reg, value, named, value & ~known))
    return tuple(decoded)


@dataclass(frozen=True)
class FieldReading:
    """A named bit that is set, or a named field of several bits and its
    value, with the properties that set it (the features whose bit it is)."""

    field: CpuidField
    value: int
    properties: tuple[str, ...]


@dataclass(frozen=True)
class RegisterReading:
    """One register of a leaf: its value, the named bits set in it and
    every named field (lowest first), and the set bits nothing names."""

    reg: str
    value: int
    fields: tuple[FieldReading, ...]
    unnamed: int


@dataclass(frozen=True)
class LeafReading:
    """One leaf as a guest may read it: its title (None for a leaf the
    catalog does not name), its registers, and their readings, unless the
    leaf means nothing here (`unread` says why: past the last leaf its
    interface announces, or not that interface at all)."""

    leaf: int
    title: str | None
    registers: Registers
    read: tuple[RegisterReading, ...]
    unread: str | None


def signature(leaves: Leaves, leaf: int, regs: tuple[str, ...]) -> bytes | None:
    """The bytes registers `regs` of `leaf` hold, or None without the leaf."""
    registers = leaves.get(leaf)
    return None if registers is None else register_bytes(tuple(registers[REGISTER_NAMES.index(reg)] for reg in regs))


def _unread(leaves: Leaves, leaf: int, block: CpuidBlock | None, shift: int = 0) -> str | None:
    """Why a guest may not interpret `leaf`, or None when it may: a leaf of
    a block only with the block's identity, and as far as it announces; the
    block `shift` below where the table keeps it."""
    if block is None:
        return None
    identity_leaf, maximum_leaf = block.identity_leaf - shift, block.maximum - shift
    identity = signature(leaves, identity_leaf, block.identity_regs)
    if identity != block.identity:
        shown = "missing" if identity is None else repr(identity.decode("latin-1"))
        expected = block.identity.decode("latin-1")
        return f"not {block.name}'s: 0x{identity_leaf:08X} holds {shown}, not {expected!r}"
    maximum = register(leaves, maximum_leaf, "eax")
    if maximum == 0 and block.zero_maximum is not None:
        maximum = block.zero_maximum - shift
    if leaf != maximum_leaf and (maximum is None or leaf > maximum):
        announced = "missing" if maximum is None else f"0x{maximum:08X}"
        return f"past the last leaf 0x{maximum_leaf:08X} announces ({announced})"
    return None


REGION_SIZE = 0x100  # hypervisors sign every 0x100 leaves from 0x40000000


def interface_at(leaves: Leaves, base: int) -> str | None:
    """The interface the region of the hypervisor range from `base` holds:
    the name of the table's block whose identity is there, ``KVM`` for
    KVM's signature at `base` (where nothing moved it), or None."""
    table = load_catalog().cpuid
    for block in table.blocks:
        in_region = block.first < base + REGION_SIZE and base <= block.last
        if in_region and signature(leaves, block.identity_leaf, block.identity_regs) == block.identity:
            return block.name
    facts = table.qemu
    return "KVM" if signature(leaves, base, ("ebx", "ecx", "edx")) == facts.kvm_signature else None


def _kvm_shift(leaves: Leaves) -> int:
    """How far below the table's KVM block KVM's leaves are: the distance
    QEMU moves them when KVM signs first, else 0."""
    facts = load_catalog().cpuid.qemu
    return facts.kvm_moved - facts.kvm_first if interface_at(leaves, facts.kvm_first) == "KVM" else 0


def _read_register(table: CpuidTable, leaf: int, reg: str, value: int) -> RegisterReading:
    names = table.leaf(leaf)
    owners = _owners()
    fields = []
    named = 0
    for field in () if names is None else names.fields_of(reg):
        named |= field.mask
        if field.format == "flag" and not value & field.mask:
            continue
        owner = owners.get((leaf, reg, field.low)) if field.format == "flag" else None
        fields.append(FieldReading(field, field.value(value), () if owner is None else owner[1]))
    return RegisterReading(reg, value, tuple(fields), value & ~named)


def read_leaves(leaves: Leaves) -> tuple[LeafReading, ...]:
    """Every leaf of `leaves`, in order, read with the catalog's table:
    named bits and fields, the properties that set them, and what is left
    unnamed; a leaf a guest may not interpret is shown, not read."""
    table = load_catalog().cpuid
    shift = _kvm_shift(leaves)
    first = table.qemu.kvm_first
    readings = []
    for leaf, registers in sorted(leaves.items()):
        moved = shift if first <= leaf < first + REGION_SIZE else 0  # KVM's, read as the table names them
        names = table.leaf(leaf + moved)
        unread = _unread(leaves, leaf, table.block(leaf + moved), moved)
        read = (
            ()
            if unread
            else tuple(_read_register(table, leaf + moved, reg, registers[i]) for i, reg in enumerate(REGISTER_NAMES))
        )
        readings.append(LeafReading(leaf, None if names is None else names.title, registers, read, unread))
    return tuple(readings)


def leaves_json(leaves: Leaves) -> dict[str, list[int]]:
    """The leaves as JSON holds them: ``{"0x40000003": [eax, ebx, ecx, edx]}``,
    in leaf order, keys written as the host profile writes leaves."""
    return {f"0x{leaf:08X}": list(registers) for leaf, registers in sorted(leaves.items())}
