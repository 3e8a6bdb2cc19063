"""hvtune lab: boot a guest with configuration A and one with B, measure
both, and say what each guest saw."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Collection
from dataclasses import dataclass
from pathlib import Path

from hvtune.bench.build import build_core
from hvtune.bench.options import LAB_OPTIONS, BenchOptions
from hvtune.host.sysfs import read_system
from hvtune.lab.guest import GuestRun, Machine, boot
from hvtune.lab.initramfs import build_initramfs, find_busybox
from hvtune.lab.kernel import find_kernel


@dataclass(frozen=True)
class LabResult:
    """Both guests, and the machine they ran on: accelerator, kernel, vCPUs,
    memory (MiB)."""

    a: GuestRun
    b: GuestRun
    accel: str
    kernel: Path
    vcpus: int
    memory: int
    notes: tuple[str, ...]


PVM_NOTE = "KVM here is kvm_pvm, which runs only kernels built as PVM guests: an ordinary kernel does not boot under it"
TCG_NOTE = (
    "TCG emulates no Hyper-V enlightenment: these figures show the machinery, not the effect; "
    "run the lab under KVM to see what an enlightenment changes"
)


def _kvm_opens() -> bool:
    try:
        os.close(os.open("/dev/kvm", os.O_RDWR | os.O_CLOEXEC))
    except OSError:
        return False
    return True


def choose_accel(requested: str | None, modules: Collection[str]) -> tuple[str, list[str]]:
    """The accelerator and what to say about it: KVM when /dev/kvm opens and
    a KVM that boots ordinary guests (not PVM, given `modules`, the loaded
    kernel modules) provides it, else TCG."""
    pvm = "kvm_pvm" in modules
    if requested == "kvm":
        return "kvm", [PVM_NOTE] if pvm else []
    if requested is None and not pvm and _kvm_opens():
        return "kvm", []
    if requested is None and pvm:
        return "tcg", [f"{PVM_NOTE}; running under TCG", TCG_NOTE]
    return "tcg", [TCG_NOTE]


def _for_accel(cpu: str, accel: str) -> tuple[str, str | None]:
    """`host` exists only under KVM; under TCG the nearest is `max`."""
    model, _, rest = cpu.partition(",")
    if accel == "tcg" and model == "host":
        return ",".join(["max", rest]) if rest else "max", "under TCG the CPU model host is replaced by max"
    return cpu, None


def run_lab(
    a: str,
    b: str,
    *,
    kernel: str | None = None,
    accel: str | None = None,
    vcpus: int = 2,
    memory: int = 512,
    options: BenchOptions | None = None,
    progress: Callable[[str], None] | None = None,
) -> LabResult:
    """Boot A, then B, under the same machine, and measure each; `progress`
    hears a line as each guest starts and ends (a guest can take minutes)."""
    chosen, notes = choose_accel(accel, read_system(Path("/")).modules)
    image = find_kernel(kernel)
    busybox = find_busybox()
    core = build_core(static_only=True)
    options = options or LAB_OPTIONS
    with tempfile.TemporaryDirectory(prefix="hvtune-lab-") as folder:
        initramfs = build_initramfs(
            Path(folder) / "initramfs.gz", busybox=busybox, bench=core.path, arguments=options.arguments()
        )
        machine = Machine(image, initramfs, chosen, vcpus, memory)
        runs = []
        for label, cpu in (("A", a), ("B", b)):
            actual, note = _for_accel(cpu, chosen)
            if note and note not in notes:
                notes.append(note)
            if progress:
                progress(f"booting {label} under {chosen.upper()}: -cpu {actual}")
            run = boot(actual, machine)
            if progress:
                progress(f"{label} {'failed' if run.problem else 'measured'} in {run.seconds:.1f} s")
            runs.append(run)
    return LabResult(runs[0], runs[1], chosen, image, vcpus, memory, tuple(notes))
