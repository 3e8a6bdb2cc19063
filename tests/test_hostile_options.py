"""Hostile option values and standard input: whatever is given, hvtune
answers with one line naming the option or source and exit 2, or works;
FIFOs, devices and directories given as input are refused at once, and
standard input obeys the rules of files (size, UTF-8)."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from support.hostile import assert_kept_promises, hvtune, hvtune_process
from support.programs import under_ci

FUZZ = settings(max_examples=100, deadline=None, suppress_health_check=list(HealthCheck))
TEXT = st.one_of(
    st.text(max_size=30),
    st.sampled_from(["9" * 5000, "1" * 300, "a" * 300, "\x00", "x/" * 200, "-", "--", "this", "9.0.0", "..", "/"]),
)
EXAMPLE = str(Path(__file__).parent.parent / "examples" / "libvirt" / "win11-virt-install.xml")


@FUZZ
@given(
    argv=st.sampled_from(
        [
            ["check", EXAMPLE, "--libvirt-version"],
            ["convert", EXAMPLE, "--to", "qemu", "--libvirt-version"],
            ["check", EXAMPLE, "--host"],
            ["plan", "--os", "win11", "--host"],
            ["check", EXAMPLE, "--os"],
            ["plan", "--os"],
            ["compare", "--os"],
            ["plan", "--os", "win11", "--host", "intel-nested", "--tsc-frequency"],
            ["bench", "--count"],
            ["bench", "--which"],
            ["explain"],
            ["convert", "--cpu", "host", "--to"],
        ]
    ),
    value=TEXT,
)
@example(argv=["check", EXAMPLE, "--libvirt-version"], value="1" * 5000)
@example(argv=["check", EXAMPLE, "--host"], value="a" * 300)
@example(argv=["compare", "--os"], value="linux")
def test_any_option_value(capsys: pytest.CaptureFixture[str], argv: list[str], value: str) -> None:
    if argv[0] == "bench" and value.strip().isascii() and value.strip().isdigit():
        return  # a valid count: that would run the benchmark
    outcome = hvtune(capsys, *argv, value, *(["--format", "json"] if argv[0] == "check" else []))
    assert_kept_promises(outcome)


def _special(tmp_path: Path, kind: str) -> str:
    path = tmp_path / kind
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "socket":
        listener = socket.socket(socket.AF_UNIX)
        listener.bind(str(path))
    elif kind == "directory":
        path.mkdir()
    elif kind == "device":
        os.mknod(path, 0o600 | 0o020000, os.makedev(1, 3))  # a character device like /dev/null
    elif kind == "loop":
        path.symlink_to(path)
    return str(path)


KINDS = ["fifo", "socket", "directory", "device", "loop"]
PROBLEMS = {
    "fifo": "is a FIFO",
    "socket": "No such device or address",
    "directory": "is a directory",
    "device": "is a character device",
    "loop": "Too many levels of symbolic links",
}


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(
    "argv",
    [
        ["check", "{}"],
        ["doctor", "{}"],
        ["check", "--cpu", "host", "--host", "{}"],
        ["host", "--host", "{}"],
        ["convert", "--cpu", "host,hv-relaxed", "--into", "{}"],
        ["convert", "--cpu", "host", "--to", "qemu", "--domcaps", "{}"],
        ["fix", "{}"],
    ],
)
def test_special_files_as_inputs(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, kind: str, argv: list[str]
) -> None:
    if kind == "device" and os.geteuid() != 0:
        if under_ci():
            pytest.fail("making a device node needs root, and CI runs the tests as root")
        pytest.skip("making a device node needs root")
    special = _special(tmp_path, kind)
    outcome = hvtune(capsys, *[special if part == "{}" else part for part in argv])
    assert outcome.code == 2
    assert_kept_promises(outcome)
    assert special in outcome.err or kind in ("directory",), outcome.err


@FUZZ
@given(data=st.binary(max_size=200))
@example(data=b"\xff")
@example(data=b"\x00" * 100)
@example(data=b"\xef\xbb\xbfhost,hv-relaxed")
def test_any_bytes_on_standard_input(capsys: pytest.CaptureFixture[str], data: bytes) -> None:
    outcome = hvtune(capsys, "check", stdin=data)
    assert_kept_promises(outcome, "<stdin>")
    if data in (b"\xff", b"\x00" * 100):
        assert outcome.code == 2


def test_standard_input_has_the_size_limit_of_files() -> None:
    outcome = hvtune_process("check", stdin=b"\x00" * (20 * 1024 * 1024), timeout=60)
    assert outcome.code == 2
    assert_kept_promises(outcome, "<stdin>")
    assert "larger than 16 MiB" in outcome.err


def test_a_full_disk_for_the_report_is_one_line() -> None:
    with open("/dev/full", "wb") as full:
        import subprocess
        import sys

        done = subprocess.run(
            [sys.executable, "-m", "hvtune", "doctor", "--host", "intel-nested"],
            stdout=full,
            stderr=subprocess.PIPE,
            timeout=60,
            check=False,
        )
    assert done.returncode == 2
    assert done.stderr.decode().count("\n") == 1 and b"No space left on device" in done.stderr
