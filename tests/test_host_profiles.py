"""Host profiles: support decoded from recorded KVM answers by QEMU's rule,
the bundled profiles, system facts from recorded /proc and /sys trees, the
JSON form, and `hvtune host`."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from hvtune.catalog import load_catalog
from hvtune.errors import InputError
from hvtune.host.kvm import KvmFacts
from hvtune.host.profile import HostProfile, probe_host
from hvtune.host.profile_json import bundled_profile_names, load_profile, profile_from_json, profile_json
from hvtune.host.support import feature_support
from hvtune.host.sysfs import SystemFacts, read_system
from hvtune.releases import parse_release

from support.cli import assert_one_line_error, run
from support.kvm_records import ALL_HYPERV, INTEL_NESTED_LEAVES

FEATURES = [p.name for p in load_catalog().features]


def supported(facts: KvmFacts) -> set[str]:
    return {name for name, ok in feature_support(facts).items() if ok}


def with_registers(leaf: int, **registers: int) -> dict[int, tuple[int, int, int, int]]:
    eax, ebx, ecx, edx = INTEL_NESTED_LEAVES[leaf]
    changed = {"eax": eax, "ebx": ebx, "ecx": ecx, "edx": edx, **registers}
    return {**INTEL_NESTED_LEAVES, leaf: (changed["eax"], changed["ebx"], changed["ecx"], changed["edx"])}


# --- decoding recorded answers -------------------------------------------------


def test_intel_with_nested_supports_everything() -> None:
    assert supported(
        KvmFacts("present", capabilities=ALL_HYPERV, hv_cpuid=INTEL_NESTED_LEAVES, hv_cpuid_source="system")
    ) == set(FEATURES)


def test_amd_reports_no_evmcs() -> None:
    leaves = {**with_registers(0x40000004, eax=0xE2C), 0x4000000A: (0xA0000, 0x1, 0, 0)}
    facts = KvmFacts("present", capabilities=ALL_HYPERV, hv_cpuid=leaves, hv_cpuid_source="system")
    assert set(FEATURES) - supported(facts) == {"hv-evmcs"}


def test_a_feature_needs_every_one_of_its_bits() -> None:
    leaves = with_registers(0x40000003, eax=0xAAFF & ~(1 << 9))  # reference TSC page missing, counter present
    facts = KvmFacts("present", capabilities=ALL_HYPERV, hv_cpuid=leaves, hv_cpuid_source="system")
    assert set(FEATURES) - supported(facts) == {"hv-time"}


def test_the_vcpu_ioctl_trusts_the_evmcs_capability() -> None:
    leaves = {
        **with_registers(0x40000004, eax=0xE2C),  # the vCPU form hides eVMCS until it is enabled
        **with_registers(0x40000003, edx=0x84D12 & ~(1 << 19)),  # and direct timers without an irqchip
    }
    leaves[0x40000004] = (0xE2C, 0xFFF, 0, 0)
    facts = KvmFacts("present", capabilities=ALL_HYPERV, hv_cpuid=leaves, hv_cpuid_source="vcpu")
    assert set(FEATURES) - supported(facts) == {"hv-stimer-direct"}
    without_cap = replace(facts, capabilities={**ALL_HYPERV, "KVM_CAP_HYPERV_ENLIGHTENED_VMCS": 0})
    assert set(FEATURES) - supported(without_cap) == {"hv-stimer-direct", "hv-evmcs"}


def test_old_kernels_through_capabilities_and_msrs() -> None:
    capabilities = {name: 0 for name in ALL_HYPERV} | {
        "KVM_CAP_HYPERV": 1,
        "KVM_CAP_HYPERV_TIME": 1,
        "KVM_CAP_HYPERV_SYNIC2": 1,
        "KVM_CAP_HYPERV_TLBFLUSH": 1,
    }
    msrs = (0x40000002, 0x40000080, 0x400000B0, 0x40000105)  # VP_INDEX, SCONTROL, STIMER0_CONFIG, CRASH_CTL
    facts = KvmFacts("present", capabilities=capabilities, hyperv_msrs=msrs)
    expected = {"hv-relaxed", "hv-vapic", "hv-time", "hv-vpindex", "hv-synic", "hv-stimer", "hv-crash", "hv-tlbflush"}
    assert supported(facts) == expected
    no_synic2 = replace(facts, capabilities={**capabilities, "KVM_CAP_HYPERV_SYNIC2": 0})
    assert supported(no_synic2) == expected - {"hv-synic"}


def test_nothing_without_kvm_cap_hyperv() -> None:
    facts = KvmFacts(
        "present",
        capabilities={**ALL_HYPERV, "KVM_CAP_HYPERV": 0},
        hv_cpuid=INTEL_NESTED_LEAVES,
        hv_cpuid_source="system",
    )
    assert supported(facts) == set()


# --- the bundled profiles ----------------------------------------------------------


def test_the_bundled_profiles_are_the_five_examples_and_the_recorded_sandboxes() -> None:
    assert bundled_profile_names() == [
        "amd-avic",
        "intel-nested",
        "no-hyperv",
        "old-kernel-4.19",
        "sandbox-bookworm",
        "sandbox-bullseye",
        "sandbox-sid",
        "sandbox-trixie",
        "unstable-tsc",
    ]


@pytest.mark.parametrize("name", bundled_profile_names())
def test_bundled_profiles_agree_with_the_catalog(name: str) -> None:
    """What each recorded host supports is what the catalog says its kernel,
    CPU and settings give."""
    host = load_profile(name)
    if not host.hyperv_emulation:
        assert host.supported == ()
        return
    kernel = parse_release(".".join((host.system.kernel or "").split(".")[:2]))
    expected = set()
    for prop in load_catalog().features:
        needs = prop.host
        if parse_release(prop.since.kernel) > kernel:
            continue
        if (needs.vendor and needs.vendor != host.vendor) or (needs.nested and not host.nested):
            continue
        if host.kvm.hv_cpuid is None and prop.legacy is None:
            continue
        expected.add(prop.name)
    assert set(host.supported) == expected


def test_what_each_bundled_profile_stands_for() -> None:
    intel, amd, old, none, unstable = (
        load_profile(n) for n in ("intel-nested", "amd-avic", "old-kernel-4.19", "no-hyperv", "unstable-tsc")
    )
    assert (intel.vendor, intel.nested, intel.apicv, intel.smt_active) == ("intel", True, True, True)
    assert (amd.vendor, amd.nested, amd.apicv, amd.support["hv-evmcs"]) == ("amd", True, True, False)
    assert old.kvm.hv_cpuid is None and old.qemu_version == "3.1.0" and not old.nested
    assert none.kvm.device == "present" and not none.hyperv_emulation and not none.vp_index_settable
    assert unstable.stable_clocksource is False and unstable.system.clocksource == "hpet"


# --- system facts from recorded trees -----------------------------------------------


def write_tree(root: Path, files: dict[str, str]) -> Path:
    for relative, text in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text + "\n")
    return root


INTEL_TREE = {
    "proc/cpuinfo": (
        "processor\t: 0\nvendor_id\t: GenuineIntel\ncpu family\t: 6\nmodel\t\t: 143\n"
        "model name\t: Intel(R) Xeon(R) Gold 6430\nflags\t\t: fpu vme tsc constant_tsc nonstop_tsc vmx tsc_known_freq\n\n"
        "processor\t: 1\nvendor_id\t: GenuineIntel\nflags\t\t: fpu\n"
    ),
    "proc/sys/kernel/osrelease": "6.8.0-51-generic",
    "sys/module/kvm_intel/parameters/nested": "Y",
    "sys/module/kvm_intel/parameters/enable_apicv": "N",
    "sys/module/kvm/parameters/tsc_tolerance_ppm": "250",
    "sys/devices/system/clocksource/clocksource0/current_clocksource": "tsc",
    "sys/devices/system/clocksource/clocksource0/available_clocksource": "tsc hpet acpi_pm ",
    "sys/devices/system/cpu/smt/control": "on",
}


def test_system_facts_of_a_recorded_intel_host(tmp_path: Path) -> None:
    facts = read_system(write_tree(tmp_path, INTEL_TREE))
    assert facts.kernel == "6.8.0-51-generic"
    assert (facts.cpu.vendor, facts.cpu.family, facts.cpu.model) == ("intel", 6, 143)
    assert facts.cpu.flags == {"constant_tsc", "nonstop_tsc", "vmx", "tsc_known_freq"}  # the first CPU only
    assert facts.modules == {"kvm_intel": {"nested": "Y", "enable_apicv": "N"}, "kvm": {"tsc_tolerance_ppm": "250"}}
    assert (facts.clocksource, facts.clocksources, facts.smt) == ("tsc", ("tsc", "hpet", "acpi_pm"), "on")
    host = HostProfile("recorded", "test", facts, KvmFacts("absent"))
    assert (host.kvm_module, host.nested, host.apicv, host.invariant_tsc, host.smt_active) == (
        "kvm_intel",
        True,
        False,
        True,
        True,
    )


def test_an_empty_tree_is_unknown_not_an_error(tmp_path: Path) -> None:
    facts = read_system(tmp_path)
    assert facts == SystemFacts()
    host = HostProfile("empty", "test", facts, KvmFacts("absent"))
    assert (host.nested, host.apicv, host.stable_clocksource, host.smt_active) == (None, None, None, None)


# --- JSON ------------------------------------------------------------------------------


@pytest.mark.parametrize("name", bundled_profile_names())
def test_profiles_round_trip_through_json(name: str) -> None:
    host = load_profile(name)
    assert profile_from_json(json.dumps(profile_json(host)), source="saved") == host


def test_this_machine_round_trips_too() -> None:
    host = probe_host(libvirt_uri=None)
    again = profile_from_json(json.dumps(profile_json(host)), source="saved")
    assert again == host and again.support == host.support


@pytest.mark.parametrize(
    ("edit", "place", "problem"),
    [
        (lambda d: d.pop("name"), "name", "missing"),
        (lambda d: d["kvm"].pop("device"), "kvm.device", "missing"),
        (
            lambda d: d["kvm"].update(device="maybe"),
            "kvm.device",
            'must be present, absent, denied or error, not "maybe"',
        ),
        (
            lambda d: d["kvm"]["capabilities"].update(KVM_CAP_HYPERV="lots"),
            "kvm.capabilities.KVM_CAP_HYPERV",
            'must be a number or a hex string, not "lots"',
        ),
        (
            lambda d: d["kvm"]["hv_cpuid"]["leaves"].update({"0x40000003": [1, 2]}),
            "kvm.hv_cpuid.leaves.0x40000003",
            "must list the four registers EAX, EBX, ECX, EDX",
        ),
        (lambda d: d["cpu"].update(family="six"), "cpu.family", 'must be an int, not "six"'),
        (lambda d: d.update(smt=True), "smt", "must be a string, not true"),
    ],
)
def test_a_bad_profile_file_is_one_line_naming_the_key(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    edit,
    place: str,
    problem: str,  # type: ignore[no-untyped-def]
) -> None:
    document = profile_json(load_profile("intel-nested"))
    edit(document)
    path = tmp_path / "host.json"
    path.write_text(json.dumps(document))
    code, out, err = run(capsys, "check", "--cpu", "host,hv-relaxed", "--host", str(path))
    assert code == 2 and out == ""
    assert_one_line_error(err, f"{path}: {place}: {problem}")


@pytest.mark.parametrize(
    ("edit", "error"),
    [
        (lambda d: d.update(name=None), "name: missing"),  # null stands for a key left out
        (
            lambda d: d["kvm"]["hv_cpuid"]["leaves"].update({"0x40000003": [1, 2, "x", 4]}),
            'kvm.hv_cpuid.leaves.0x40000003[2]: must be a number or a hex string, not "x"',
        ),
        (
            lambda d: d["kvm"]["hv_cpuid"]["leaves"].update({"leaf": [1, 2, 3, 4]}),
            'kvm.hv_cpuid.leaves.leaf: must be a number or a hex string, not "leaf"',
        ),
        (
            lambda d: d["kvm"]["capabilities"].update(KVM_CAP_HYPERV="0x80000000"),
            'kvm.capabilities.KVM_CAP_HYPERV: must be within -2147483648..2147483647 (32 bits), not "0x80000000"',
        ),
        (
            lambda d: d["cpu"].update(flags=["vmx", "a\nb"]),
            'cpu.flags[1]: must be a string without control characters, not "a\\nb"',
        ),
        (lambda d: d["modules"]["kvm"].update(tsc_tolerance_ppm=[250]), "modules.kvm.tsc_tolerance_ppm: must be a"),
        (
            lambda d: d["qemu"].update(version="eight"),
            'qemu.version: must be a release number such as 9.0.0, not "eight"',
        ),
        (lambda d: d.update(schema="hvtune/host/2"), 'schema: this hvtune reads hvtune/host/1, not "hvtune/host/2"'),
    ],
)
def test_the_place_is_the_dotted_path_to_the_key(edit, error: str) -> None:  # type: ignore[no-untyped-def]
    document = profile_json(load_profile("intel-nested"))
    edit(document)
    with pytest.raises(InputError) as raised:
        profile_from_json(json.dumps(document), source="host.json")
    assert str(raised.value).startswith(f"host.json: {error}")


def test_derived_and_unknown_keys_are_not_read_and_the_schema_key_is_optional() -> None:
    document = profile_json(load_profile("amd-avic"))
    assert document["schema"] == "hvtune/host/1"
    host = load_profile("amd-avic")
    edited = {**document, "derived": "anything", "comment": [1, 2]}
    del edited["schema"]
    assert profile_from_json(json.dumps(edited), source="host.json") == host


def test_files_that_are_not_profiles(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "host.json"
    path.write_text('{"name": "x"}')
    code, _, err = run(capsys, "host", "--host", str(path))
    assert code == 2
    assert_one_line_error(err, 'not an hvtune host profile (no "hvtune_host_profile": 1)')
    path.write_text("{")
    code, _, err = run(capsys, "host", "--host", str(path))
    assert code == 2 and "invalid host profile JSON" in err
    code, _, err = run(capsys, "doctor", "--host", "no-such-host")
    assert code == 2
    assert_one_line_error(
        err, "no-such-host: no such host profile file, and no bundled profile of that name (amd-avic,"
    )


# --- hvtune host ----------------------------------------------------------------------


def test_host_probes_this_machine(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    saved = tmp_path / "this-host.json"
    code, out, _ = run(capsys, "host", "--format", "json", "--save", str(saved))
    assert code == 0
    document = json.loads(out)
    assert set(document) == {
        "schema", "hvtune_host_profile", "name", "description", "probed", "kernel", "cpu", "modules",
        "clocksource", "smt", "kvm", "qemu", "libvirt", "derived",
    }  # fmt: skip
    assert set(document["derived"]) == {
        "status", "hyperv_emulation", "supported", "unsupported", "vp_index_settable", "kvm_module",
        "nested", "apicv", "stable_clocksource", "invariant_tsc", "smt_active",
    }  # fmt: skip
    assert json.loads(saved.read_text()) == document
    code, text, _ = run(capsys, "host", "--host", str(saved))
    assert code == 0 and text.splitlines()[1] == f"  {document['derived']['status']}"


def test_host_list_and_a_bundled_profile(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "host", "--list", "--format", "json")
    assert code == 0
    assert [p["name"] for p in json.loads(out)["profiles"]] == bundled_profile_names()
    code, out, _ = run(capsys, "host", "--host", "old-kernel-4.19")
    assert code == 0
    assert "  KVM present; Hyper-V emulation supports 12 of 21 features" in out
    assert "  not hv-ipi: Linux 4.19.0-27-amd64 does not offer it; KVM has it from Linux 4.20" in out
    assert "  not hv-evmcs: hv-evmcs needs nested virtualization, which is off in kvm_intel" in out
