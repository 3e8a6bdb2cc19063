"""The catalog's table of the hypervisor CPUID leaves: every defined bit and
field named (the TLFS's names first), where each name comes from, and the
blocks of leaves an interface defines (Hyper-V's from 0x40000000, KVM's
where QEMU moves them). Read from ``data/enlightenments.toml`` (its
``[cpuid]`` tables) and checked when the catalog loads."""

from __future__ import annotations

import struct
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from types import MappingProxyType
from typing import Any, Literal

REGISTER_NAMES = ("eax", "ebx", "ecx", "edx")

Format = Literal["flag", "hex", "decimal", "text"]
FIELD_FORMATS = ("hex", "decimal", "text")  # of fields wider than one bit


class CpuidTableError(Exception):
    """The table is inconsistent (a bug in the bundled catalog)."""


@dataclass(frozen=True)
class CpuidField:
    """One named bit (``flag``) or field of several bits (``low``..``high``,
    inclusive) of one register of one leaf. ``constant`` is the name Linux
    or QEMU give it in C, if any; ``sources`` are the keys of the table's
    sources, the first the one the name comes from."""

    leaf: int
    reg: str
    low: int
    high: int
    name: str
    constant: str | None
    sources: tuple[str, ...]
    format: Format

    @property
    def mask(self) -> int:
        return ((1 << (self.high - self.low + 1)) - 1) << self.low

    def value(self, register: int) -> int:
        """This field's value in a register's value."""
        return (register & self.mask) >> self.low

    def shown(self, value: int) -> str:
        """A value of this field as people read it: a flag set or clear, a
        number in hex or decimal, text quoted (its bytes in register order,
        control characters still to escape)."""
        if self.format == "flag":
            return "set" if value else "clear"
        if self.format == "text":
            size = (self.high - self.low + 1) // 8
            return '"' + register_bytes((value,))[:size].decode("latin-1") + '"'
        return f"0x{value:X}" if self.format == "hex" else str(value)

    def __str__(self) -> str:
        bits = str(self.low) if self.low == self.high else f"{self.high}:{self.low}"
        return f"0x{self.leaf:08X}.{self.reg.upper()}[{bits}] {self.name}"


@dataclass(frozen=True)
class CpuidLeafNames:
    """A leaf the table names: its title and its fields in register order,
    lowest bit first."""

    leaf: int
    title: str
    fields: tuple[CpuidField, ...]

    def fields_of(self, reg: str) -> tuple[CpuidField, ...]:
        return tuple(field for field in self.fields if field.reg == reg)


@dataclass(frozen=True)
class CpuidBlock:
    """The leaves one interface defines (`first` to `last`), which mean what
    the table says only when the registers `identity_regs` of leaf
    `identity_leaf` hold `identity` (the interface's signature, as bytes in
    register order), and only up to the leaf that the EAX of leaf `maximum`
    announces (`zero_maximum` when it answers 0)."""

    name: str
    first: int
    last: int
    maximum: int
    identity_leaf: int
    identity_regs: tuple[str, ...]
    identity: bytes
    zero_maximum: int | None


@dataclass(frozen=True)
class QemuBit:
    """One bit QEMU sets in a hypervisor leaf (not a feature's own); with
    `since`, only from that QEMU release on, and before it only when one of
    `before_with` is on (the features that listed it as theirs then)."""

    leaf: int
    reg: str
    bit: int
    name: str
    since: str | None = None
    before_with: tuple[str, ...] = ()


@dataclass(frozen=True)
class QemuLeaves:
    """What QEMU writes into the hypervisor leaves besides the features'
    bits (the catalog's ``[cpuid.qemu]``, where each value is explained)."""

    last_leaf: int
    nested_leaf: int
    interface: bytes
    limits: tuple[int, int, int]
    always: tuple[QemuBit, ...]
    fixed_version_before: str
    fixed_version: tuple[int, int, int, int]
    passthrough_copies_before: str
    kvm_first: int
    kvm_moved: int
    kvm_signature: bytes
    syndbg_vendor_leaf: int
    syndbg_vendor: bytes
    syndbg_interface_leaf: int
    syndbg_interface: bytes
    syndbg_capabilities: QemuBit


@dataclass(frozen=True)
class CpuidTable:
    """Sources by key, blocks, named leaves in leaf order, and what QEMU
    writes into them."""

    sources: Mapping[str, str]
    blocks: tuple[CpuidBlock, ...]
    leaves: tuple[CpuidLeafNames, ...]
    qemu: QemuLeaves

    @cached_property
    def _by_leaf(self) -> Mapping[int, CpuidLeafNames]:
        return MappingProxyType({names.leaf: names for names in self.leaves})

    def leaf(self, leaf: int) -> CpuidLeafNames | None:
        return self._by_leaf.get(leaf)

    def block(self, leaf: int) -> CpuidBlock | None:
        """The block `leaf` lies in, if any."""
        return next((block for block in self.blocks if block.first <= leaf <= block.last), None)

    def field_at(self, leaf: int, reg: str, bit: int) -> CpuidField | None:
        """The field that holds one bit, if any names it."""
        names = self.leaf(leaf)
        found = () if names is None else names.fields_of(reg)
        return next((field for field in found if field.low <= bit <= field.high), None)


