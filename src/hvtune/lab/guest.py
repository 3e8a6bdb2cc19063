"""Boot one guest with one -cpu value, let its init measure, and read what
it printed on the serial console."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from hvtune.bench.document import BenchDocument
from hvtune.bench.run import summarize
from hvtune.lab.initramfs import (
    CONTEXT_BEGIN,
    CONTEXT_END,
    JSON_BEGIN,
    JSON_END,
    RUN_BEGIN,
    RUN_END,
    RUN_ERRORS_BEGIN,
    RUN_ERRORS_END,
    RUN_STATUS,
)
from hvtune.sandbox.in_guest import command_of
from hvtune.vm.console import (
    Console,
    detected_hypervisor,
    hyperv_messages,
    is_kernel_line,
    kernel_message,
    qemu_refusal,
)
from hvtune.vm.run import VmRun, run_vm
from hvtune.vm.spec import VmSpec


@dataclass(frozen=True)
class GuestCommand:
    """An hvtune command line run inside the guest (hvtune's arguments, as
    the guest's kernel command line carried them): its exit status (None:
    the guest did not say) and what it printed."""

    argv: tuple[str, ...]
    status: int | None
    stdout: str
    stderr: str


@dataclass(frozen=True)
class GuestRun:
    """One guest: the -cpu value, what its kernel said about the hypervisor
    and clocksource, the measurements, or why there are none, and the
    hvtune command line it ran, if it was given one."""

    cpu: str
    saw: tuple[str, ...] = ()
    clocksource: str | None = None
    results: BenchDocument = field(default_factory=lambda: BenchDocument())
    problem: str | None = None
    seconds: float = 0.0
    ran: GuestCommand | None = None

    @property
    def hypervisor(self) -> str:
        """The guest kernel's `Hypervisor detected` line, or what stands for it."""
        return detected_hypervisor(map(kernel_message, self.saw)) or "no hypervisor detected"

    @property
    def hyperv(self) -> tuple[str, ...]:
        """The guest kernel's own Hyper-V lines (``Hyper-V: privilege flags
        ...``, hints, timer frequency), without timestamps."""
        return hyperv_messages(map(kernel_message, self.saw))


def _problem(stderr: str, console: Console, returncode: int | None) -> str:
    refusal = qemu_refusal(stderr)
    if refusal:
        return f"QEMU refused it: {refusal}"
    panic = console.panic()
    if panic:
        return f"the guest kernel panicked: {panic}"
    return f"the guest printed no results (QEMU exit {returncode})"


def _ran(console: Console, cmdline: str | None) -> GuestCommand | None:
    """The hvtune command line the guest ran, from its console (None when
    its kernel command line carried none)."""
    argv = command_of(cmdline or "")
    if argv is None:
        return None
    stdout = console.between(RUN_BEGIN, RUN_END)
    stderr = console.between(RUN_ERRORS_BEGIN, RUN_ERRORS_END)
    status = next((line.removeprefix(RUN_STATUS) for line in console.lines if line.startswith(RUN_STATUS)), None)
    return GuestCommand(
        tuple(argv),
        int(status) if status is not None and status.isdigit() else None,
        "\n".join(stdout or ()),
        "\n".join(stderr or ()),
    )


def boot(spec: VmSpec) -> GuestRun:
    """Boot, measure, power off."""
    return read_run(spec.cpu_value, run_vm(spec), spec.timeout)


def read_run(cpu: str, run: VmRun, timeout: float, *, measured: bool = True) -> GuestRun:
    """What one guest's run says, a run killed at its `timeout` included;
    `measured`: whether its init measured (else it only reported)."""
    if run.timed_out:
        said = [line for line in Console.read(run.stdout).lines if line.strip()]
        last = f" (its last line: {said[-1]})" if said else ""
        return GuestRun(cpu, problem=f"the guest did not finish within {timeout:g} s{last}", seconds=timeout)
    return read_console(cpu, run.stdout, run.stderr, run.returncode, run.seconds, measured=measured)


def read_console(
    cpu: str, stdout: str, stderr: str, returncode: int | None, seconds: float, *, measured: bool = True
) -> GuestRun:
    """What one guest's serial console (QEMU's stdout) and QEMU's stderr say."""
    console = Console.read(stdout)
    context = console.between(CONTEXT_BEGIN, CONTEXT_END)
    document = console.between(JSON_BEGIN, JSON_END)
    if context is None or (measured and not document):
        return GuestRun(cpu, problem=_problem(stderr, console, returncode), seconds=seconds)
    facts = dict(line.split("=", 1) for line in context if "=" in line and not is_kernel_line(line))
    saw = tuple(line for line in context if is_kernel_line(line))
    ran = _ran(console, facts.get("cmdline"))
    if not document:  # the init only reported
        return GuestRun(cpu, saw, facts.get("clocksource"), seconds=seconds, ran=ran)
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
    return GuestRun(cpu, saw, facts.get("clocksource"), results, seconds=seconds, ran=ran)
