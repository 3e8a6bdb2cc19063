"""The catalog's table of the hypervisor CPUID leaves, and leaves read with
it: the sandbox's real guest output decoded with the TLFS's names (the
expectations written from the TLFS, not from the table), the bits
properties own, what a guest may not interpret, and the text and JSON
forms."""

from __future__ import annotations

import json
import struct
from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hvtune.catalog import Catalog, CatalogError, load_catalog
from hvtune.cpuid import REGISTER_NAMES, Registers, leaves_json, read_leaves
from hvtune.cpuid_table import CpuidField, CpuidTable
from hvtune.report.cpuid import cpuid_text

CATALOG = load_catalog()
TABLE = CATALOG.cpuid


def signature(text: bytes) -> tuple[int, int, int]:
    ebx, ecx, edx = struct.unpack("<3I", text)
    return ebx, ecx, edx


HV_INTERFACE = struct.unpack("<I", b"Hv#1")[0]

# What the sandbox's L2 guest saw with host,kvm=off,hv-relaxed,hv-vapic,hv-time,
# hv-vpindex,hv-runtime,hv-synic,hv-stimer,hv-frequencies (../shared/sandbox/README.md).
README_LEAVES: dict[int, Registers] = {
    0x40000000: (0x40000005, *signature(b"Microsoft Hv")),
    0x40000001: (HV_INTERFACE, 0, 0, 0),
    0x40000003: (0xA7F, 0x30, 0, 0x108),
    0x40000004: (0x28, 0xFFFFFFFF, 0, 0),
}
README_PROPERTIES = {"hv-relaxed", "hv-vapic", "hv-time", "hv-vpindex", "hv-runtime", "hv-synic", "hv-stimer"}
README_PROPERTIES |= {"hv-frequencies"}

# The TLFS's names for the bits set there: HV_PARTITION_PRIVILEGE_MASK's fields for
# 0x40000003 EAX (its bits 0-31) and EBX (bits 32-63); for EDX and 0x40000004 the TLFS
# describes each bit, and Microsoft's structures name it.
TLFS_NAMES = {
    (0x40000003, "eax"): [
        "AccessVpRunTimeReg",  # 0
        "AccessPartitionReferenceCounter",  # 1
        "AccessSynicRegs",  # 2
        "AccessSyntheticTimerRegs",  # 3
        "AccessIntrCtrlRegs",  # 4
        "AccessHypercallMsrs",  # 5
        "AccessVpIndex",  # 6
        "AccessPartitionReferenceTsc",  # 9
        "AccessFrequencyRegs",  # 11
    ],
    (0x40000003, "ebx"): ["PostMessages", "SignalEvents"],  # 36, 37
    # 3: "physical CPU dynamic partitioning events", 8: "determining timer frequencies"
    (0x40000003, "edx"): ["CpuDynamicPartitioningAvailable", "FrequencyRegsAvailable"],
    # 3: "using MSRs for accessing APIC registers EOI, ICR and TPR", 5: "relaxed timing"
    (0x40000004, "eax"): ["UseApicMsrs", "UseRelaxedTiming"],
}


def fields() -> list[CpuidField]:
    return [field for names in TABLE.leaves for field in names.fields]


def test_every_bit_in_the_table_has_a_name_and_a_source() -> None:
    assert len(fields()) > 150
    used = set()
    for field in fields():
        assert field.name and field.sources and set(field.sources) <= set(TABLE.sources), field
        assert 0 <= field.low <= field.high <= 31 and field.reg in REGISTER_NAMES
        used |= set(field.sources)
    assert used == set(TABLE.sources) and all(TABLE.sources.values())


def test_the_table_names_the_leaves_it_was_asked_for() -> None:
    named = {names.leaf for names in TABLE.leaves}
    wanted = {0x40000000, 0x40000001, 0x40000003, 0x40000004, 0x40000005, 0x40000006, 0x4000000A}
    assert wanted | {0x40000080, 0x40000081, 0x40000082, 0x40000100, 0x40000101} <= named
    # every bit of 0x40000003.EDX is defined, and the spinlock retries are one field of all of EBX
    features = TABLE.leaf(0x40000003)
    assert features is not None and sum(field.mask for field in features.fields_of("edx")) == 0xFFFFFFFF
    retries = TABLE.field_at(0x40000004, "ebx", 17)
    assert retries is not None and (retries.low, retries.high, retries.format) == (0, 31, "hex")


