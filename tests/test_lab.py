"""hvtune lab boots real guests (under TCG here: short, but the whole path
from initramfs to table and chart) with Debian's cloud kernel."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from hvtune.errors import InputError
from hvtune.lab.guest import read_console
from hvtune.lab.initramfs import (
    CONTEXT_BEGIN,
    CONTEXT_END,
    JSON_BEGIN,
    JSON_END,
    RUN_BEGIN,
    RUN_END,
    RUN_ERRORS_BEGIN,
    RUN_ERRORS_END,
    RUN_STATUS,
)
from hvtune.lab.kernel import find_kernel
from hvtune.lab.run import NO_SANDBOX_NOTE, SANDBOX_NOTE, TCG_NOTE, choose_accel
from hvtune.sandbox.in_guest import kernel_parameter
from hvtune.sandbox.stack import load_stack
from hvtune.vm.accel import PVM_NOTE, hyperv_lacking

from support.cli import assert_one_line_error, run
from support.schemas import assert_valid

SMALL = ["--accel", "tcg", "--count", "20000", "--repeat", "2", "--threads", "4", "--rounds", "10"]
PLAIN = "qemu64"  # QEMU's default model: no RDTSCP, so the core ends its stamps with rdtsc
ENLIGHTENED = "max,kvm=off,hv-relaxed,hv-time,hv-frequencies"


def test_a_b_run_from_boot_to_table_and_chart(capsys: pytest.CaptureFixture[str], kernel: Path, tmp_path: Path) -> None:
    chart = tmp_path / "lab.png"
    code, out, err = run(
        capsys,
        "lab",
        "--a",
        PLAIN,
        "--b",
        ENLIGHTENED,
        "--kernel",
        str(kernel),
        *SMALL,
        "--plot",
        str(chart),
        "--format",
        "json",
    )
    assert code == 0
    assert err.splitlines() == [
        f"hvtune lab: booting A under TCG: -cpu {PLAIN}",
        err.splitlines()[1],
        f"hvtune lab: booting B under TCG: -cpu {ENLIGHTENED}",
        err.splitlines()[3],
    ]
    assert all(re.fullmatch(r"hvtune lab: [AB] measured in \d+\.\d s", err.splitlines()[i]) for i in (1, 3))
    document = assert_valid(out)
    assert document["accel"] == "tcg" and "TCG emulates no Hyper-V enlightenment" in document["notes"][0]
    for side, cpu in (("a", PLAIN), ("b", ENLIGHTENED)):
        guest = document[side]
        assert guest["problem"] is None and guest["cpu"] == cpu
        assert guest["clocksource"] and guest["hypervisor"]
        results = guest["results"]
        assert results["clock_gettime"]["ticks_per_call"] > 0 and results["cpuid"]["ticks_per_call"] > 0
        assert results["tlb_shootdown"]["seconds"] > 0
        assert results["context"]["vcpus"] == 2 and results["context"]["kernel"] == kernel.name.removeprefix("vmlinuz-")
    assert document["a"]["results"]["tsc_ordering"] == "lfence;rdtsc;lfence ... lfence;rdtsc;lfence"
    assert document["b"]["results"]["tsc_ordering"] == "lfence;rdtsc;lfence ... rdtscp;lfence"
    assert chart.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and chart.stat().st_size > 10_000


def test_the_table_in_the_published_style(capsys: pytest.CaptureFixture[str], kernel: Path) -> None:
    code, out, _ = run(
        capsys,
        "lab",
        "--a",
        "host,kvm=off",
        "--b",
        "host,kvm=off,hv-relaxed",
        "--kernel",
        str(kernel),
        *SMALL,
        "--which",
        "clock,cpuid",
    )
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == f"hvtune lab: TCG, 2 vCPUs, 512 MiB, kernel {kernel.name}"
    assert lines[2].split() == ["Without", "(A)", "With", "(B)", "B/A"]
    assert lines[3].startswith("clock_gettime, TSC ticks per call") and lines[4].startswith(
        "cpuid(0x1), TSC ticks per call"
    )
    assert "A: -cpu max,kvm=off" in lines  # host is KVM-only: max stands in under TCG
    assert any(line.startswith("Note: under TCG the CPU model host is replaced by max") for line in lines)


def test_hv_vpindex_under_tcg_as_this_qemu_takes_it(
    capsys: pytest.CaptureFixture[str], kernel: Path, tmp_path: Path
) -> None:
    from hvtune.catalog import load_catalog
    from hvtune.host.versions import local_qemu_version
    from hvtune.releases import parse_release

    refuses = parse_release(local_qemu_version() or "0") < parse_release(load_catalog().qemu.tcg_vpindex_fixed)
    argv = ["lab", "--a", PLAIN, "--b", "max,kvm=off,hv-vpindex", "--kernel", str(kernel), *SMALL, "--which", "clock"]
    chart = tmp_path / "lab.png"
    code, out, err = run(capsys, *argv, "--format", "json", "--plot", str(chart))
    document = assert_valid(out)
    if not refuses:  # QEMU 8.2 and later ignore hv-vpindex under TCG: both guests measure
        assert code == 0 and document["b"]["problem"] is None and chart.exists()
        return
    assert code == 1 and document["a"]["problem"] is None
    assert document["b"]["problem"] == "QEMU refused it: kernel doesn't allow setting HyperV VP_INDEX"
    assert err.splitlines()[-2].startswith("hvtune lab: B failed in ")
    assert err.splitlines()[-1] == f"hvtune lab: no chart written to {chart}: the guests have no measurement in common"
    assert not chart.exists()


def test_without_a_kernel_the_way_to_one(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setattr("os.uname", lambda: type("U", (), {"release": "no-such-release"})())
    with pytest.raises(
        InputError,
        match="no kernel to boot: give --kernel PATH, or fetch Debian's cloud kernel with `hvtune lab --fetch-kernel`",
    ):
        find_kernel(None)
    with pytest.raises(InputError, match="no such kernel image"):
        find_kernel(str(tmp_path / "vmlinuz"))


def _console(*document: str) -> str:
    context = ["[    0.000000] Hypervisor detected: KVM", "clocksource=tsc", "kernel=6.1.0-56-cloud-amd64"]
    end = "[    1.357921] reboot: Power down"
    return "\n".join([CONTEXT_BEGIN, *context, CONTEXT_END, JSON_BEGIN, *document, JSON_END, end])


def test_a_core_that_dies_in_the_guest_says_how() -> None:
    # what a guest printed when the core used rdtscp on a CPU model without it
    run = read_console("qemu64", _console("Illegal instruction"), "", 0, 1.0)
    assert run.problem == "the measuring core failed in the guest: Illegal instruction"
    run = read_console("qemu64", _console('{"clock_gettime": {"min'), "", 0, 1.0)
    assert run.problem == "the guest's measurements were garbled on the serial console"


def test_what_a_guest_that_never_measured_says() -> None:
    refused = read_console(
        "max,hv-vpindex", "", "qemu-system-x86_64: kernel doesn't allow setting HyperV VP_INDEX\n", 1, 0.1
    )
    assert refused.problem == "QEMU refused it: kernel doesn't allow setting HyperV VP_INDEX"
    panic = "[    0.9] Kernel panic - not syncing: VFS: Unable to mount root fs\n"
    assert read_console("max", panic, "", 0, 1.0).problem == (
        "the guest kernel panicked: Kernel panic - not syncing: VFS: Unable to mount root fs"
    )
    assert read_console("max", "", "", 0, 1.0).problem == "the guest printed no results (QEMU exit 0)"


def test_a_measuring_guest_is_read_whole() -> None:
    document = '{"tsc_ordering": "x", "context": {"vcpus": 2}, "clock_gettime": {"runs": [5.0], "min": 5.0, "median": 5.0, "max": 5.0, "calls": 10}}'
    run = read_console("max", _console(document), "", 0, 1.0)
    assert run.problem is None and run.clocksource == "tsc" and run.hypervisor == "Hypervisor detected: KVM"
    assert run.results["clock_gettime"]["ticks_per_call"] == 5.0
    assert run.results["context"] == {"vcpus": 2, "clocksource": "tsc", "kernel": "6.1.0-56-cloud-amd64"}


def test_the_accelerator_and_what_is_said_of_it(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    assert choose_accel("tcg", {"kvm", "kvm_intel"}) == ("tcg", [TCG_NOTE])
    assert choose_accel("kvm", {"kvm", "kvm_pvm"}) == ("kvm", [PVM_NOTE])
    assert choose_accel("sandbox", {"kvm", "kvm_pvm"}) == ("sandbox", [SANDBOX_NOTE])
    # left alone where KVM cannot show an enlightenment's effect, the lab runs in the sandbox ...
    if load_stack("bookworm") is not None or shutil.which("mmdebstrap"):
        in_sandbox = [f"{PVM_NOTE}; running both guests in the sandbox", SANDBOX_NOTE]
        assert choose_accel(None, {"kvm", "kvm_pvm"}, "bookworm") == ("sandbox", in_sandbox)
        lacking = hyperv_lacking({"kvm", "kvm_amd"})  # this machine's own KVM, asked
        in_sandbox = [f"{lacking}; running both guests in the sandbox", SANDBOX_NOTE]
        assert choose_accel(None, {"kvm", "kvm_amd"}, "bookworm") == (
            ("kvm", []) if lacking is None else ("sandbox", in_sandbox)
        )
    # a kernel of the user's is booted here
    assert choose_accel(None, {"kvm", "kvm_pvm"}, "bookworm", own_kernel=True) == (
        "tcg",
        [f"{PVM_NOTE}; running under TCG", TCG_NOTE],
    )
    # ... and without the sandbox (no stack, no mmdebstrap) under TCG: PVM boots only PVM guest kernels
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setenv("PATH", str(tmp_path))
    assert choose_accel(None, {"kvm", "kvm_pvm"}, "bookworm") == (
        "tcg",
        [f"{PVM_NOTE}; running under TCG", NO_SANDBOX_NOTE, TCG_NOTE],
    )


@pytest.mark.parametrize(
    ("accel", "b", "said"),
    [
        ("tcg", "host,kvm=off,hv-stimmer", "--b: -cpu token 3 'hv-stimmer'"),  # QEMU's parser refuses it anywhere
        ("sandbox", "host,hv-vpindex,hv-synic,hv-stimer", "--b: hv-stimer: "),  # its KVM checks dependencies
    ],
)
def test_both_configurations_are_checked_before_anything_boots(
    capsys: pytest.CaptureFixture[str], accel: str, b: str, said: str
) -> None:
    code, out, err = run(capsys, "lab", "--a", "host,kvm=off,hv-relaxed", "--b", b, "--accel", accel)
    assert (code, out) == (2, "")
    assert_one_line_error(err, said)  # one line: no "booting" progress came before it


def test_an_hvtune_command_run_in_the_guest_comes_back_whole() -> None:
    """The guest's kernel command line carries the command (as guest_spec
    writes it), its init echoes that line and then what the command printed
    and its exit status, around the kernel's own lines."""
    argv = ["cpuid", "--cpu", "host,hv-relaxed,hv-vendor-id=a b", "--format", "json"]
    context = ["[    0.000000] Hypervisor detected: KVM", "clocksource=tsc", f"cmdline=quiet {kernel_parameter(argv)}"]
    console = [
        *(CONTEXT_BEGIN, *context, CONTEXT_END),
        *(RUN_BEGIN, "{", '  "a": 1', "}", "", RUN_END),
        *(RUN_ERRORS_BEGIN, "warning: \x1b[1mx", RUN_ERRORS_END),
        f"{RUN_STATUS}3",
        "[    1.357921] reboot: Power down",
    ]
    run = read_console("max", "\r\n".join(console), "", 0, 1.0, measured=False)
    assert run.problem is None and run.ran is not None
    assert run.ran.argv == tuple(argv) and run.ran.status == 3
    assert run.ran.stdout == '{\n  "a": 1\n}\n' and run.ran.stderr == "warning: \x1b[1mx"
    plain = read_console("max", "\n".join([CONTEXT_BEGIN, *context[:2], CONTEXT_END]), "", 0, 1.0, measured=False)
    assert plain.problem is None and plain.ran is None  # a guest asked to run nothing
