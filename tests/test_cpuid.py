"""The CPUID model: registers as they lie in memory, and recorded and
generated Hyper-V leaves decoded with the catalog's bits (the expectations
come from the catalog too, never from a copy of it)."""

from __future__ import annotations

import struct

from hypothesis import given, settings
from hypothesis import strategies as st

from hvtune.catalog import load_catalog
from hvtune.cpuid import REGISTER_NAMES, Registers, all_set, decode, is_set, register, unpack_registers

from support.kvm_records import INTEL_NESTED_LEAVES

FEATURES = load_catalog().features
CATALOG_BITS = [(prop.name, bit) for prop in FEATURES for bit in prop.cpuid]
FEATURE_REGISTERS = sorted(
    {(bit.leaf, bit.reg) for _, bit in CATALOG_BITS}, key=lambda key: (key[0], REGISTER_NAMES.index(key[1]))
)


def test_registers_as_cpuid_consumers_lay_them_out() -> None:
    # struct kvm_cpuid_entry2 of the recorded Intel leaf 0x40000000: function, index, flags, registers, padding
    entry = struct.pack("<7I12x", 0x40000000, 0, 0, *INTEL_NESTED_LEAVES[0x40000000])
    assert unpack_registers(entry, 12) == INTEL_NESTED_LEAVES[0x40000000]
    assert struct.pack("<3I", *unpack_registers(entry, 12)[1:]) == b"Linux KVM Hv"  # the vendor signature
    assert unpack_registers(bytes(range(16))) == (0x03020100, 0x07060504, 0x0B0A0908, 0x0F0E0D0C)


def test_a_register_of_an_absent_leaf_is_none_and_sets_nothing() -> None:
    assert register(INTEL_NESTED_LEAVES, 0x40000001, "eax") == 0x31237648  # "Hv#1"
    assert register(INTEL_NESTED_LEAVES, 0x40000001, "edx") == 0
    assert register({}, 0x40000003, "eax") is None
    assert not any(is_set({}, bit) for _, bit in CATALOG_BITS)
    assert all_set({}, ())  # no bits asked for: none missing


def test_every_catalog_bit_names_a_register_hvtune_reads() -> None:
    assert CATALOG_BITS and all(bit.reg in REGISTER_NAMES and 0 <= bit.bit < 32 for _, bit in CATALOG_BITS)


def test_the_recorded_intel_leaves_decoded() -> None:
    decoded = decode(INTEL_NESTED_LEAVES)
    assert [(register.leaf, register.reg) for register in decoded] == FEATURE_REGISTERS
    for found in decoded:
        assert found.value == INTEL_NESTED_LEAVES[found.leaf][REGISTER_NAMES.index(found.reg)]
        catalog = {(bit.bit, bit.name) for _, bit in CATALOG_BITS if (bit.leaf, bit.reg) == (found.leaf, found.reg)}
        assert {(bit.bit, bit.name) for bit in found.named} == {
            (n, name) for n, name in catalog if found.value >> n & 1
        }
        assert [bit.bit for bit in found.named] == sorted(bit.bit for bit in found.named)
    # what the catalog does not describe is shown, not dropped: 0x4000000A.EAX's low half is the eVMCS version
    nested = next(found for found in decoded if found.leaf == 0x4000000A)
    assert nested.unnamed & 0xFFFF == INTEL_NESTED_LEAVES[0x4000000A][0] & 0xFFFF == 0x0101


def test_a_bit_two_features_set_is_traced_to_both() -> None:
    owners: dict[tuple[int, str, int], list[str]] = {}
    for name, bit in CATALOG_BITS:
        owners.setdefault((bit.leaf, bit.reg, bit.bit), []).append(name)
    shared = {key: names for key, names in owners.items() if len(names) > 1}
    assert shared  # the catalog has such bits (tlbflush and ipi share one)
    ones = 0xFFFFFFFF
    for found in decode({leaf: (ones, ones, ones, ones) for leaf, _ in FEATURE_REGISTERS}):
        for bit in found.named:
            assert list(bit.properties) == owners[(found.leaf, found.reg, bit.bit)]


def test_leaves_that_are_absent_are_left_out() -> None:
    only = {0x40000004: INTEL_NESTED_LEAVES[0x40000004]}
    assert [(found.leaf, found.reg) for found in decode(only)] == [(0x40000004, "eax")]
    assert decode({}) == ()


_WORD = st.integers(0, 0xFFFFFFFF)
_LEAVES = st.dictionaries(
    st.sampled_from(sorted({leaf for leaf, _ in FEATURE_REGISTERS} | {0x40000000, 0x40000001})),
    st.tuples(_WORD, _WORD, _WORD, _WORD),
)


@settings(max_examples=300, deadline=None)
@given(_LEAVES)
def test_decoding_and_support_agree(leaves: dict[int, Registers]) -> None:
    """A feature's bits are all set exactly when the decoded registers name
    every one of them and trace it to that feature; nothing of a value is
    lost between its named bits and the rest."""
    decoded = decode(leaves)
    traced = {
        (found.leaf, found.reg, bit.bit, name) for found in decoded for bit in found.named for name in bit.properties
    }
    for prop in FEATURES:
        expected = all((bit.leaf, bit.reg, bit.bit, prop.name) in traced for bit in prop.cpuid)
        assert all_set(leaves, prop.cpuid) == expected, prop.name
    for found in decoded:
        named = sum(1 << bit.bit for bit in found.named)
        assert named & found.unnamed == 0 and named | found.unnamed == found.value
