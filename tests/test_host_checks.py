"""Host-aware checks: what QEMU will do with a configuration on a given
host, judged from the host's profile; on this machine, the real QEMU under
KVM is the judge."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest

from hvtune.catalog import load_catalog
from hvtune.checking import check_reading
from hvtune.findings import Finding, Severity
from hvtune.formats import read_text
from hvtune.formats.qemu import read_cpu_option
from hvtune.host.kvm import probe_kvm
from hvtune.host.profile import HostProfile, probe_host
from hvtune.host.profile_json import load_profile

from support.domains import HYPERVCLOCK, domain, hyperv
from support.programs import under_ci
from support.qemu import QemuProbe


def findings(cpu: str, host: HostProfile) -> list[Finding]:
    return list(check_reading(read_cpu_option(cpu), host=host).findings)


def codes(cpu: str, host: HostProfile, severity: Severity | None = None) -> list[str]:
    return [f.code for f in findings(cpu, host) if severity is None or f.severity is severity]


def qemu_refusals(cpu: str, host: HostProfile) -> list[Finding]:
    return [f for f in findings(cpu, host) if f.refused_by == "qemu"]


def with_modules(host: HostProfile, module: str, **parameters: str) -> HostProfile:
    modules = {**host.system.modules, module: {**host.system.modules.get(module, {}), **parameters}}
    return replace(host, system=replace(host.system, modules=modules))


INTEL = load_profile("intel-nested")
AMD = load_profile("amd-avic")
OLD = load_profile("old-kernel-4.19")
NO_HYPERV = load_profile("no-hyperv")
UNSTABLE = load_profile("unstable-tsc")
GOOD = "host,hv-relaxed,hv-vapic,hv-spinlocks=0x1fff,hv-vpindex,hv-runtime,hv-synic,hv-stimer,hv-stimer-direct,hv-time,hv-frequencies,hv-tlbflush,hv-ipi,hv-avic"


def test_a_good_configuration_on_a_good_host() -> None:
    # nothing wrong, and nothing its plan has missing (the guest taken for Windows 10, said as a note)
    assert findings(GOOD, INTEL) == [] and findings(GOOD, AMD) == []


def test_unsupported_features_in_qemus_order_with_the_reason() -> None:
    refused = qemu_refusals("host,hv-evmcs", AMD)
    assert [(f.code, f.message) for f in refused] == [
        (
            "host-unsupported",
            "Hyper-V enlightened VMCS (hv-evmcs) is not supported by kernel (hv-evmcs needs an Intel CPU; this host's is AMD)",
        ),
        ("missing-dependency", "Hyper-V enlightened VMCS (hv-evmcs) requires Hyper-V virtual APIC (hv-vapic)"),
    ]
    assert refused[0].fix is not None and dict(refused[0].fix.values) == {"hv-evmcs": None}
    # the generic eVMCS advice gives way to the host's answer
    assert "evmcs-intel-only" not in codes("host,hv-vapic,hv-evmcs", AMD)
    assert "evmcs-intel-only" in codes("host,hv-vapic,hv-evmcs", INTEL)


def test_an_old_host_refuses_properties_its_qemu_lacks_before_anything_else() -> None:
    cpu = "host,hv-relaxed,hv-vpindex,hv-ipi,hv-xmm-input"
    # one finding per problem: QEMU stops at the unknown property before asking KVM about it
    assert [(f.code, f.feature) for f in qemu_refusals(cpu, OLD)] == [
        ("qemu-too-old", "hv-xmm-input"),
        ("host-unsupported", "hv-ipi"),
    ]
    first = qemu_refusals(cpu, OLD)[0].message
    assert first == (
        "QEMU 3.1.0 on old-kernel-4.19 does not know hv-xmm-input (it appeared in QEMU 7.1): "
        "Property 'host-x86_64-cpu.hv-xmm-input' not found"
    )


def test_a_kvm_without_hyperv_emulation() -> None:
    cpu = "qemu64,hv-relaxed,hv-vapic,hv-time,hv-stimer,hv-synic,hv-vpindex,hv-reenlightenment"
    refused = qemu_refusals(cpu, NO_HYPERV)
    assert [(f.code, f.feature) for f in refused] == [
        ("host-vpindex", "hv-vpindex"),
        ("host-msr-abort", "hv-time"),
        ("host-msr-abort", "hv-reenlightenment"),
        ("host-msr-abort", "hv-vapic"),
        ("host-msr-abort", "hv-synic"),
    ]
    assert "missing-dependency" not in codes("qemu64,hv-stimer", NO_HYPERV)  # QEMU checks nothing there
    (silent,) = [f for f in findings("qemu64,hv-relaxed,hv-stimer", NO_HYPERV) if f.code == "host-no-hyperv"]
    assert silent.severity is Severity.WARNING and "QEMU drops hv-relaxed, hv-stimer without a word" in silent.message


def test_vp_index_that_kvm_cannot_set() -> None:
    caps = {**INTEL.kvm.capabilities, "KVM_CAP_HYPERV_VP_INDEX": 0}
    host = replace(INTEL, kvm=replace(INTEL.kvm, capabilities=caps))
    (refused,) = qemu_refusals("host,hv-vpindex", host)
    assert refused.message == (
        "kernel doesn't allow setting HyperV VP_INDEX (QEMU refuses to start: this host's KVM lacks KVM_CAP_HYPERV_VP_INDEX)"
    )


def test_a_hyperv_cpuid_that_kvm_will_not_give() -> None:
    kvm = replace(
        INTEL.kvm,
        hv_cpuid=None,
        hv_cpuid_problem="KVM_GET_SUPPORTED_HV_CPUID (system ioctl) failed: EINVAL (Invalid argument)",
    )
    refused = qemu_refusals("host,hv-relaxed", replace(INTEL, kvm=kvm))
    assert [f.code for f in refused][:1] == ["host-hv-cpuid-failed"]
    assert refused[0].message.endswith("failed: EINVAL (Invalid argument)")


def test_no_kvm_at_all_is_said_once() -> None:
    host = replace(INTEL, kvm=probe_kvm("/nonexistent/kvm"))
    assert codes("host,hv-relaxed,hv-vpindex", host) == ["host-no-kvm"]


def test_clocksource_apicv_and_smt() -> None:
    assert "host-unstable-clock" in codes("host,hv-time", UNSTABLE, Severity.WARNING)
    assert "host-unstable-clock" not in codes("host,hv-time", INTEL)
    inhibit = [f for f in findings("host,hv-vpindex,hv-synic", INTEL) if f.code == "synic-inhibits-apicv"]
    assert inhibit and inhibit[0].fix is not None and dict(inhibit[0].fix.values) == {"hv-avic": True}
    no_apicv = with_modules(INTEL, "kvm_intel", enable_apicv="N")
    assert "synic-inhibits-apicv" not in codes("host,hv-vpindex,hv-synic", no_apicv)
    assert "avic-without-apicv" in codes("host,hv-avic", no_apicv)
    assert "coresharing-with-smt" in codes("host,hv-no-nonarch-coresharing=on", INTEL)
    no_smt = replace(INTEL, system=replace(INTEL.system, smt="off"))
    assert "coresharing-with-smt" not in codes("host,hv-no-nonarch-coresharing=on", no_smt)


def test_passthrough_takes_what_the_host_has() -> None:
    assert qemu_refusals("host,hv-passthrough", UNSTABLE) == []  # though the host lacks two features
    assert [f.code for f in qemu_refusals("host,hv-passthrough", OLD)] == ["qemu-too-old"]  # QEMU 3.1 has none


def test_tcg_and_the_hosts_qemu() -> None:
    tcg = domain(hyperv("relaxed", "vpindex", "synic", "stimer"), HYPERVCLOCK).replace("type='kvm'", "type='qemu'", 1)
    reading = read_text(tcg, source="d.xml")
    on_old_qemu = [f for f in check_reading(reading, host=NO_HYPERV).findings if f.code == "vpindex-under-tcg"]
    assert on_old_qemu[0].severity is Severity.ERROR and "this host has QEMU 7.2.22" in on_old_qemu[0].message
    assert "vpindex-under-tcg" not in [f.code for f in check_reading(reading, host=INTEL).findings]
    # a TCG guest is not judged by the host's KVM
    assert not [f for f in check_reading(reading, host=NO_HYPERV).findings if f.code.startswith("host-")]


def test_the_hosts_libvirt_judges_domains(capsys: pytest.CaptureFixture[str], tmp_path) -> None:  # type: ignore[no-untyped-def]
    from support.cli import run

    path = tmp_path / "d.xml"
    path.write_text(domain(hyperv("relaxed", "vapic", "avic")))
    code, out, _ = run(capsys, "check", str(path), "--host", "old-kernel-4.19")
    said = " ".join(out.split())
    assert code == 1
    assert (
        "libvirt 5.0.0 refuses the domain: unsupported configuration: unsupported HyperV Enlightenment feature: avic"
        in said
    )
    code, out, _ = run(capsys, "check", str(path), "--host", "intel-nested")
    assert code == 0


# --- the real QEMU under this machine's KVM is the judge -----------------------------


def _this_kvm_host() -> HostProfile:
    host = probe_host(libvirt_uri=None)
    if host.kvm.device != "present":
        if under_ci():
            pytest.fail(f"KVM is not usable on the CI machine: {host.kvm.problem}")
        pytest.skip(f"KVM is not usable here: {host.kvm.problem}")
    return host


def _with_requirements(name: str) -> str:
    needed = load_catalog().requirements((name,))
    return "qemu64," + ",".join(p.name for p in needed)


CASES = [_with_requirements(p.name) for p in load_catalog().features] + [
    "qemu64,hv-relaxed,hv-spinlocks=0x1fff,hv-vendor-id=KVMKVMKVM",
    "qemu64,hv-passthrough",
    "qemu64,hv-stimer",  # a missing dependency
    "qemu64,hv-vapic,hv-reenlightenment,hv-time",  # several MSRs: the first written fails first
]


@pytest.mark.qemu
@pytest.mark.parametrize("cpu", CASES)
def test_qemu_under_this_kvm_does_what_hvtune_predicts(qemu: QemuProbe, cpu: str) -> None:
    host = _this_kvm_host()
    refused = qemu_refusals(cpu, host)
    outcome = qemu.run(cpu, [], accel="kvm")
    assert outcome.accepted == (not refused), (
        f"QEMU: {outcome.errors or 'started'}; hvtune: {[f.message for f in refused]}"
    )
    if refused:
        first_qemu_error = re.sub(r" to 0x[0-9a-f]+$", "", outcome.errors[0])
        assert first_qemu_error in refused[0].message


def test_a_fixed_tsc_frequency_needs_tsc_scaling_or_exactly_the_hosts_frequency() -> None:
    """Without KVM_CAP_TSC_CONTROL QEMU accepts only the host's own TSC
    frequency (seen in the sandbox: 'kvm_init_vcpu: kvm_arch_init_vcpu
    failed (0): Operation not supported'); unknown frequency: a warning."""
    unscaled = replace(INTEL, kvm=replace(INTEL.kvm, capabilities={**INTEL.kvm.capabilities, "KVM_CAP_TSC_CONTROL": 0}))
    at = replace(unscaled, kvm=replace(unscaled.kvm, tsc_khz=2596150))
    (refused,) = qemu_refusals("host,tsc-frequency=2600000000", at)
    assert refused.refusal_line == "kvm_init_vcpu: kvm_arch_init_vcpu failed (0): Operation not supported"
    assert "runs at 2596150 kHz" in refused.message
    assert qemu_refusals("host,tsc-frequency=2596150000", at) == []
    assert "host-tsc-scaling" in codes("host,tsc-frequency=2600000000", unscaled, Severity.WARNING)
    assert "host-tsc-scaling" not in codes("host,tsc-frequency=2600000000", INTEL)


def test_a_qemu_without_the_properties_names_the_first_typed() -> None:
    """QEMU 5.2 (bullseye's sandbox) applies name=value tokens in the order
    typed and names the first it lacks (a -cpu value alone keeps that order,
    as a command line does; seen in the sandbox's random subsets)."""
    bullseye = load_profile("sandbox-bullseye")
    refused = qemu_refusals("host,hv-tlbflush-direct,hv-vapic=off,hv-emsr-bitmap=off", bullseye)[0]
    assert refused.refusal_line == (
        "can't apply global host-x86_64-cpu.hv-tlbflush-direct=on: Property 'host-x86_64-cpu.hv-tlbflush-direct' not found"
    )
