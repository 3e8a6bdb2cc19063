"""Linux guests inside the sandbox (L2): booted by the agent under the
stack's Hyper-V KVM, with the lab's initramfs (what the guest saw, and with
the measuring core its measurements) and read back by the lab's console
reader, so a guest reads the same whether it ran here or in the sandbox.

The kernel is the stack's own, from the /boot of its root file system; the
firmware is QEMU's qboot (measured on bookworm: init runs ~5 s after QEMU
starts, where SeaBIOS adds seconds under nested TCG)."""

from __future__ import annotations

import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from hvtune.bench.build import build_core
from hvtune.bench.options import BenchOptions
from hvtune.lab.guest import GuestRun, read_run
from hvtune.lab.initramfs import build_initramfs
from hvtune.sandbox.guest_python import guest_python_argv, guest_python_files
from hvtune.sandbox.in_guest import kernel_parameter
from hvtune.sandbox.l1 import AGENT_FOLDER
from hvtune.sandbox.stack import Stack
from hvtune.vm.initramfs import find_busybox
from hvtune.vm.run import VmRun
from hvtune.vm.spec import BOOT_APPEND, VmSpec

INITRAMFS_NAME = "l2-initramfs.gz"
QBOOT = "/usr/share/qemu/qboot.rom"  # in the stack's QEMU
BOOT_MEMORY = 256  # MiB: enough for the guest to report what it saw
BOOT_SECONDS = 120.0  # a guest that only reports
MEASURE_SECONDS = 900.0  # a guest that measures (every exit is dear under nested TCG)


def kernel_path(stack: Stack) -> Path:
    """The stack's kernel, where the L1 guest has it."""
    return Path("/boot") / f"vmlinuz-{stack.kernel}"


def initramfs_files(
    needed_by: str, options: BenchOptions | None, commands: Sequence[Sequence[str]] = ()
) -> dict[str, bytes]:
    """The L2 guests' initramfs, as an `extra` file for run_l1: with
    `options` the guests measure, else they only report; with `commands`
    (hvtune's arguments) it holds hvtune's Python for them, and a guest
    whose kernel command line names one of them (guest_spec) runs it."""
    bench = build_core(static_only=True).path if options else None
    arguments = options.arguments() if options else ()
    python = guest_python_files(commands) if commands else []
    with tempfile.TemporaryDirectory(prefix="hvtune-l2-") as folder:
        target = Path(folder) / INITRAMFS_NAME
        build_initramfs(
            target,
            busybox=find_busybox(needed_by),
            bench=bench,
            arguments=arguments,
            python=python,
            run=guest_python_argv() if python else (),
        )
        return {INITRAMFS_NAME: target.read_bytes()}


def guest_spec(
    stack: Stack,
    cpu: str,
    *,
    machine: str | None = None,
    vcpus: int = 1,
    memory: int = BOOT_MEMORY,
    measure: bool,
    command: Sequence[str] | None = None,
) -> VmSpec:
    """One L2 guest with -cpu `cpu` under the stack's KVM; with `command`
    (hvtune's arguments), it runs that hvtune command line (its initramfs
    must hold hvtune's Python for it: initramfs_files)."""
    return VmSpec(
        kernel_path(stack),
        AGENT_FOLDER / INITRAMFS_NAME,
        cpu,
        accel="kvm",
        vcpus=vcpus,
        memory=memory,
        machine=machine,
        append=BOOT_APPEND if command is None else f"{BOOT_APPEND} {kernel_parameter(command)}",
        extra=("-bios", QBOOT),
        timeout=MEASURE_SECONDS if measure else BOOT_SECONDS,
    )


def boot_cases(specs: Sequence[VmSpec], prefix: str = "boot") -> list[dict[str, Any]]:
    """The agent's cases (kind ``boot``) for these guests, ids `prefix`-N."""
    return [
        {"kind": "boot", "id": f"{prefix}-{index}", "argv": spec.argv(), "timeout": spec.timeout}
        for index, spec in enumerate(specs)
    ]


def read_boots(
    specs: Sequence[VmSpec], results: Mapping[str, dict[str, Any]], *, measured: bool, prefix: str = "boot"
) -> list[GuestRun]:
    """What each guest saw (and measured), from the agent's results by id."""
    runs = []
    for index, spec in enumerate(specs):
        result = results.get(f"{prefix}-{index}")
        if result is None:
            runs.append(GuestRun(spec.cpu_value, problem="the sandbox gave no result for this guest"))
            continue
        run = VmRun(result["stdout"], result["stderr"], result["returncode"], result["seconds"])
        runs.append(read_run(spec.cpu_value, run, spec.timeout, measured=measured))
    return runs
