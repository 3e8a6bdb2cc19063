"""Running hvtune on hostile input and checking the promises it keeps
whatever the input: an exit code of 0, 1 or 2, never a traceback or an
internal error, and for unusable input exactly one line on standard error
naming the source. A run that takes longer than BOUND seconds fails (a
hang, not a slow machine: normal runs take milliseconds)."""

from __future__ import annotations

import io
import signal
import subprocess
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

import pytest

from hvtune.cli import main

BOUND = 20  # seconds


@dataclass(frozen=True)
class Outcome:
    code: int
    out: str
    err: str


class Hung(Exception):
    pass


@contextmanager
def bounded(seconds: int = BOUND) -> Iterator[None]:
    """Fail the test when the block runs longer than `seconds`."""

    def expire(signum: int, frame: object) -> None:
        raise Hung(f"still running after {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def hvtune(capsys: pytest.CaptureFixture[str], *argv: str, stdin: bytes | None = None) -> Outcome:
    """hvtune ARGV in this process (standard input from `stdin`), within BOUND."""
    saved = sys.stdin
    if stdin is not None:
        sys.stdin = io.TextIOWrapper(io.BytesIO(stdin), encoding="utf-8")
    try:
        with bounded():
            code = main(list(argv))
    finally:
        sys.stdin = saved
    out, err = capsys.readouterr()
    return Outcome(code, out, err)


def hvtune_process(*argv: str, stdin: bytes | None = None, timeout: int = BOUND) -> Outcome:
    """hvtune ARGV as its own process (python -m hvtune), within `timeout`."""
    done = subprocess.run(
        [sys.executable, "-m", "hvtune", *argv], input=stdin, capture_output=True, timeout=timeout, check=False
    )
    return Outcome(done.returncode, done.stdout.decode("utf-8", "replace"), done.stderr.decode("utf-8", "replace"))


def assert_kept_promises(outcome: Outcome, source: str | None = None) -> None:
    """The promises of any run: exit 0, 1 or 2; no traceback, no internal
    error; when the input was unusable (2), one line on standard error,
    hvtune's, naming `source` (escaped as hvtune escapes it); otherwise
    nothing there but hvtune's notes and warnings (an empty plan says why)."""
    assert outcome.code in (0, 1, 2), outcome
    assert "Traceback" not in outcome.err and "internal error" not in outcome.err, outcome.err
    if outcome.code == 2:
        lines = outcome.err.splitlines()
        assert len(lines) == 1 and outcome.err.endswith("\n"), outcome.err
        assert lines[0].startswith("hvtune: "), outcome.err
        if source is not None:
            assert source in lines[0], (source, outcome.err)
    else:
        said = outcome.err.splitlines()
        assert all(line.startswith(("hvtune: note: ", "hvtune: warning: ")) for line in said), outcome.err


def one_line_each(err: str, sources: Sequence[str]) -> None:
    """Standard error holds one line per named source, nothing else."""
    lines = err.splitlines()
    assert len(lines) == len(sources), err
    for line, source in zip(lines, sources, strict=True):
        assert line.startswith("hvtune: ") and source in line, (line, source)
