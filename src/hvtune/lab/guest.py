"""Boot one guest with one -cpu value, let its init measure, and read what
it printed on the serial console."""

from __future__ import annotations

import json
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hvtune.bench.run import summarize
from hvtune.host.versions import QEMU_BINARY
from hvtune.lab.initramfs import CONTEXT_BEGIN, CONTEXT_END, JSON_BEGIN, JSON_END


@dataclass(frozen=True)
class Machine:
    """How the guests are started: accelerator, vCPUs, memory (MiB), kernel."""

    kernel: Path
    initramfs: Path
    accel: str = "kvm"
    vcpus: int = 2
    memory: int = 512
    timeout: int = 900


@dataclass(frozen=True)
class GuestRun:
    """One guest: the -cpu value, what its kernel said about the hypervisor
    and clocksource, the measurements, or why there are none."""

    cpu: str
    saw: tuple[str, ...] = ()
    clocksource: str | None = None
    results: dict[str, Any] = field(default_factory=dict)
    problem: str | None = None
    seconds: float = 0.0

    @property
    def hypervisor(self) -> str:
        """The guest kernel's `Hypervisor detected` line, or what stands for it."""
        line = next((line for line in self.saw if "Hypervisor detected" in line), None)
        return line.split("] ", 1)[-1].strip() if line else "no hypervisor detected"


def _between(lines: list[str], begin: str, end: str) -> list[str] | None:
    try:
        start = lines.index(begin)
        stop = lines.index(end, start)
    except ValueError:
        return None
    return lines[start + 1 : stop]


def _problem(stderr: str, console: list[str], returncode: int | None) -> str:
    errors = [line.removeprefix(f"{QEMU_BINARY}: ") for line in stderr.splitlines() if line.strip()]
    errors = [line for line in errors if not line.startswith("warning:")]
    if errors:
        return f"QEMU refused it: {errors[0]}"
    panic = next((line for line in console if "Kernel panic" in line), None)
    if panic:
        return f"the guest kernel panicked: {panic.split('] ', 1)[-1]}"
    return f"the guest printed no results (QEMU exit {returncode})"


def boot(cpu: str, machine: Machine) -> GuestRun:
    """Boot, measure, power off."""
    command = [
        QEMU_BINARY, "-accel", machine.accel, "-machine", "q35", "-cpu", cpu,
        "-smp", str(machine.vcpus), "-m", str(machine.memory),
        "-kernel", str(machine.kernel), "-initrd", str(machine.initramfs),
        "-append", "console=ttyS0 quiet panic=-1 rdinit=/init",
        "-display", "none", "-serial", "stdio", "-monitor", "none", "-nodefaults", "-no-reboot",
    ]  # fmt: skip
    start = time.monotonic()
    try:
        done = subprocess.run(command, capture_output=True, text=True, errors="replace", timeout=machine.timeout)
    except subprocess.TimeoutExpired:
        return GuestRun(cpu, problem=f"the guest did not finish within {machine.timeout} s", seconds=machine.timeout)
    return read_console(cpu, done.stdout, done.stderr, done.returncode, time.monotonic() - start)


def read_console(cpu: str, stdout: str, stderr: str, returncode: int | None, seconds: float) -> GuestRun:
    """What one guest's serial console (QEMU's stdout) and QEMU's stderr say."""
    console = [line.rstrip("\r") for line in stdout.splitlines()]
    context = _between(console, CONTEXT_BEGIN, CONTEXT_END)
    document = _between(console, JSON_BEGIN, JSON_END)
    if context is None or not document:
        return GuestRun(cpu, problem=_problem(stderr, console, returncode), seconds=seconds)
    facts = dict(line.split("=", 1) for line in context if "=" in line and not line.startswith("["))
    try:
        raw = json.loads("".join(document))
    except json.JSONDecodeError:
        said = " ".join(line.strip() for line in document if not line.startswith("{")).strip()
        problem = (
            f"the measuring core failed in the guest: {said}"
            if said
            else "the guest's measurements were garbled on the serial console"
        )
        return GuestRun(cpu, problem=problem, seconds=seconds)
    results = summarize(raw, clocksource=facts.get("clocksource"), kernel=facts.get("kernel"))
    saw = tuple(line for line in context if line.startswith("["))
    return GuestRun(cpu, saw, facts.get("clocksource"), results, seconds=seconds)
