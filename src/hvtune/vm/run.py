"""Starting QEMU for one guest and waiting for it to power off.

A guest that runs past its spec's timeout is killed (SIGKILL) and reaped,
and what it printed until then is kept. QEMU's stdin is /dev/null: given a
terminal, `-serial stdio` puts it in raw mode without echo, and a QEMU
killed at the timeout would leave it that way."""

from __future__ import annotations

import subprocess
import time
from dataclasses import dataclass

from hvtune.vm.spec import VmSpec


@dataclass(frozen=True)
class VmRun:
    """What one run left: the serial console (QEMU's stdout), QEMU's
    stderr, its exit status (None when it was killed at the timeout) and
    the wall time in seconds."""

    stdout: str
    stderr: str
    returncode: int | None
    seconds: float

    @property
    def timed_out(self) -> bool:
        return self.returncode is None


def _text(output: bytes | None) -> str:
    return output.decode(errors="replace") if output else ""


def run_vm(spec: VmSpec) -> VmRun:
    """Boot the guest and wait until QEMU exits or the timeout is up."""
    start = time.monotonic()
    try:
        done = subprocess.run(
            spec.argv(),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            errors="replace",
            timeout=spec.timeout,
        )
    except subprocess.TimeoutExpired as expired:  # subprocess.run has killed and reaped QEMU
        return VmRun(_text(expired.stdout), _text(expired.stderr), None, time.monotonic() - start)
    return VmRun(done.stdout, done.stderr, done.returncode, time.monotonic() - start)
