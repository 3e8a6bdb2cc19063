"""hvtune lab: boot a guest with configuration A and one with B, measure
both, and say what each guest saw. The guests run here (KVM or TCG), or
both as L2 guests in one boot of the sandbox (a KVM with Hyper-V emulation
in a TCG guest), the default where this machine's KVM cannot show what an
enlightenment does."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable, Collection
from dataclasses import dataclass
from pathlib import Path

from hvtune.bench.build import build_core
from hvtune.bench.options import LAB_OPTIONS, SANDBOX_LAB_OPTIONS, BenchOptions
from hvtune.checking import refuse_refused
from hvtune.errors import InputError
from hvtune.formats.qemu import read_cpu_option
from hvtune.host.sysfs import read_system
from hvtune.lab.guest import GuestRun, boot
from hvtune.lab.initramfs import build_initramfs
from hvtune.lab.kernel import find_kernel
from hvtune.sandbox.l1 import run_l1
from hvtune.sandbox.l2 import boot_cases, guest_spec, initramfs_files, kernel_path, read_boots
from hvtune.sandbox.stack import Stack, default_release, ensure_stack, load_stack
from hvtune.vm.accel import accelerator, hyperv_lacking
from hvtune.vm.initramfs import find_busybox
from hvtune.vm.spec import VmSpec


@dataclass(frozen=True)
class LabResult:
    """Both guests, and the machine they ran on: accelerator (``kvm``,
    ``tcg`` or ``sandbox``), kernel, vCPUs, memory (MiB), and the sandbox's
    stack under ``sandbox``."""

    a: GuestRun
    b: GuestRun
    accel: str
    kernel: Path
    vcpus: int
    memory: int
    notes: tuple[str, ...]
    stack: Stack | None = None


TCG_NOTE = (
    "TCG emulates no Hyper-V enlightenment: these figures show the machinery, not the effect; "
    "run the lab under KVM to see what an enlightenment changes"
)


SANDBOX_NOTE = (
    "both guests ran as L2 under the sandbox's Hyper-V KVM, itself a TCG guest: the figures are relative "
    "(every exit is far dearer nested), their direction and order of magnitude are the enlightenments' effect"
)

NO_SANDBOX_NOTE = (
    "this machine's KVM cannot show what an enlightenment does; with mmdebstrap installed the lab runs both "
    "guests in the sandbox, a KVM with Hyper-V emulation (--accel sandbox)"
)


def _sandbox_at_hand(release: str) -> bool:
    """Whether the sandbox's stack is cached or can be built here."""
    return load_stack(release) is not None or shutil.which("mmdebstrap") is not None


def choose_accel(
    requested: str | None, modules: Collection[str], release: str | None = None, *, own_kernel: bool = False
) -> tuple[str, list[str]]:
    """The accelerator and what the lab says about it: the one requested,
    else KVM when this machine's KVM emulates Hyper-V, else the sandbox
    (of `release`) when it is at hand and no kernel of the user's is to
    boot (`own_kernel`), else hvtune.vm.accel.accelerator's choice; why,
    when that needs saying; and under TCG or in the sandbox what the
    figures can show."""
    lacking = hyperv_lacking(modules) if requested is None and not own_kernel else None
    if requested == "sandbox" or (lacking and _sandbox_at_hand(release or default_release())):
        why = f"{lacking}; running both guests in the sandbox" if lacking else None
        return "sandbox", [*([why] if why else []), SANDBOX_NOTE]
    accel, why = accelerator(requested, modules)
    notes = [why] if why else []
    if lacking:  # and no sandbox at hand
        notes.append(NO_SANDBOX_NOTE)
    return accel, ([*notes, TCG_NOTE] if accel == "tcg" else notes)


def _check_cpu(cpu: str, source: str, accel: str) -> None:
    """Raise InputError when QEMU would refuse `cpu`: its parser, in every
    accelerator, and its Hyper-V dependency checks, which QEMU runs only
    under KVM (the sandbox's too)."""
    reading = read_cpu_option(cpu, source=source)
    if accel != "tcg":
        refuse_refused(reading, "qemu")


def run_lab(
    a: str,
    b: str,
    *,
    kernel: str | None = None,
    accel: str | None = None,
    vcpus: int = 2,
    memory: int = 512,
    options: BenchOptions | None = None,
    release: str | None = None,
    progress: Callable[[str], None] | None = None,
) -> LabResult:
    """Boot A, then B, under the same machine, and measure each; `progress`
    hears a line as each guest starts and ends (a guest can take minutes).
    In the sandbox (of `release`) the guests boot the stack's kernel, and
    each number of `options` left at the lab's default is the sandbox's."""
    chosen, notes = choose_accel(accel, read_system(Path("/")).modules, release, own_kernel=kernel is not None)
    for source, cpu in (("--a", a), ("--b", b)):  # both, before anything boots
        _check_cpu(cpu, source, chosen)
    options = options or LAB_OPTIONS
    if chosen == "sandbox":
        if kernel is not None:
            raise InputError("--kernel", None, "the sandbox boots its stack's own kernel (choose it with --on RELEASE)")
        stack = ensure_stack(release or default_release(), say=progress or (lambda _: None))
        options = options.defaults_from(LAB_OPTIONS, SANDBOX_LAB_OPTIONS)
        a_run, b_run = _in_sandbox(stack, (a, b), vcpus, memory, options, progress)
        return LabResult(a_run, b_run, chosen, kernel_path(stack), vcpus, memory, tuple(notes), stack)
    image = find_kernel(kernel)
    busybox = find_busybox("hvtune lab")
    core = build_core(static_only=True)
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


def _in_sandbox(
    stack: Stack,
    cpus: tuple[str, str],
    vcpus: int,
    memory: int,
    options: BenchOptions,
    progress: Callable[[str], None] | None,
) -> list[GuestRun]:
    """Both guests as L2 in one boot of the sandbox."""
    specs = [guest_spec(stack, cpu, vcpus=vcpus, memory=memory, measure=True) for cpu in cpus]
    if progress:
        progress(f"booting the {stack.release} sandbox: A -cpu {cpus[0]}, then B -cpu {cpus[1]}, under its KVM")
    outcome = run_l1(
        stack, {"cases": boot_cases(specs)}, initramfs_files("hvtune lab", options), say=progress or (lambda _: None)
    )
    runs = read_boots(specs, outcome.results(), measured=True)
    if progress:
        for label, run in zip("AB", runs, strict=True):
            progress(f"{label} {'failed' if run.problem else 'measured'} in {run.seconds:.1f} s")
    return runs
