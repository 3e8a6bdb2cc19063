"""The guest kernel's own words about its hypervisor: its ``Hypervisor
detected`` line and its Hyper-V lines, from /dev/kmsg (read without
blocking) or, when that cannot be read, from the dmesg program. The boot
messages may have left a small ring buffer on a long-running guest: then
there are none, which is said, not an error."""

from __future__ import annotations

import errno
import os
import shutil
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass

from hvtune.vm.console import detected_hypervisor, hyperv_messages, kernel_message

KMSG = "/dev/kmsg"
DMESG_SECONDS = 10.0
_MOST_RECORDS = 1 << 20  # far more than any ring buffer holds: a guard, not a limit met


@dataclass(frozen=True)
class KernelLog:
    """What the kernel said (`hypervisor`: its `Hypervisor detected` line,
    `hyperv`: its Hyper-V lines), where it was read, or why it was not."""

    hypervisor: str | None = None
    hyperv: tuple[str, ...] = ()
    source: str | None = None
    missing: str | None = None


def kernel_log_of(messages: Iterable[str], source: str) -> KernelLog:
    """The lines that matter among the kernel's `messages` (no timestamps)."""
    kept = tuple(messages)
    return KernelLog(detected_hypervisor(kept), hyperv_messages(kept), source)


def _kmsg_messages(kmsg: str) -> list[str]:
    """Every record /dev/kmsg still holds: one per read, ``prefix;message``
    then continuation lines; EPIPE when a record was overwritten meanwhile."""
    descriptor = os.open(kmsg, os.O_RDONLY | os.O_NONBLOCK)
    messages = []
    try:
        for _ in range(_MOST_RECORDS):
            try:
                record = os.read(descriptor, 8192)
            except BlockingIOError:
                break
            except OSError as error:
                if error.errno == errno.EPIPE:
                    continue
                raise
            if not record:
                break
            first = record.decode("utf-8", "replace").split("\n", 1)[0]
            messages.append(first.split(";", 1)[-1])
    finally:
        os.close(descriptor)
    return messages


def _dmesg_messages() -> list[str]:
    program = shutil.which("dmesg")
    if program is None:
        raise OSError("no dmesg program")
    try:
        done = subprocess.run([program], capture_output=True, text=True, errors="replace", timeout=DMESG_SECONDS)
    except subprocess.TimeoutExpired:
        raise OSError(f"dmesg did not answer within {DMESG_SECONDS:g} s") from None
    if done.returncode != 0:
        said = done.stderr.strip().splitlines()
        raise OSError(f"dmesg failed: {said[-1] if said else f'exit {done.returncode}'}")
    return [kernel_message(line) for line in done.stdout.splitlines()]


def read_kernel_log(kmsg: str = KMSG) -> KernelLog:
    """The kernel's hypervisor lines, from `kmsg`, else dmesg."""
    try:
        return kernel_log_of(_kmsg_messages(kmsg), kmsg)
    except OSError as error:
        first = f"{kmsg}: {error.strerror or error}"
    try:
        return kernel_log_of(_dmesg_messages(), "dmesg")
    except OSError as dmesg:
        return KernelLog(missing=f"{first}; {dmesg.strerror or dmesg}")
