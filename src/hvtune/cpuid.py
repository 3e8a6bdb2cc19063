"""CPUID as hvtune models it: a leaf's four 32-bit registers, and the
Hyper-V bits in them, named and traced to their properties by the catalog
(each feature's ``cpuid`` facts).

One model serves every reader of Hyper-V CPUID: the host probe, whose
leaves come from KVM_GET_SUPPORTED_HV_CPUID (a feature is supported when
every one of its bits is reported), and what a guest is predicted to see or
really sees. The facts stay in the catalog: nothing here names a bit.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache

from hvtune.catalog import CpuidBit, load_catalog

REGISTER_NAMES = ("eax", "ebx", "ecx", "edx")

Registers = tuple[int, int, int, int]  # eax, ebx, ecx, edx
Leaves = Mapping[int, Registers]  # leaf (EAX on input) -> what CPUID returned

_REGISTERS = struct.Struct("<4I")
REGISTERS_SIZE = _REGISTERS.size


def unpack_registers(buffer: bytes | bytearray, offset: int = 0) -> Registers:
    """The four registers as CPUID's consumers lay them out in memory (EAX
    first, each little-endian): in KVM's ``struct kvm_cpuid_entry2`` after
    function, index and flags, or what ``/dev/cpu/N/cpuid`` reads."""
    eax, ebx, ecx, edx = _REGISTERS.unpack_from(buffer, offset)
    return eax, ebx, ecx, edx


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
def _catalog_bits() -> dict[tuple[int, str], dict[int, NamedBit]]:
    """The catalog's named bits by (leaf, register) in leaf and register
    order, then by bit, each with every property that sets it."""
    owners: dict[tuple[int, str, int], tuple[str, list[str]]] = {}
    for prop in load_catalog().features:
        for bit in prop.cpuid:
            owners.setdefault((bit.leaf, bit.reg, bit.bit), (bit.name, []))[1].append(prop.name)
    table: dict[tuple[int, str], dict[int, NamedBit]] = {}
    for leaf, reg, number in sorted(owners, key=lambda key: (key[0], REGISTER_NAMES.index(key[1]), key[2])):
        name, properties = owners[(leaf, reg, number)]
        table.setdefault((leaf, reg), {})[number] = NamedBit(number, name, tuple(properties))
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
