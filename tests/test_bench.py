"""hvtune bench, for real on this machine: the core is compiled, measures
and reports with the context that decides its numbers."""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest

from hvtune.bench.build import build_core
from hvtune.vm.initramfs import cpio_newc, find_busybox, is_static

from support.cli import assert_one_line_error, run
from support.programs import require_program
from support.schemas import assert_valid

SMALL = ["--count", "20000", "--repeat", "3", "--threads", "4", "--rounds", "10"]


@pytest.fixture(scope="module")
def measured() -> dict:  # type: ignore[type-arg]
    require_program("gcc")
    import contextlib
    import io

    from hvtune.cli import main

    output = io.StringIO()
    with contextlib.redirect_stdout(output):
        assert main(["bench", *SMALL, "--format", "json"]) == 0
    return json.loads(output.getvalue())  # type: ignore[no-any-return]


def test_the_three_measurements_under_their_stable_keys(measured: dict) -> None:  # type: ignore[type-arg]
    assert measured["clock_gettime"]["ticks_per_call"] > 0
    assert measured["cpuid"]["ticks_per_call"] > 0
    assert measured["tlb_shootdown"]["seconds"] > 0
    for key in ("clock_gettime", "cpuid", "tlb_shootdown"):
        result = measured[key]
        assert len(result["runs"]) == 3 and result["min"] <= result["median"] <= result["max"]
    assert measured["clock_gettime"]["ticks_per_call"] == measured["clock_gettime"]["median"]
    tlb = measured["tlb_shootdown"]
    assert (tlb["threads"], tlb["rounds"]) == (4, 10)
    assert tlb["rounds_per_second"] == pytest.approx(40 / tlb["seconds"], rel=0.01)


def test_the_context_that_decides_the_numbers(measured: dict) -> None:  # type: ignore[type-arg]
    context = measured["context"]
    clocksource = Path("/sys/devices/system/clocksource/clocksource0/current_clocksource").read_text().strip()
    assert context["clocksource"] == clocksource
    assert context["vcpus"] == os.cpu_count()
    assert context["kernel"] == os.uname().release
    hypervisor = "hypervisor" in Path("/proc/cpuinfo").read_text().split()
    assert context["hypervisor_bit"] == hypervisor
    if hypervisor:
        assert set(context["cpuid"]) == {"0x40000000", "0x40000100"}


def test_the_json_is_valid_by_its_schema(measured: dict) -> None:  # type: ignore[type-arg]
    assert assert_valid(measured)["schema"] == "hvtune/bench/1"


def test_text_and_a_chosen_subset(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "bench", "--which", "clock", *SMALL)
    assert code == 0
    lines = out.splitlines()
    assert lines[0].startswith("hvtune bench on ") and "clocksource " in lines[1]
    assert any(line.startswith("  clock_gettime(CLOCK_REALTIME)   TSC ticks per call  min ") for line in lines)
    assert "cpuid(0x1)" not in out and "TLB shootdown" not in out
    code, _, err = run(capsys, "bench", "--which", "clock,disk")
    assert code == 2
    assert_one_line_error(err, "--which 'clock,disk': choose from clock, cpuid, tlb")


def test_without_a_compiler(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.delenv("CC", raising=False)
    code, out, err = run(capsys, "bench", *SMALL)
    assert code == 2 and out == ""
    assert_one_line_error(
        err, "hvtune bench: needs a C compiler to build its measuring core: apt-get install gcc libc6-dev"
    )


def test_the_core_is_built_static_once(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    require_program("gcc")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    first = build_core(static_only=True)
    assert first.static and is_static(first.path) and first.path.is_relative_to(tmp_path)
    modified = first.path.stat().st_mtime_ns
    assert build_core() == first and first.path.stat().st_mtime_ns == modified


def test_busybox_reads_the_initramfs_archive(tmp_path: Path) -> None:
    """The cpio writer's output, listed and unpacked by busybox's own cpio."""
    busybox = find_busybox("test")
    archive = cpio_newc(
        [("bin", 0o40755, b""), ("bin/tool", 0o100755, b"#!/bin/sh\necho hi\n"), ("odd", 0o100644, b"x")]
    )
    listed = subprocess.run([str(busybox), "cpio", "-t"], input=archive, capture_output=True, check=True)
    assert listed.stdout.decode().split() == ["bin", "bin/tool", "odd"]
    subprocess.run([str(busybox), "cpio", "-id"], input=archive, cwd=tmp_path, capture_output=True, check=True)
    assert (tmp_path / "bin" / "tool").read_text() == "#!/bin/sh\necho hi\n"
    assert os.access(tmp_path / "bin" / "tool", os.X_OK)


def _limited_memory() -> None:
    import resource

    two_gib = 2 << 30  # room for Python and the compiler, not for 1000 threads' 8 MiB stacks
    resource.setrlimit(resource.RLIMIT_AS, (two_gib, two_gib))


def test_a_failed_measurement_exits_1_with_one_line() -> None:
    require_program("gcc")
    build_core()  # compiled before the limit
    done = subprocess.run(
        [sys.executable, "-m", "hvtune", "bench", "--which", "tlb", "--threads", "1000", "--repeat", "1"],
        capture_output=True, text=True, preexec_fn=_limited_memory, timeout=120,
    )  # fmt: skip
    assert done.returncode == 1
    assert_one_line_error(done.stderr, "bench: TLB shootdown failed: ")
    assert "TLB shootdown                   failed: " in done.stdout


def _bench_on_a_terminal() -> tuple[str, str]:
    """hvtune bench with standard error on a terminal (a pty): what reached
    standard output and the terminal."""
    controller, terminal = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "hvtune", "bench", "--which", "clock,tlb", *SMALL],
        stdout=subprocess.PIPE, stderr=terminal, text=True,
    )  # fmt: skip
    os.close(terminal)
    seen = b""
    while True:
        try:
            chunk = os.read(controller, 4096)
        except OSError:  # EIO: the terminal's last writer is gone
            break
        if not chunk:
            break
        seen += chunk
    os.close(controller)
    out, _ = process.communicate(timeout=120)
    assert process.returncode == 0
    return out, seen.decode()


def test_progress_on_a_terminal_only(capsys: pytest.CaptureFixture[str]) -> None:
    require_program("gcc")
    out, terminal = _bench_on_a_terminal()
    for step in ("clock_gettime(CLOCK_REALTIME): warming up", "clock_gettime(CLOCK_REALTIME): run 3 of 3",
                 "TLB shootdown: run 1 of 3"):  # fmt: skip
        assert f"\r\x1b[Khvtune bench: {step}" in terminal
    assert terminal.endswith("\r\x1b[K")  # the last progress line is wiped
    assert "\x1b" not in out and "TLB shootdown" in out
    code, out, err = run(capsys, "bench", "--which", "clock", *SMALL)  # not a terminal: nothing but the report
    assert code == 0 and err == "" and "\x1b" not in out
