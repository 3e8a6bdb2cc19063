"""hvtune lab: boot a guest with configuration A and one with B, measure
both, and say what each guest saw."""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Collection
from dataclasses import dataclass
from pathlib import Path

from hvtune.bench.build import build_core
from hvtune.bench.options import LAB_OPTIONS, BenchOptions
from hvtune.host.sysfs import read_system
from hvtune.lab.guest import GuestRun, boot
from hvtune.lab.initramfs import build_initramfs
from hvtune.lab.kernel import find_kernel
from hvtune.vm.accel import accelerator
from hvtune.vm.initramfs import find_busybox
from hvtune.vm.spec import VmSpec


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


TCG_NOTE = (
    "TCG emulates no Hyper-V enlightenment: these figures show the machinery, not the effect; "
    "run the lab under KVM to see what an enlightenment changes"
)


def choose_accel(requested: str | None, modules: Collection[str]) -> tuple[str, list[str]]:
    """The accelerator (hvtune.vm.accel.accelerator) and what the lab says
    about it: why, when that needs saying, and under TCG that the figures
    show no enlightenment's effect."""
    accel, why = accelerator(requested, modules)
    notes = [why] if why else []
    return accel, ([*notes, TCG_NOTE] if accel == "tcg" else notes)


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
    busybox = find_busybox("hvtune lab")
    core = build_core(static_only=True)
    options = options or LAB_OPTIONS
    with tempfile.TemporaryDirectory(prefix="hvtune-lab-") as folder:
        initramfs = build_initramfs(
            Path(folder) / "initramfs.gz", busybox=busybox, bench=core.path, arguments=options.arguments()
        )
        runs = []
        for label, cpu in (("A", a), ("B", b)):
            spec = VmSpec(image, initramfs, cpu, chosen, vcpus, memory)
            note = spec.cpu_note
            if note and note not in notes:
                notes.append(note)
            if progress:
                progress(f"booting {label} under {chosen.upper()}: -cpu {spec.cpu_value}")
            run = boot(spec)
            if progress:
                progress(f"{label} {'failed' if run.problem else 'measured'} in {run.seconds:.1f} s")
            runs.append(run)
    return LabResult(runs[0], runs[1], chosen, image, vcpus, memory, tuple(notes))