def test_the_sandbox_guest_output_decoded_with_the_tlfs_names() -> None:
    readings = {reading.leaf: reading for reading in read_leaves(README_LEAVES)}
    assert all(reading.unread is None for reading in readings.values())
    for (leaf, reg), names in TLFS_NAMES.items():
        register = readings[leaf].read[REGISTER_NAMES.index(reg)]
        assert [field.field.name for field in register.fields if field.field.format == "flag"] == names
        assert register.unnamed == 0
    spin = readings[0x40000004].read[1].fields
    assert [(field.field.name, field.value) for field in spin] == [("LongSpinWaitCount", 0xFFFFFFFF)]
    traced = {
        name for reading in readings.values() for reg in reading.read for f in reg.fields for name in f.properties
    }
    assert traced == README_PROPERTIES  # the configuration that gave those leaves, read back from them


def test_every_bit_a_property_owns_is_named_by_its_constant_and_traced_to_it() -> None:
    for prop in CATALOG.features:
        for bit in prop.cpuid:
            field = TABLE.field_at(bit.leaf, bit.reg, bit.bit)
            assert field is not None and field.constant == bit.name and field.format == "flag", bit
            registers = [0, 0, 0, 0]
            registers[REGISTER_NAMES.index(bit.reg)] = 1 << bit.bit
            leaves = {**README_LEAVES, 0x40000000: (0x4000000A, 0, 0, 0), bit.leaf: tuple(registers)}
            reading = next(r for r in read_leaves(leaves) if r.leaf == bit.leaf)
            found = [f for reg in reading.read for f in reg.fields if f.field == field]
            assert len(found) == 1 and prop.name in found[0].properties


def _with_first_field(change: dict[str, object]) -> CpuidTable:
    """The table with the first field of 0x40000003 (EAX bit 0, which
    hv-runtime owns) changed."""
    names = TABLE.leaf(0x40000003)
    assert names is not None
    changed = replace(names.fields[0], **change)
    leaf = replace(names, fields=(changed, *names.fields[1:]))
    return replace(TABLE, leaves=tuple(leaf if known.leaf == leaf.leaf else known for known in TABLE.leaves))


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"low": 1, "high": 1}, "overlaps"),
        ({"low": 31, "high": 32}, "within 0..31"),
        ({"sources": ("nowhere",)}, "sources"),
        ({"name": ""}, "name"),
        ({"constant": "HV_SOMETHING_ELSE"}, "hv-runtime"),
        ({"reg": "esi"}, "unknown register"),
    ],
)
def test_an_inconsistent_cpuid_table_is_refused(change: dict[str, object], problem: str) -> None:
    broken = _with_first_field(change)
    with pytest.raises(CatalogError, match=problem):
        Catalog(
            CATALOG.properties,
            CATALOG.neighbours,
            CATALOG.guests,
            CATALOG.libvirt,
            CATALOG.qemu,
            broken,
            CATALOG.impacts,
            CATALOG.inferred_windows,
            CATALOG.linux,
        )


def test_leaves_a_guest_may_not_interpret_are_shown_not_read() -> None:
    hyperv = {**README_LEAVES, 0x40000006: (1, 2, 3, 4)}
    unread = {reading.leaf: reading.unread for reading in read_leaves(hyperv)}
    assert unread[0x40000006] == "past the last leaf 0x40000000 announces (0x40000005)"
    not_hv = {**README_LEAVES, 0x40000001: (0, 0, 0, 0)}
    unread = {reading.leaf: reading.unread for reading in read_leaves(not_hv)}
    assert unread[0x40000000] is None and unread[0x40000001] is None  # vendor-neutral: always read
    assert unread[0x40000003] == "not Hyper-V's: 0x40000001 holds '\\x00\\x00\\x00\\x00', not 'Hv#1'"
    missing = {leaf: regs for leaf, regs in README_LEAVES.items() if leaf != 0x40000001}
    assert next(r for r in read_leaves(missing) if r.leaf == 0x40000003).unread == (
        "not Hyper-V's: 0x40000001 holds missing, not 'Hv#1'"
    )
    # KVM's leaves: an old host's EAX of 0 announces its features leaf
    kvm = {0x40000100: (0, *signature(b"KVMKVMKVM\0\0\0")), 0x40000101: (1, 0, 0, 1), 0x40000102: (0, 0, 0, 0)}
    readings = {reading.leaf: reading for reading in read_leaves(kvm)}
    assert readings[0x40000101].unread is None and readings[0x40000102].unread is not None
    features = readings[0x40000101].read
    assert [f.field.name for f in features[0].fields] == ["KVM_FEATURE_CLOCKSOURCE"]
    assert [f.field.name for f in features[3].fields] == ["KVM_HINTS_REALTIME"]


