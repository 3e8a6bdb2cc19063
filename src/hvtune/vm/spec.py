"""One guest described: what QEMU boots and how, and the argv that starts
it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from hvtune.config import HypervConfig
from hvtune.formats.qemu import render_cpu
from hvtune.host.versions import QEMU_BINARY
from hvtune.vm.accel import cpu_for_accel

BOOT_APPEND = "console=ttyS0 quiet panic=-1 rdinit=/init"
DEFAULT_MACHINE = "q35"


@dataclass(frozen=True)
class VmSpec:
    """A Linux guest booted straight from `kernel` and `initramfs`, its
    serial console on QEMU's stdout, no display, no monitor, no default
    devices, and no reboot (a guest that reboots or panics ends the run).

    ``cpu`` is a HypervConfig, written out by the QEMU format's renderer, or
    a -cpu value passed on verbatim (what a user typed); either way the
    model `host` becomes `max` under TCG. ``accel`` is ``kvm`` or ``tcg``;
    ``memory`` is in MiB; ``machine`` is the QEMU machine type, by default
    the config's own, else q35; ``append`` is the kernel command line;
    ``extra`` arguments go last; ``timeout`` is in seconds, and so is
    ``silence``: how long the console may stay silent before the guest is
    deemed stopped (None: as long as it likes)."""

    kernel: Path
    initramfs: Path
    cpu: HypervConfig | str
    accel: str = "kvm"
    vcpus: int = 2
    memory: int = 512
    machine: str | None = None
    append: str = BOOT_APPEND
    extra: tuple[str, ...] = ()
    timeout: float = 900
    silence: float | None = None

    def _cpu(self) -> tuple[str, str | None]:
        written = self.cpu if isinstance(self.cpu, str) else render_cpu(self.cpu)
        return cpu_for_accel(written, self.accel)

    @property
    def cpu_value(self) -> str:
        """The -cpu value QEMU gets."""
        return self._cpu()[0]

    @property
    def cpu_note(self) -> str | None:
        """What the accelerator changed in the -cpu value, if anything."""
        return self._cpu()[1]

    @property
    def machine_type(self) -> str:
        """The -machine value QEMU gets."""
        own = None if isinstance(self.cpu, str) else self.cpu.machine
        return self.machine or own or DEFAULT_MACHINE

    def argv(self) -> list[str]:
        """The command that runs this guest."""
        return [
            QEMU_BINARY, "-accel", self.accel, "-machine", self.machine_type, "-cpu", self.cpu_value,
            "-smp", str(self.vcpus), "-m", str(self.memory),
            "-kernel", str(self.kernel), "-initrd", str(self.initramfs), "-append", self.append,
            "-display", "none", "-serial", "stdio", "-monitor", "none", "-nodefaults", "-no-reboot",
            *self.extra,
        ]  # fmt: skip
