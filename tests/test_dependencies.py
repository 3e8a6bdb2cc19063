"""Dependency findings against QEMU's own rule, run over the feature table
compiled into the real qemu-system-x86_64."""

from __future__ import annotations

import pytest
from hypothesis import given, settings

from hvtune.catalog import load_catalog
from hvtune.checking import check
from hvtune.config import HypervConfig
from hvtune.findings import Severity

from strategies import feature_sets
from support.qemu_table import TableEntry, read_table

SYNIC, VPINDEX = "hv-synic", "hv-vpindex"


def qemu_dependency_errors(table: list[TableEntry], enabled: set[int], synic_kvm_only: bool) -> list[str]:
    """kvm_hyperv_expand_features, transcribed: each requested feature in bit
    order, its missing dependencies lowest bit first; then SynIC -> VP_INDEX.
    QEMU stops at the first message; this returns them all, in order."""
    desc = {entry.bit: entry.desc for entry in table}
    errors = []
    for entry in table:
        if entry.bit not in enabled:
            continue
        deps = entry.dependencies
        while deps:
            dep = (deps & -deps).bit_length() - 1
            if dep not in enabled:
                errors.append(f"Hyper-V {entry.desc} requires Hyper-V {desc[dep]}")
            deps &= deps - 1
    catalog = load_catalog()
    synic, vpindex = catalog.property(SYNIC).bit, catalog.property(VPINDEX).bit
    if synic in enabled and not synic_kvm_only and vpindex not in enabled:
        errors.append(f"Hyper-V {desc[synic]} requires Hyper-V {desc[vpindex]}")
    return errors


def dependency_messages(config: HypervConfig) -> list[str]:
    return [f.message for f in check(config) if f.code == "missing-dependency"]


@pytest.fixture(scope="module")
def table(qemu_binary: str) -> list[TableEntry]:
    return read_table(qemu_binary)


@pytest.mark.qemu
@settings(max_examples=300, deadline=None)
@given(config=feature_sets())
def test_dependency_errors_follow_qemus_table_and_order(table: list[TableEntry], config: HypervConfig) -> None:
    enabled = {p.bit for p in config.enabled_features if p.bit is not None}
    expected = qemu_dependency_errors(table, enabled, synic_kvm_only=False)
    assert dependency_messages(config) == expected
    errors = [f for f in check(config) if f.severity is Severity.ERROR]
    if expected:
        assert errors[0].message == expected[0], "the first error must be the one QEMU prints"


@pytest.mark.qemu
def test_machine_types_up_to_3_0_have_a_kvm_only_synic(table: list[TableEntry]) -> None:
    config = HypervConfig(model="host", values={SYNIC: True}, machine="pc-i440fx-3.0")
    synic = {load_catalog().property(SYNIC).bit}
    assert dependency_messages(config) == qemu_dependency_errors(table, synic, synic_kvm_only=True) == []
    newer = HypervConfig(model="host", values={SYNIC: True}, machine="pc-q35-3.1")
    assert dependency_messages(newer) == qemu_dependency_errors(table, synic, synic_kvm_only=False)
    explicit = HypervConfig(model="host", values={SYNIC: True, "x-hv-synic-kvm-only": True})
    assert dependency_messages(explicit) == []


def test_qemus_worked_examples() -> None:
    desc = {p.name: p.desc for p in load_catalog().properties}

    def message(feature: str, dependency: str) -> str:
        return f"Hyper-V {desc[feature]} requires Hyper-V {desc[dependency]}"

    def first(*names: str) -> str:
        return dependency_messages(HypervConfig(model="host", values={n: True for n in names}))[0]

    assert first("hv-stimer") == message("hv-stimer", "hv-time")
    assert first("hv-stimer", "hv-time") == message("hv-stimer", "hv-synic")
    assert first("hv-stimer", "hv-time", "hv-synic") == message("hv-synic", "hv-vpindex")
    assert first("hv-evmcs") == message("hv-evmcs", "hv-vapic")
    assert first("hv-syndbg") == message("hv-syndbg", "hv-relaxed")


def test_passthrough_skips_the_dependency_loop() -> None:
    config = HypervConfig(model="host", values={"hv-passthrough": True, "hv-stimer": True})
    assert dependency_messages(config) == []


@settings(max_examples=300, deadline=None)
@given(config=feature_sets())
def test_applying_the_fixes_leaves_no_dependency_error(config: HypervConfig) -> None:
    for finding in check(config):
        if finding.code == "missing-dependency":
            assert finding.fix is not None
            config = finding.fix.apply(config)
    assert dependency_messages(config) == []