_WORD = st.integers(0, 0xFFFFFFFF)
_KNOWN = sorted({names.leaf for names in TABLE.leaves} | {0x40000008, 0x4000000B, 0x40000102})


@settings(max_examples=300, deadline=None)
@given(
    st.dictionaries(st.sampled_from(_KNOWN), st.tuples(_WORD, _WORD, _WORD, _WORD)),
    st.sampled_from([0x40000005, 0x4000000A, 0x40000082, 0xFFFFFFFF]),
)
def test_a_read_register_is_its_named_fields_and_its_unnamed_rest(leaves: dict[int, Registers], last: int) -> None:
    leaves = {**leaves, 0x40000000: (last, 0, 0, 0), 0x40000001: (HV_INTERFACE, 0, 0, 0)}
    for reading in read_leaves(leaves):
        assert reading.registers == leaves[reading.leaf]
        assert (reading.unread is None) == bool(reading.read)
        for register in reading.read:
            named = 0
            for field in register.fields:
                assert field.field.format != "flag" or field.value == 1
                named |= field.value << field.field.low
            assert named & register.unnamed == 0 and named | register.unnamed == register.value
            flags = [f for f in register.fields if f.field.format == "flag"]
            assert [f.field.low for f in flags] == sorted(f.field.low for f in flags)


def test_the_json_form_is_hex_leaves_to_four_integers() -> None:
    form = leaves_json(README_LEAVES)
    assert list(form) == ["0x40000000", "0x40000001", "0x40000003", "0x40000004"]
    assert form["0x40000003"] == [0xA7F, 0x30, 0, 0x108]
    assert json.loads(json.dumps(form)) == form


def test_the_text_form_is_one_line_per_leaf() -> None:
    text = cpuid_text({**README_LEAVES, 0x40000006: (0, 0, 0, 0)})
    lines = text.splitlines()
    assert len(lines) == 5 and text.endswith("\n")
    assert lines[0] == (
        "0x40000000 Hypervisor CPUID Leaf Range: eax 40000005 ebx 7263694D ecx 666F736F edx 76482074; "
        'eax: MaxFunction 0x40000005; ebx: VendorName[0-3] "Micr"; ecx: VendorName[4-7] "osof"; '
        'edx: VendorName[8-11] "t Hv"'
    )
    assert lines[2].startswith("0x40000003 Hypervisor Feature Identification: eax 00000A7F ebx 00000030")
    assert "eax: AccessVpRunTimeReg [hv-runtime], AccessPartitionReferenceCounter [hv-time]," in lines[2]
    assert "AccessHypercallMsrs, AccessVpIndex [hv-vpindex]" in lines[2]
    assert "; edx: CpuDynamicPartitioningAvailable, FrequencyRegsAvailable [hv-frequencies]" in lines[2]
    assert "ebx: LongSpinWaitCount 0xFFFFFFFF" in lines[3]
    assert lines[4].endswith("; not read: past the last leaf 0x40000000 announces (0x40000005)")
    unnamed = cpuid_text(
        {0x40000001: (HV_INTERFACE, 0, 0, 0), 0x40000000: (0x40000005, 0, 0, 0)} | {0x40000003: (1 << 31, 0, 0, 0)}
    )
    assert "eax: unnamed 0x80000000" in unnamed
