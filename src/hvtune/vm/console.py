"""The serial console, read back: what a guest printed, and what QEMU said
on its stderr.

The guest's init brackets each part of its report between two marker lines
of its own, ``HVTUNE-<NAME>-BEGIN`` and ``HVTUNE-<NAME>-END`` (`markers`);
around them the console carries the kernel's own messages (``[    0.9] ...``
when not quiet), among them a panic, if there was one."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from hvtune.host.versions import QEMU_BINARY

# QEMU's warnings, also after the option they are about: "-accel kvm: warning: ..."
_WARNING = re.compile(r"(?:-[^:]*: )?warning: ")


def markers(name: str) -> tuple[str, str]:
    """The lines a guest prints before and after the part called `name`."""
    return f"HVTUNE-{name}-BEGIN", f"HVTUNE-{name}-END"


def is_kernel_line(line: str) -> bool:
    """Whether a line is a kernel log line (as the console and dmesg print
    them: a bracketed timestamp first)."""
    return line.startswith("[")


def kernel_message(line: str) -> str:
    """A kernel log line without its timestamp."""
    return line.split("] ", 1)[-1]


def detected_hypervisor(messages: Iterable[str]) -> str | None:
    """The kernel's ``Hypervisor detected: ...`` message among `messages`
    (without timestamps), or None."""
    return next((message.strip() for message in messages if "Hypervisor detected" in message), None)


def hyperv_messages(messages: Iterable[str]) -> tuple[str, ...]:
    """The kernel's own Hyper-V messages (``Hyper-V: privilege flags ...``,
    hints, timer frequency) among `messages` (without timestamps)."""
    return tuple(message for message in messages if message.startswith("Hyper-V"))


@dataclass(frozen=True)
class Console:
    """The console's lines, without the carriage returns the serial port
    adds."""

    lines: tuple[str, ...]

    @classmethod
    def read(cls, text: str) -> Console:
        return cls(tuple(line.rstrip("\r") for line in text.splitlines()))

    def between(self, begin: str, end: str) -> tuple[str, ...] | None:
        """The lines between the first `begin` marker and the `end` marker
        after it, or None when the guest did not print both."""
        try:
            start = self.lines.index(begin)
            stop = self.lines.index(end, start)
        except ValueError:
            return None
        return self.lines[start + 1 : stop]

    def panic(self) -> str | None:
        """The guest kernel's panic message, if it panicked."""
        line = next((line for line in self.lines if "Kernel panic" in line), None)
        return None if line is None else kernel_message(line)


def qemu_refusal(stderr: str) -> str | None:
    """Why QEMU would not run the guest: the first error it printed (its
    warnings passed over), without QEMU's name before it."""
    errors = [line.removeprefix(f"{QEMU_BINARY}: ") for line in stderr.splitlines() if line.strip()]
    return next((line for line in errors if not _WARNING.match(line)), None)
