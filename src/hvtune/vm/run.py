"""Starting QEMU for one guest and waiting for it to power off.

A guest that runs past its spec's timeout is killed (SIGKILL) and reaped,
and what it printed until then is kept. So is one whose console stays
silent longer than its spec's ``silence`` (a guest that says it is alive
at shorter intervals: one that stopped saying so has stopped). QEMU's
stdin is /dev/null: given a terminal, `-serial stdio` puts it in raw mode
without echo, and a QEMU killed at the timeout would leave it that way."""

from __future__ import annotations

import os
import selectors
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass

from hvtune.vm.spec import VmSpec


@dataclass(frozen=True)
class VmRun:
    """What one run left: the serial console (QEMU's stdout), QEMU's
    stderr, its exit status (None when it was killed: at the timeout, or
    `stalled`, its console silent for the spec's ``silence``) and the wall
    time in seconds."""

    stdout: str
    stderr: str
    returncode: int | None
    seconds: float
    stalled: bool = False

    @property
    def timed_out(self) -> bool:
        return self.returncode is None and not self.stalled


def _text(output: bytes) -> str:
    """QEMU's output as text, its line ends as Python's text streams read them."""
    return output.decode(errors="replace").replace("\r\n", "\n").replace("\r", "\n")


def _left(spec: VmSpec, start: float, heard: float) -> float:
    """Seconds until the guest is killed: at its timeout, or once its
    console has been silent for its ``silence``."""
    now = time.monotonic()
    left = start + spec.timeout - now
    return left if spec.silence is None else min(left, heard + spec.silence - now)


def run_vm(spec: VmSpec) -> VmRun:
    """Boot the guest and wait until QEMU exits, the timeout is up or the
    console has been silent for the spec's ``silence``."""
    start = time.monotonic()
    output: dict[str, bytearray] = {"stdout": bytearray(), "stderr": bytearray()}
    heard = start  # when the console last printed
    killed = stalled = False
    with (
        subprocess.Popen(spec.argv(), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE) as qemu,
        selectors.DefaultSelector() as streams,
    ):
        assert qemu.stdout is not None and qemu.stderr is not None
        streams.register(qemu.stdout, selectors.EVENT_READ, "stdout")
        streams.register(qemu.stderr, selectors.EVENT_READ, "stderr")
        try:
            while streams.get_map():
                left = None if killed else _left(spec, start, heard)
                if left is not None and left <= 0:
                    stalled = spec.silence is not None and time.monotonic() - heard >= spec.silence
                    qemu.kill()  # what it printed until now is still read, to the end of its streams
                    killed = True
                    continue
                for key, _ in streams.select(left):
                    chunk = os.read(key.fd, 65536)
                    if not chunk:
                        streams.unregister(key.fileobj)
                    output[key.data] += chunk
                    if chunk and key.data == "stdout":
                        heard = time.monotonic()
        except BaseException:
            qemu.kill()
            raise
        returncode = qemu.wait()
    seconds = time.monotonic() - start
    stdout, stderr = _text(bytes(output["stdout"])), _text(bytes(output["stderr"]))
    return VmRun(stdout, stderr, None if killed else returncode, seconds, stalled)


def run_vm_again_if_stalled(spec: VmSpec, say: Callable[[str], None], what: str) -> VmRun:
    """run_vm, and once more when the guest stalled (said so with `say`,
    naming the guest `what`): a nested guest under TCG now and then stops
    for good, and a second boot of the same guest does not."""
    run = run_vm(spec)
    if run.stalled:
        say(f"{what} stalled: its console was silent for {spec.silence:.0f} s; booting it again")
        run = run_vm(spec)
    return run
