"""The catalog against the real QEMU: its property list, types and defaults
(over QMP), and its compiled kvm_hyperv_properties[] table (CPUID bits,
dependencies, description strings, order)."""

from __future__ import annotations

import json
import subprocess

import pytest

from hvtune.catalog import CatalogError, Neighbour, load_catalog

from support.qemu_table import read_table

# QOM type names of the catalog's value types.
QOM_TYPES = {
    "bool": "bool",
    "uint8": "uint8",
    "uint16": "uint16",
    "uint32": "uint32",
    "int32": "int32",
    "string": "str",
    "on-off-auto": "OnOffAuto",
}


def _qom_properties(binary: str) -> dict[str, dict]:
    request = "\n".join(
        json.dumps(command)
        for command in (
            {"execute": "qmp_capabilities"},
            {"execute": "device-list-properties", "arguments": {"typename": "qemu64-x86_64-cpu"}},
            {"execute": "quit"},
        )
    )
    output = subprocess.run(
        [binary, "-machine", "none", "-nodefaults", "-display", "none", "-S", "-qmp", "stdio"],
        input=request + "\n",
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    replies = [json.loads(line) for line in output.splitlines() if line.strip()]
    listing = next(r["return"] for r in replies if isinstance(r.get("return"), list))
    return {prop["name"]: prop for prop in listing}


@pytest.mark.qemu
def test_catalog_lists_exactly_the_hyperv_properties_qemu_has(qemu_binary: str) -> None:
    catalog = load_catalog()
    qom = _qom_properties(qemu_binary)
    qemu_names = {name for name in qom if name.startswith(("hv-", "x-hv-"))}
    catalog_names = {name for prop in catalog.properties for name in (prop.name, *prop.aliases)}
    assert qemu_names == catalog_names


@pytest.mark.qemu
def test_catalog_types_and_defaults_match_qemu(qemu_binary: str) -> None:
    qom = _qom_properties(qemu_binary)
    for prop in load_catalog().properties:
        assert qom[prop.name]["type"] == QOM_TYPES[prop.type], prop.name
        default = qom[prop.name].get("default-value")
        if prop.name == "hv-vendor-id":
            assert default is None  # QEMU fills in "Microsoft Hv" when it realizes the CPU
        else:
            assert default == prop.default, prop.name


@pytest.mark.qemu
def test_catalog_matches_qemus_compiled_feature_table(qemu_binary: str) -> None:
    catalog = load_catalog()
    table = read_table(qemu_binary)
    assert [entry.bit for entry in table] == [feature.bit for feature in catalog.features]
    for entry, feature in zip(table, catalog.features, strict=True):
        assert entry.desc == feature.desc, feature.name
        masks: dict[tuple[int, str], int] = {}
        for bit in feature.cpuid:
            masks[(bit.leaf, bit.reg)] = masks.get((bit.leaf, bit.reg), 0) | 1 << bit.bit
        assert {(leaf, reg): bits for leaf, reg, bits in entry.flags} == masks, feature.name
        required = sum(1 << (catalog.property(name).bit or 0) for name in feature.requires)
        assert entry.dependencies == required, feature.name
        if entry.skip_passthrough is not None:
            assert entry.skip_passthrough == feature.skip_passthrough, feature.name


@pytest.mark.qemu
def test_qemu_prints_the_messages_hvtune_reproduces(qemu_binary: str) -> None:
    with open(qemu_binary, "rb") as handle:
        text = handle.read()
    for message in (
        b"Hyper-V %s requires Hyper-V %s",
        b"Hyper-V %s is not supported by kernel",
        b"kernel doesn't allow setting HyperV VP_INDEX",
    ):
        assert message in text


def test_every_feature_has_the_facts_an_administrator_needs() -> None:
    catalog = load_catalog()
    assert len(catalog.features) == 21
    for prop in catalog.properties:
        assert prop.title and prop.desc and prop.benefit, prop.name
        assert prop.since.note, prop.name
        if prop.is_feature:
            assert prop.cpuid, prop.name
            assert prop.since.qemu and prop.since.kernel, prop.name
        if prop.libvirt:
            assert str(prop.libvirt).startswith("<"), prop.name


def test_any_spelling_finds_the_entry() -> None:
    catalog = load_catalog()
    for spelling in ("hv_stimer", "stimer", "synictimer", "hv-stimer", "HV-STIMER", "features.hyperv.synictimer"):
        assert catalog.lookup(spelling) is catalog.property("hv-stimer"), spelling
    assert catalog.lookup("hypervclock") is catalog.property("hv-time")
    assert catalog.lookup("apicv") is catalog.property("hv-avic")
    assert catalog.lookup("stimer.direct") is catalog.property("hv-stimer-direct")
    assert catalog.lookup("tlbflush.extended") is catalog.property("hv-tlbflush-ext")
    assert isinstance(catalog.lookup("tsc-freq"), Neighbour)
    assert catalog.lookup("no-such-thing") is None


def test_requirements_are_transitive_and_ordered() -> None:
    catalog = load_catalog()
    names = [p.name for p in catalog.requirements(("hv-stimer-direct",))]
    assert names == ["hv-time", "hv-vpindex", "hv-synic", "hv-stimer", "hv-stimer-direct"]
    kvm_only = [p.name for p in catalog.requirements(("hv-stimer",), synic_kvm_only=True)]
    assert kvm_only == ["hv-time", "hv-synic", "hv-stimer"]


def test_an_inconsistent_catalog_is_refused() -> None:
    from dataclasses import replace

    from hvtune.catalog import Catalog

    catalog = load_catalog()
    broken = replace(catalog.property("hv-stimer"), requires=("hv-nothing",))
    properties = tuple(broken if p.name == "hv-stimer" else p for p in catalog.properties)
    with pytest.raises(CatalogError, match="hv-nothing"):
        Catalog(
            properties,
            catalog.neighbours,
            catalog.guests,
            catalog.libvirt,
            catalog.qemu,
            catalog.cpuid,
            catalog.impacts,
            catalog.inferred_windows,
            catalog.linux,
        )
