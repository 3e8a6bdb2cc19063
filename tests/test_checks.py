"""Value, hazard and migration findings: when each fires, how severe it is,
and that its fix resolves it."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hvtune.catalog import load_catalog
from hvtune.checking import check
from hvtune.checks import run_checks
from hvtune.checks.context import CheckContext
from hvtune.config import HypervConfig
from hvtune.documents.qemu import QemuCommand
from hvtune.findings import Finding, Severity
from hvtune.formats.qemu import parse_cpu

from strategies import configs

GOOD = (
    "host,hv-relaxed,hv-vapic,hv-spinlocks=0x1fff,hv-vpindex,hv-runtime,hv-synic,hv-stimer,hv-time,"
    "hv-frequencies,hv-tlbflush,hv-ipi"
)


def findings(cpu: str, **context: object) -> list[Finding]:
    parsed = parse_cpu(cpu)
    return run_checks(parsed.config, CheckContext(document=QemuCommand(ambiguous=parsed.ambiguous), **context))  # type: ignore[arg-type]


def codes(cpu: str, **context: object) -> list[str]:
    return [f.code for f in findings(cpu, **context)]


def only(cpu: str, code: str, **context: object) -> Finding:
    matching = [f for f in findings(cpu, **context) if f.code == code]
    assert len(matching) == 1, codes(cpu, **context)
    return matching[0]


def assert_fix_resolves(cpu: str, code: str, **context: object) -> None:
    finding = only(cpu, code, **context)
    assert finding.fix is not None
    fixed = finding.fix.apply(parse_cpu(cpu).config)
    assert code not in [f.code for f in run_checks(fixed, CheckContext(**context))]  # type: ignore[arg-type]


def test_a_complete_windows_set_is_clean() -> None:
    assert findings(GOOD) == []


@pytest.mark.parametrize(
    ("cpu", "code"),
    [
        (GOOD.replace("0x1fff", "0x100"), "spinlocks-too-low"),
        (GOOD + ",hv-vendor-id=averyverylongvendor", "vendor-id-too-long"),
        ("host,hv-passthrough,hv-relaxed=off", "passthrough-overrides"),
        ("host,kvm=off,hv-vendor-id=1234567890ab", "vendor-id-alone"),
        (GOOD + ",hv-reset", "reset-discouraged"),
        (GOOD + ",hv-evmcs,-vmx", "evmcs-without-vmx"),
        (GOOD + ",hv-syndbg", "development-feature"),
        (GOOD + ",hv-enforce-cpuid", "development-feature"),
        ("host,hv-vpindex,hv-synic", "synic-without-stimer"),
        (GOOD + ",hv-no-nonarch-coresharing=auto", "coresharing-auto-not-migratable"),
    ],
)
def test_fixes_resolve_their_findings(cpu: str, code: str) -> None:
    assert_fix_resolves(cpu, code)


def test_libvirt_limits_are_errors_only_for_libvirt() -> None:
    low = GOOD.replace("0x1fff", "0xff")
    assert only(low, "spinlocks-too-low").severity is Severity.WARNING
    assert only(low, "spinlocks-too-low", target="libvirt").severity is Severity.ERROR
    long_vendor = GOOD + ",hv-vendor-id=thirteenchars"
    assert only(long_vendor, "vendor-id-too-long").severity is Severity.WARNING
    assert only(long_vendor, "vendor-id-too-long", target="libvirt").severity is Severity.ERROR
    assert only(long_vendor, "vendor-id-too-long").fix.values == {"hv-vendor-id": "thirteenchar"}  # type: ignore[union-attr]


def test_spinlocks_at_libvirts_minimum_and_never_notify_are_fine() -> None:
    assert "spinlocks-too-low" not in codes(GOOD.replace("0x1fff", "0xfff"))
    assert "spinlocks-too-low" not in codes(GOOD.replace("0x1fff", "0xffffffff"))


def test_a_vendor_id_with_a_comma_is_an_error_everywhere() -> None:
    config = HypervConfig(model="host", values={"hv-relaxed": True, "hv-vendor-id": "ab,cd"})
    finding = next(f for f in check(config) if f.code == "vendor-id-comma")
    assert finding.severity is Severity.ERROR
    assert finding.fix is not None and finding.fix.values == {"hv-vendor-id": "abcd"}


def test_passthrough_is_flagged_for_migration() -> None:
    finding = only("host,hv-passthrough", "passthrough-not-migratable")
    assert finding.severity is Severity.WARNING
    assert "prevents migration" in finding.message


def test_vendor_id_with_an_enlightenment_is_not_alone() -> None:
    assert "vendor-id-alone" not in codes("host,kvm=off,hv-relaxed,hv-vendor-id=1234567890ab")
    # any spinlock count other than never-notify also switches Hyper-V on
    assert "vendor-id-alone" not in codes("host,hv-spinlocks=0x1fff,hv-vendor-id=1234567890ab")


def test_evmcs_is_intel_only_and_needs_vmx() -> None:
    assert only(GOOD + ",hv-evmcs", "evmcs-intel-only").severity is Severity.WARNING
    assert "evmcs-without-vmx" not in codes(GOOD + ",hv-evmcs,+vmx")


def test_reenlightenment_needs_a_pinned_tsc_frequency() -> None:
    assert "reenlightenment-needs-tsc-frequency" in codes(GOOD + ",hv-reenlightenment")
    assert "reenlightenment-needs-tsc-frequency" not in codes(GOOD + ",hv-reenlightenment,tsc-frequency=2600000000")
    # QEMU keeps kHz: below 1 kHz nothing is pinned
    assert "reenlightenment-needs-tsc-frequency" in codes(GOOD + ",hv-reenlightenment,tsc-frequency=999")


def test_invtsc_needs_a_pinned_tsc_frequency_to_migrate() -> None:
    assert "invtsc-not-migratable" in codes(GOOD + ",+invtsc")
    assert "invtsc-not-migratable" not in codes(GOOD + ",+invtsc,tsc-freq=2.6G")


def test_synic_without_stimer_fix_brings_the_timer_and_its_clock() -> None:
    finding = only("host,hv-vpindex,hv-synic", "synic-without-stimer")
    assert finding.fix is not None and finding.fix.values == {"hv-time": True, "hv-stimer": True}


def test_linux_ignores_hyperv_while_kvm_is_visible() -> None:
    finding = only("host,hv-relaxed,hv-time", "linux-ignores-hyperv", guest_os="linux")
    assert finding.fix is not None and finding.fix.values == {"kvm": False, "hv-vpindex": True}
    assert "linux-ignores-hyperv" not in codes("host,hv-relaxed,hv-time,hv-vpindex,kvm=off", guest_os="linux")
    assert "linux-ignores-hyperv" not in codes("host,hv-relaxed,hv-time", guest_os="win11")
    assert "linux-ignores-hyperv" not in codes("host,hv-relaxed,hv-time")


def test_a_linux_guest_with_kvm_hidden_is_told_what_it_uses_and_loses() -> None:
    linux = load_catalog().linux
    finding = only("host,kvm=off,hv-relaxed,hv-vpindex,hv-time,hv-tlbflush", "linux-uses-hyperv", guest_os="linux")
    used = [use for use in linux.uses if use.property in ("hv-time", "hv-tlbflush")]
    assert all(use.use in finding.message for use in used) and linux.loses in finding.message
    assert "hv-vapic" not in finding.message  # only what is on
    blind = only("host,kvm=off,hv-relaxed,hv-time", "linux-uses-hyperv", guest_os="linux")
    assert "sees no hypervisor" in blind.message
    assert "linux-uses-hyperv" not in codes("host,kvm=off,hv-relaxed,hv-vpindex", guest_os="win11")


def test_systemd_detect_virt_misnames_a_linux_guest_with_hyper_v_s_signature() -> None:
    facts = load_catalog().linux.detect_virt
    finding = only("host,hv-relaxed", "linux-detect-virt-microsoft", guest_os="linux")
    assert finding.severity is Severity.WARNING and f"systemd {facts.fixed_in}" in finding.message
    assert all(source in finding.message for source in facts.sources)
    assert load_catalog().impacts.impact(finding.code).value == "risk"
    # another vendor id, hv-passthrough (KVM's own vendor) or no Hyper-V at all: not misnamed
    for cpu in ("host,hv-relaxed,hv-vendor-id=KVMKVMKVM", "host,hv-passthrough", "host"):
        assert "linux-detect-virt-microsoft" not in codes(cpu, guest_os="linux")
    assert "linux-detect-virt-microsoft" not in codes("host,hv-relaxed", guest_os="win11")


def test_ambiguous_strings_are_reported() -> None:
    assert only("host,-hv-relaxed,hv-relaxed=on", "ambiguous-cpu-string").feature == "hv-relaxed"


def test_informational_notes() -> None:
    assert only(GOOD + ",hv-crash", "crash-stops-dump").severity is Severity.INFO
    assert only(GOOD + ",hv-no-nonarch-coresharing=on", "coresharing-needs-pinning").severity is Severity.INFO


def test_findings_come_most_important_first() -> None:
    ranks = [f.severity.rank for f in findings("host,hv-stimer,hv-reset,hv-crash,hv-passthrough=off")]
    assert ranks == sorted(ranks) and ranks[0] == Severity.ERROR.rank


@settings(max_examples=300, deadline=None)
@given(
    config=configs(), guest_os=st.sampled_from([None, "linux", "win11"]), target=st.sampled_from(["qemu", "libvirt"])
)
def test_every_finding_is_well_formed_and_its_fix_applies(
    config: HypervConfig, guest_os: str | None, target: str
) -> None:
    catalog = load_catalog()
    for finding in run_checks(config, CheckContext(target=target, guest_os=guest_os)):  # type: ignore[arg-type]
        assert re.fullmatch(r"[a-z]+(-[a-z0-9]+)+", finding.code)
        # hvtune's own sentences end without a period; libvirt's quoted ones keep theirs
        assert finding.message and (finding.refused_by == "libvirt" or not finding.message.endswith("."))
        assert finding.refused_by in (None, "libvirt", "qemu")
        assert (finding.refused_by is None) or finding.severity is Severity.ERROR
        assert finding.feature is None or catalog.entry(finding.feature) is not None
        if finding.fix is not None:
            assert finding.fix.values, finding.code
            finding.fix.apply(config)
