"""hvtune guest: CPUID read in this machine (itself a VM) both ways for
real, the kernel's lines, clocksource and systemd-detect-virt read for real,
and the drift judged on leaves a real L2 guest read under the sandbox's
Hyper-V KVM (tests/data/guestview, fed in through observe(read=...))."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from hvtune.catalog import load_catalog
from hvtune.cpuid import OBSERVED_LEAVES, Leaves, hypervisor_present
from hvtune.formats.qemu import read_cpu_option
from hvtune.guest.clocksource import read_clocksource
from hvtune.guest.cpuid_reader import (
    INSTRUCTION,
    CpuidReading,
    device_path,
    read_cpuid,
    read_with_device,
    read_with_instruction,
)
from hvtune.guest.detect_virt import DetectVirt, read_detect_virt
from hvtune.guest.drift import Cause, DriftKind, judge_drift, received_features
from hvtune.guest.kernel_log import kernel_log_of, read_kernel_log
from hvtune.guest.notes import notes
from hvtune.guest.observe import Observation, observe
from hvtune.host.profile_json import load_profile
from hvtune.report.guest import Expected, guest_json, guest_text

from support.cli import assert_one_line_error
from support.schemas import assert_valid

OBSERVED = Path(__file__).parent / "data" / "guestview" / "sandbox-bookworm.json"
SANDBOX = load_profile("sandbox-bookworm")
HYPERV = "host,hv-relaxed,hv-vpindex,hv-synic,hv-time,hv-stimer,kvm=off"
VENDOR = "host,hv-relaxed,hv-vapic,hv-spinlocks=0x1fff,hv-vendor-id=KVMKVMKVM"
PASSTHROUGH = "host,hv-passthrough"
SYNDBG = "host,hv-syndbg,hv-relaxed,hv-vpindex,hv-synic"


def _recorded() -> dict[str, Leaves]:
    recorded = json.loads(OBSERVED.read_text())["observed"]
    return {
        cpu: {int(leaf, 16): (regs[0], regs[1], regs[2], regs[3]) for leaf, regs in leaves.items()}
        for cpu, leaves in recorded.items()
    }


RECORDED = _recorded()


def _drift(expected_cpu: str, observed_cpu: str, host: str = "sandbox-bookworm") -> dict[str, tuple[str, ...]]:
    config = read_cpu_option(expected_cpu, source="--cpu").config
    return {
        drift.subject: (drift.kind.value, drift.expected, drift.received, drift.cause.value)
        for drift in judge_drift(config, load_profile(host), RECORDED[observed_cpu])
    }


def _hvtune(*argv: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "hvtune", *argv], capture_output=True, text=True, env=env)


# -- reading CPUID for real ---------------------------------------------------------------------------


@pytest.fixture
def one_cpu() -> Iterator[int]:
    """This process on one CPU (leaf 1 holds the APIC id of the CPU that
    answers), with its CPUID device: the cpuid module loaded if needed."""
    if os.uname().machine != "x86_64":
        pytest.skip("CPUID is read on x86-64 machines")
    allowed = os.sched_getaffinity(0)
    cpu = min(allowed)
    if not os.path.exists(device_path(cpu)):
        subprocess.run(["modprobe", "cpuid"], capture_output=True, check=False)
    if not os.path.exists(device_path(cpu)):
        pytest.skip(f"{device_path(cpu)} is missing and the cpuid module cannot be loaded here")
    os.sched_setaffinity(0, {cpu})
    try:
        yield cpu
    finally:
        os.sched_setaffinity(0, allowed)


def test_the_instruction_and_the_device_read_the_same_leaves(one_cpu: int) -> None:
    by_instruction = read_with_instruction()
    assert list(by_instruction) == list(OBSERVED_LEAVES)
    assert by_instruction == read_with_device(path=device_path(one_cpu))
    # this machine is a VM: its hypervisor sets leaf 1 ECX[31] and signs at 0x40000000
    assert hypervisor_present(by_instruction) is True and by_instruction[0x40000000][0] >= 0x40000000
    reading = read_cpuid()
    assert reading.method == INSTRUCTION and reading.refused is None


def test_when_executable_memory_is_refused_the_device_is_read(one_cpu: int) -> None:
    """A seccomp filter makes the kernel refuse mprotect(PROT_EXEC), as
    SELinux's execmem denial would: hvtune guest says so and reads the
    device, which gives what the instruction gives."""
    script = (
        "import sys; from support.no_exec import refuse_executable_memory; refuse_executable_memory(); "
        "from hvtune.cli import main; sys.exit(main(['guest', '--format', 'json']))"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(Path(__file__).parent), os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stderr
    document = assert_valid(done.stdout)
    assert document["method"] == device_path(one_cpu)
    assert "mprotect" in document["refused"] and "Permission denied" in document["refused"]
    by_instruction = {f"0x{leaf:08X}": list(regs) for leaf, regs in read_with_instruction().items()}
    hypervisor = {leaf: regs for leaf, regs in by_instruction.items() if leaf >= "0x40000000"}
    assert {leaf: regs for leaf, regs in document["leaves"].items() if leaf >= "0x40000000"} == hypervisor


def test_a_missing_device_is_said_in_one_line() -> None:
    with pytest.raises(Exception, match=r"/nowhere/cpuid is missing \(load the cpuid module"):
        read_with_device(path="/nowhere/cpuid")


def test_a_machine_that_is_not_x86_64_is_refused_in_one_line() -> None:
    setarch = shutil.which("setarch")
    if setarch is None or os.uname().machine != "x86_64":
        pytest.skip("needs setarch on an x86-64 machine")
    done = subprocess.run([setarch, "linux32", sys.executable, "-m", "hvtune", "guest"], capture_output=True, text=True)
    assert done.returncode == 2 and done.stdout == ""
    assert_one_line_error(done.stderr, "this machine: not x86-64 (i686)")


# -- Linux's sources, for real -----------------------------------------------------------------------


def test_the_kernel_log_is_read_from_kmsg_or_else_dmesg() -> None:
    if not os.path.exists("/dev/kmsg"):
        pytest.skip("no /dev/kmsg here")
    assert read_kernel_log().source == "/dev/kmsg"
    fallback = read_kernel_log(kmsg="/nowhere/kmsg")
    assert fallback.source == "dmesg" if shutil.which("dmesg") else "/nowhere/kmsg" in (fallback.missing or "")


def test_the_kernel_s_hyper_v_lines_are_kept() -> None:
    said = [  # what the sandbox's L2 kernel said (tests/test_sandbox_boot.py)
        "Linux version 6.1.0",
        "Hypervisor detected: Microsoft Hyper-V",
        "Hyper-V: privilege flags low 0xa7f, high 0x30, hints 0x28, misc 0x108",
        "clocksource: Switched to clocksource hyperv_clocksource_tsc_page",
    ]
    log = kernel_log_of(said, "dmesg")
    assert log.hypervisor == "Hypervisor detected: Microsoft Hyper-V"
    assert log.hyperv == ("Hyper-V: privilege flags low 0xa7f, high 0x30, hints 0x28, misc 0x108",)


def test_the_clocksource_and_its_absence(tmp_path: Path) -> None:
    clock = read_clocksource()
    if clock.missing is None:
        assert clock.current in clock.available
    missing = read_clocksource(tmp_path)
    assert missing.current is None and "current_clocksource" in (missing.missing or "")


def test_systemd_detect_virt_and_its_absence(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    if shutil.which("systemd-detect-virt"):
        answer = read_detect_virt()
        assert answer.missing is None and answer.answer and " " not in answer.answer
    monkeypatch.setenv("PATH", str(tmp_path))
    assert read_detect_virt() == DetectVirt(missing="no systemd-detect-virt program")


# -- drift, on leaves a real guest read ----------------------------------------------------------------


@pytest.mark.parametrize("cpu", sorted(RECORDED))
def test_a_guest_started_with_its_configuration_shows_no_drift(cpu: str) -> None:
    assert _drift(cpu, cpu) == {}


def test_kvm_s_own_features_leaf_is_never_drift() -> None:
    changed = {**RECORDED[VENDOR], 0x40000101: (0x12345678, 0, 0, 1)}
    config = read_cpu_option(VENDOR, source="--cpu").config
    assert judge_drift(config, SANDBOX, changed) == ()


def test_features_configured_but_not_received_and_the_reverse() -> None:
    drift = _drift(SYNDBG, HYPERV)
    assert drift["hv-syndbg"] == ("missing", "on", None, "other-config")
    assert drift["hv-time"] == drift["hv-stimer"] == ("unexpected", None, "on", "other-config")
    # kvm=off hid KVM's leaves the configuration has
    assert drift["0x40000100: the hypervisor interface"][:3] == ("missing", "KVM", None)
    assert drift["0x40000000.EAX[31:0] MaxFunction"] == ("value", "0x40000082", "0x40000005", "other-config")


def test_values_that_differ_are_named_by_the_table() -> None:
    drift = _drift(VENDOR, PASSTHROUGH)
    assert drift["0x40000004.EBX[31:0] LongSpinWaitCount"][1:3] == ("0x1FFF", "0xFFF")
    assert drift["0x40000000 Hypervisor CPUID Leaf Range"][1:3] == ('"KVMKVMKVM"', '"Linux KVM Hv"')
    assert drift["hv-syndbg"][0] == "unexpected"


def test_a_feature_the_host_lacks_is_blamed_on_the_host() -> None:
    # the sandbox's host is AMD: its KVM has no enlightened VMCS
    assert SANDBOX.support.get("hv-evmcs") is False
    drift = _drift("host,hv-relaxed,hv-vapic,hv-spinlocks=0x1fff,hv-vendor-id=KVMKVMKVM,hv-evmcs", VENDOR)
    assert drift["hv-evmcs"] == ("missing", "on", None, Cause.HOST_LACKS.value)


def test_passthrough_on_another_host_is_blamed_on_the_host() -> None:
    drift = _drift(PASSTHROUGH, PASSTHROUGH, host="intel-nested")
    assert drift and {cause for *_, cause in drift.values()} <= {"other-host", "other-config"}
    assert any(cause == "other-host" for *_, cause in drift.values())


def test_no_hyper_v_where_it_was_configured() -> None:
    drift = _drift(HYPERV, "host")
    assert drift["0x40000000: the hypervisor interface"][:3] == ("value", "Hyper-V", "KVM")
    assert {name for name, (kind, *_) in drift.items() if kind == DriftKind.MISSING.value} == {
        "hv-relaxed",
        "hv-vpindex",
        "hv-synic",
        "hv-time",
        "hv-stimer",
    }


# -- the observation and its reports ---------------------------------------------------------------------


def _observation(cpu: str, answer: str | None = None) -> Observation:
    recorded = CpuidReading(RECORDED[cpu], "recorded")
    observed = observe(read=lambda: recorded, linux=False)
    return Observation(observed.cpuid, detect_virt=None if answer is None else DetectVirt(answer))


def test_systemd_detect_virt_saying_microsoft_on_kvm_is_noted() -> None:
    facts = load_catalog().linux.detect_virt
    (note,) = notes(_observation(VENDOR, "microsoft"))
    assert f"before {facts.fixed_in}" in note and "KVM's own leaves" in note
    assert notes(_observation(HYPERV, "microsoft")) == ()  # kvm=off: no KVM leaves to contradict it
    assert notes(_observation(VENDOR, "kvm")) == ()


def test_the_reports_of_a_recorded_guest() -> None:
    observation = _observation(HYPERV)
    config = read_cpu_option(SYNDBG, source="--cpu").config
    expected = Expected("--cpu", SANDBOX.name, SANDBOX.qemu_version, judge_drift(config, SANDBOX, RECORDED[HYPERV]))
    text = guest_text(observation, expected)
    assert "0x40000000: Hyper-V; 0x40000100: nothing; vendor at 0x40000000: 'Microsoft Hv'" in text
    assert f"features received: {', '.join(received_features(RECORDED[HYPERV]))}" in text
    assert "UseRelaxedTiming [hv-relaxed]" in text  # the same decoder as hvtune cpuid
    assert "  missing     hv-syndbg: configured on, not received; likely other-config" in text
    document = assert_valid(guest_json(observation, expected))
    assert document["interfaces"] == {"0x40000000": "Hyper-V", "0x40000100": None}
    assert document["kernel"] is None and document["expected"]["drift"][0]["kind"] == "missing"
    clean = guest_text(observation, Expected("--cpu", SANDBOX.name, None, ()))
    assert clean.endswith("compared with --cpu on sandbox-bookworm: no drift, the guest received what it asks for\n")


# -- the command, on this machine --------------------------------------------------------------------------


def test_the_command_on_this_machine_and_its_exit_codes(tmp_path: Path) -> None:
    seen = _hvtune("guest", "--format", "json")
    assert seen.returncode == 0, seen.stderr
    document = assert_valid(seen.stdout)
    if document["interfaces"] != {"0x40000000": "KVM", "0x40000100": None}:
        pytest.skip("this machine is not a KVM guest without Hyper-V: which configuration it runs is unknown")
    command_line = tmp_path / "vm.sh"
    command_line.write_text("qemu-system-x86_64 -enable-kvm -cpu host -m 1G\n")
    clean = _hvtune("guest", "--expect", str(command_line), "--host", "sandbox-bookworm")
    assert clean.returncode == 0, clean.stderr
    assert "no drift, the guest received what it asks for" in clean.stdout
    drift = _hvtune("guest", "--cpu", "host,hv-relaxed", "--host", "sandbox-bookworm")
    assert drift.returncode == 1 and "missing     hv-relaxed" in drift.stdout


def test_unusable_input_is_one_line_and_exit_2(tmp_path: Path) -> None:
    both = _hvtune("guest", "--expect", str(tmp_path / "x.sh"), "--cpu", "host")
    assert both.returncode == 2 and both.stdout == ""
    assert_one_line_error(both.stderr, "not both")
    missing = _hvtune("guest", "--expect", str(tmp_path / "nothing.xml"), "--host", "sandbox-bookworm")
    assert missing.returncode == 2 and missing.stdout == ""
    assert_one_line_error(missing.stderr, "nothing.xml")
    bad = _hvtune("guest", "--cpu", "host,hv-nothing", "--host", "sandbox-bookworm")
    assert bad.returncode == 2 and bad.stdout == ""
    assert_one_line_error(bad.stderr, "hv-nothing")


def test_without_host_the_prediction_needs_this_machine_to_have_hyper_v_emulation() -> None:
    from hvtune.host.profile import probe_host

    done = _hvtune("guest", "--cpu", "host")
    if probe_host(libvirt_uri=None).hyperv_emulation:
        assert done.returncode in (0, 1), done.stderr
    else:
        assert done.returncode == 2 and done.stdout == ""
        assert_one_line_error(done.stderr, "--host: this machine has no KVM with Hyper-V emulation")