def register_bytes(values: tuple[int, ...]) -> bytes:
    """Registers as the bytes of a signature (each little-endian, in order)."""
    return struct.pack(f"<{len(values)}I", *values)


def _field(leaf: int, raw: dict[str, Any]) -> CpuidField:
    if "bit" in raw:
        low = high = raw["bit"]
        form: Format = "flag"
    else:
        low, high = raw["bits"]
        form = raw["format"]
    return CpuidField(leaf, raw["reg"], low, high, raw["name"], raw.get("constant"), tuple(raw["sources"]), form)


def _qemu_leaves(raw: dict[str, Any]) -> QemuLeaves:
    syndbg = raw["syndbg"]
    version = raw["fixed_version"]["registers"]
    return QemuLeaves(
        last_leaf=raw["last_leaf"],
        nested_leaf=raw["nested_leaf"],
        interface=raw["interface"].encode("latin-1"),
        limits=(raw["limits"][0], raw["limits"][1], raw["limits"][2]),
        always=tuple(QemuBit(**{**bit, "before_with": tuple(bit.get("before_with", ()))}) for bit in raw["always"]),
        fixed_version_before=raw["fixed_version"]["before"],
        fixed_version=(version[0], version[1], version[2], version[3]),
        passthrough_copies_before=raw["passthrough_copies"]["before"],
        kvm_first=raw["kvm"]["first"],
        kvm_moved=raw["kvm"]["moved"],
        kvm_signature=raw["kvm"]["signature"].encode("latin-1"),
        syndbg_vendor_leaf=syndbg["vendor_leaf"],
        syndbg_vendor=syndbg["vendor"].encode("latin-1"),
        syndbg_interface_leaf=syndbg["interface_leaf"],
        syndbg_interface=syndbg["interface"].encode("latin-1"),
        syndbg_capabilities=QemuBit(syndbg["capabilities_leaf"], **syndbg["capabilities"]),
    )


def read_cpuid_table(raw: dict[str, Any]) -> CpuidTable:
    """The table from the catalog's ``[cpuid]`` data, unchecked."""
    blocks = tuple(
        CpuidBlock(
            name=block["name"],
            first=block["first"],
            last=block["last"],
            maximum=block["maximum"],
            identity_leaf=block["identity"]["leaf"],
            identity_regs=tuple(block["identity"]["regs"]),
            identity=block["identity"]["text"].encode("latin-1"),
            zero_maximum=block.get("zero_maximum"),
        )
        for block in raw["block"]
    )
    leaves = tuple(
        CpuidLeafNames(
            leaf["leaf"],
            leaf["title"],
            tuple(
                sorted(
                    (_field(leaf["leaf"], field) for field in leaf["fields"]),
                    key=lambda field: (REGISTER_NAMES.index(field.reg), field.low),
                )
            ),
        )
        for leaf in raw["leaf"]
    )
    return CpuidTable(MappingProxyType(dict(raw["sources"])), blocks, leaves, _qemu_leaves(raw["qemu"]))


def check_cpuid_table(table: CpuidTable) -> None:
    """Refuse a table with leaves out of order or twice, fields outside
    0..31 or over each other, unknown registers, formats or sources, or
    a block whose identity does not fit its registers."""
    numbers = [names.leaf for names in table.leaves]
    if numbers != sorted(set(numbers)):
        raise CpuidTableError("cpuid leaves must be listed once each, in order")
    for names in table.leaves:
        for reg in REGISTER_NAMES:
            _check_register(table, names.fields_of(reg))
        if any(field.reg not in REGISTER_NAMES for field in names.fields):
            raise CpuidTableError(f"0x{names.leaf:08X}: a field names an unknown register")
    for block in table.blocks:
        if len(block.identity) != 4 * len(block.identity_regs) or block.first > block.last:
            raise CpuidTableError(f"cpuid block {block.name}: its identity does not fit its registers, or it is empty")
        if any(reg not in REGISTER_NAMES for reg in block.identity_regs):
            raise CpuidTableError(f"cpuid block {block.name}: its identity names an unknown register")


def _check_register(table: CpuidTable, fields: tuple[CpuidField, ...]) -> None:
    taken = 0
    for field in fields:
        if not 0 <= field.low <= field.high <= 31:
            raise CpuidTableError(f"{field}: bits must lie within 0..31")
        if taken & field.mask:
            raise CpuidTableError(f"{field}: overlaps another field of the register")
        taken |= field.mask
        if field.format != "flag" and (field.format not in FIELD_FORMATS or field.low == field.high):
            raise CpuidTableError(f"{field}: a field of several bits is hex, decimal or text")
        if field.format == "text" and (field.low % 8 or (field.high + 1) % 8):
            raise CpuidTableError(f"{field}: text is whole bytes")
        if not field.name or not field.sources or not set(field.sources) <= set(table.sources):
            raise CpuidTableError(f"{field}: needs a name and sources among {sorted(table.sources)}")
