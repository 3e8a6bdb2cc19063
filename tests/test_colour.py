"""Colour: verdict words and severity labels are painted on a terminal
(a real pty), and nowhere else: not piped, not with $NO_COLOR, not with
--no-color; --color paints even into a pipe. The words and line breaks
are the same either way."""

from __future__ import annotations

import os
import pty
import re
import subprocess
import sys
from pathlib import Path

import pytest

from hvtune.findings import Severity
from hvtune.report import style
from hvtune.report.findings import LABEL
from hvtune.verdict import Verdict

EXAMPLES = ["examples/libvirt/win11-virt-install-debian12.xml", "examples/libvirt/win11-virt-install.xml"]
DOCTOR = ["doctor", *EXAMPLES, "--host", "intel-nested"]
CHECK = ["check", "--cpu", "host,hv-stimer,hv-evmcs", "--host", "amd-avic", "--os", "win11"]
ROOT = Path(__file__).resolve().parent.parent
ESCAPE = re.compile(r"\x1b\[[0-9;]*m")


def _on_a_terminal(arguments: list[str], **env: str) -> str:
    """What hvtune writes to standard output when that is a pty."""
    leader, follower = pty.openpty()
    try:
        process = subprocess.Popen(
            [sys.executable, "-m", "hvtune", *arguments],
            stdout=follower,
            stderr=subprocess.DEVNULL,
            cwd=ROOT,
            env={**os.environ, "TERM": "xterm", **env},
        )
        os.close(follower)
        chunks = []
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # EIO: the child closed its end
                break
            if not chunk:
                break
            chunks.append(chunk)
        assert process.wait(timeout=60) in (0, 1)
    finally:
        os.close(leader)
    return b"".join(chunks).decode().replace("\r\n", "\n")


def _piped(arguments: list[str], **env: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "hvtune", *arguments],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
        env={**os.environ, "TERM": "xterm", **env},
    )
    assert done.returncode in (0, 1), done.stderr
    return done.stdout


def _painted(text: str) -> set[str]:
    """The words that carry an escape code."""
    return set(re.findall(r"\x1b\[[0-9;]*m([^\x1b]+)\x1b\[0m", text))


@pytest.fixture(scope="module")
def plain() -> dict[str, str]:
    """The reports piped: what the README's sessions compare byte for byte."""
    return {"doctor": _piped(DOCTOR), "check": _piped(CHECK)}


def test_a_terminal_gets_verdicts_and_labels_in_colour(plain: dict[str, str]) -> None:
    doctor = _on_a_terminal(DOCTOR)
    assert _painted(doctor) == {Verdict.SLOW.words, LABEL[Severity.WARNING]}
    assert ESCAPE.sub("", doctor) == plain["doctor"]  # the same words and line breaks
    check = _on_a_terminal(CHECK)
    assert _painted(check) == {LABEL[Severity.ERROR]}
    assert ESCAPE.sub("", check) == plain["check"]


def test_piped_output_is_plain(plain: dict[str, str]) -> None:
    assert "\x1b" not in plain["doctor"] + plain["check"]
    assert "SLOW" in plain["doctor"]


@pytest.mark.parametrize("value", ["1", "0", "no", "false"])
def test_no_color_set_to_anything_keeps_a_terminal_plain(plain: dict[str, str], value: str) -> None:
    assert _on_a_terminal(DOCTOR, NO_COLOR=value) == plain["doctor"]


def test_an_empty_no_color_is_not_set() -> None:
    """no-color.org: NO_COLOR counts when present and not empty."""
    assert "\x1b[" in _on_a_terminal(CHECK, NO_COLOR="")


def test_the_options_override(plain: dict[str, str]) -> None:
    assert _on_a_terminal(["--no-color", *DOCTOR]) == plain["doctor"]
    forced = _piped(["--color", *DOCTOR], NO_COLOR="1")
    assert _painted(forced) == {Verdict.SLOW.words, LABEL[Severity.WARNING]}
    assert ESCAPE.sub("", forced) == plain["doctor"]


def test_a_dumb_terminal_gets_no_colour(plain: dict[str, str]) -> None:
    assert _on_a_terminal(DOCTOR, TERM="dumb") == plain["doctor"]


def test_every_verdict_and_severity_has_its_colour() -> None:
    with style.colour(True):
        painted = [style.verdict(v) for v in Verdict] + [style.severity(LABEL[s], s) for s in Severity]
    with style.colour(False):
        assert [style.verdict(v) for v in Verdict] == [v.words for v in Verdict]
    assert all(ESCAPE.match(text) for text in painted)
    assert len(set(painted)) == len(painted)
