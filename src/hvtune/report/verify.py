"""Reports of hvtune verify: what the real QEMU and KVM did with each
configuration, beside hvtune's prediction, and a line to report when they
disagree."""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from typing import ClassVar

from hvtune.cpuid import leaves_json
from hvtune.errors import printable
from hvtune.jsonrecords import encode
from hvtune.lab.guest import GuestRun
from hvtune.report.cpuid import cpuid_text
from hvtune.report.guestview import compared_text, difference_text
from hvtune.report.text import plural, wrap
from hvtune.sandbox.domain import KEPT
from hvtune.sandbox.places import Place, Sandbox
from hvtune.sandbox.stack import Stack
from hvtune.sandbox.verify import Prediction, Verification, Verified
from hvtune.valuetypes import Value, display


@dataclass(frozen=True)
class StackRecord:
    """Where the configurations ran: the Debian release, its kernel, QEMU
    and libvirt, and the accelerator."""

    release: str
    kernel: str
    qemu: str
    libvirt: str
    accel: str


@dataclass(frozen=True)
class PredictionRecord:
    """hvtune's prediction; `cpu` is the -cpu value it expects libvirt to
    build (null for a -cpu value or command line); `cpuid` the hypervisor
    leaves a guest reads when it starts, as hvtune cpuid predicts them (null
    when hvtune could not read the configuration), and `unpredicted` the
    leaves among them that the host's KVM fills."""

    started: bool
    error: str | None
    cpu: str | None
    cpuid: dict[str, list[int]] | None
    unpredicted: tuple[str, ...]


@dataclass(frozen=True)
class CpuidDifference:
    """One register of a hypervisor leaf where what the guest read is not
    what hvtune predicted."""

    leaf: str
    register: str
    predicted: int
    observed: int


@dataclass(frozen=True)
class GuestCommandRecord:
    """An hvtune command line run inside the guest (verify --run-in-guest):
    its arguments, its exit status (null: the guest did not say) and what
    it printed on its standard output and error."""

    argv: tuple[str, ...]
    status: int | None
    stdout: str
    stderr: str


@dataclass(frozen=True)
class GuestRecord:
    """What a Linux guest booted with the configuration saw (verify
    --boot): its kernel's `Hypervisor detected` line (None when it detected
    none), its Hyper-V lines, its clocksource, or why it did not report
    (``problem``), its seconds, and the hvtune command line it ran (null
    without --run-in-guest)."""

    hypervisor: str | None
    hyperv: tuple[str, ...]
    clocksource: str | None
    problem: str | None
    seconds: float
    ran: GuestCommandRecord | None

    @classmethod
    def of(cls, run: GuestRun) -> GuestRecord:
        detected = not run.problem and any("Hypervisor detected" in line for line in run.saw)
        return cls(
            hypervisor=run.hypervisor if detected else None,
            hyperv=run.hyperv,
            clocksource=run.clocksource,
            problem=run.problem,
            seconds=round(run.seconds, 2),
            ran=GuestCommandRecord(**vars(run.ran)) if run.ran is not None else None,
        )


@dataclass(frozen=True)
class VerifiedRecord:
    """One configuration: the -cpu value QEMU got (for a libvirt domain
    the one libvirt built, null when libvirt refused it), whether it
    started, the first error line and the program that refused (``qemu``,
    ``libvirt``), the Hyper-V properties QEMU ended with, the Hyper-V
    CPUID leaves the guest saw (registers eax, ebx, ecx, edx by leaf),
    hvtune's prediction, the registers where the leaves the guest saw are
    not the predicted ones, whether the two agree (in outcome, -cpu value
    and leaves), and what a Linux guest saw (verify --boot; null without
    it, for a domain, or when it was refused)."""

    source: str
    through: str  # qemu, libvirt
    cpu: str | None
    stack: StackRecord
    started: bool
    error: str | None
    refused_by: str | None
    properties: dict[str, Value]
    cpuid: dict[str, list[int]] | None
    predicted: PredictionRecord
    cpuid_differences: tuple[CpuidDifference, ...]
    agrees: bool
    guest: GuestRecord | None


@dataclass(frozen=True)
class VerifyDocument:
    """``hvtune verify --format json``: one record per configuration, and
    what the place cannot show (the sandbox's limits; null on this
    machine's own KVM)."""

    SCHEMA: ClassVar[str] = "hvtune/verify/1"

    results: tuple[VerifiedRecord, ...]
    limits: str | None


def place_record(place: Place) -> StackRecord:
    return StackRecord(**place.describe(), accel=place.accel)


def stack_record(stack: Stack) -> StackRecord:
    """A stack of the sandbox, as reports name it."""
    return place_record(Sandbox(stack))


def _prediction_record(prediction: Prediction) -> PredictionRecord:
    leaves = prediction.leaves
    return PredictionRecord(
        prediction.started,
        prediction.error,
        prediction.cpu,
        leaves_json(leaves.leaves) if leaves is not None else None,
        tuple(f"0x{leaf:08X}" for leaf in leaves.unpredicted) if leaves is not None else (),
    )


def _record(verification: Verification, result: Verified) -> VerifiedRecord:
    return VerifiedRecord(
        source=result.source,
        through="libvirt" if result.through_libvirt else "qemu",
        cpu=result.cpu,
        stack=place_record(verification.place),
        started=result.started,
        error=result.error,
        refused_by=result.refused_by,
        properties=result.properties,
        cpuid=leaves_json(result.cpuid) if result.cpuid is not None else None,
        predicted=_prediction_record(result.predicted),
        cpuid_differences=tuple(
            CpuidDifference(f"0x{row.leaf:08X}", row.reg, row.predicted, row.observed)
            for row in result.cpuid_differences
            if row.predicted is not None
        ),
        agrees=result.agrees,
        guest=GuestRecord.of(result.guest) if result.guest is not None else None,
    )


def verify_json(verification: Verification) -> str:
    records = tuple(_record(verification, result) for result in verification.results)
    return encode(VerifyDocument(records, verification.place.limits))


def _verdict(started: bool, error: str | None, cpu: str | None = None) -> str:
    if not started:
        return f"refused: {error}"
    return f"starts with -cpu {cpu}" if cpu is not None else "starts"


def _outcome(result: Verified) -> str:
    """What really happened, and who said so."""
    if result.through_libvirt and result.started:
        return f"libvirt: {_verdict(True, None, result.cpu)}"
    return f"{'libvirt' if result.refused_by == 'libvirt' else 'QEMU'}: {_verdict(result.started, result.error)}"


def _said(prediction: Prediction) -> str:
    return _verdict(prediction.started, prediction.error, prediction.cpu)


def _heading(result: Verified) -> str:
    if result.through_libvirt:
        return f"{result.source}: libvirt domain, run with {KEPT}"
    return f"{result.source}: -cpu {result.cpu}"


def _properties_line(properties: dict[str, Value]) -> str:
    on = [name for name, value in properties.items() if value is True]
    valued = [f"{name}={display(value)}" for name, value in properties.items() if not isinstance(value, bool)]
    return ", ".join(on + valued) or "none"


def defect_line(verification: Verification, result: Verified) -> str:
    """One line a user can paste into a bug report."""
    stack = verification.place.describe()
    what = f"libvirt domain {result.source}" if result.through_libvirt else f"-cpu {result.cpu}"
    differences = "".join(f"; {difference_text(row)}" for row in result.cpuid_differences)
    return (
        f"hvtune defect: {what} on {verification.place.title} (kernel {stack['kernel']}, "
        f"QEMU {stack['qemu']}, libvirt {stack['libvirt']}): {_outcome(result)}; "
        f"hvtune predicted it {_said(result.predicted)}{differences}"
    )


def _cpuid_lines(result: Verified) -> list[str]:
    """The hypervisor leaves the guest read: beside hvtune's prediction when
    there is one, else read as hvtune cpuid reads them."""
    assert result.cpuid is not None
    compared, predicted = result.compared_cpuid, result.predicted.leaves
    if compared is None or predicted is None:
        return ["  Hyper-V CPUID the guest sees:"] + [
            wrap(line, "      ", first="    ") for line in cpuid_text(result.cpuid).splitlines()
        ]
    said = "differs from" if result.cpuid_differences else "is"
    table = compared_text(predicted, result.cpuid, compared).splitlines()
    return [f"  the Hyper-V CPUID the guest read {said} hvtune's prediction:"] + [
        wrap(line, " " * 8, first="    ") for line in table
    ]


def _guest_lines(run: GuestRun) -> list[str]:
    """What the Linux guest saw, quoted as it printed it (wrap escapes
    control characters)."""
    head = f"  a Linux guest booted with it ({run.seconds:.1f} s):"
    if run.problem:
        return [head, wrap(run.problem, "      ", first="    ")]
    said = [run.hypervisor, *run.hyperv, f"clocksource {run.clocksource or 'unknown'}"]
    lines = [head, *(wrap(line, "      ", first="    ") for line in said)]
    if run.ran is not None:
        status = "no exit status" if run.ran.status is None else f"exit {run.ran.status}"
        lines.append(wrap(f"ran hvtune {shlex.join(run.ran.argv)} in it ({status}):", "      ", first="    "))
        lines += [f"      {printable(line)}" for line in [*run.ran.stdout.splitlines(), *run.ran.stderr.splitlines()]]
    return lines


def verify_text(verification: Verification) -> str:
    stack = verification.place.describe()
    lines = [
        f"hvtune verify on {verification.place.title}: kernel {stack['kernel']}, QEMU {stack['qemu']}, "
        f"libvirt {stack['libvirt']}; {verification.place.accel} ({verification.seconds:.1f} s)",
        *([wrap(f"note: {verification.place.limits}", "  ", first="")] if verification.place.limits else []),
        "",
    ]
    for result in verification.results:
        lines.append(wrap(_heading(result), "    ", first=""))
        lines.append(wrap(_outcome(result), "    ", first="  "))
        if result.started:
            lines.append(wrap(f"properties: {_properties_line(result.properties)}", "    ", first="  "))
        if result.cpuid is not None:
            lines += _cpuid_lines(result)
        if result.guest is not None:
            lines += _guest_lines(result.guest)
        if result.agrees:
            lines.append(f"  hvtune predicted the same ({_said(result.predicted)})")
        else:
            also = ", with other Hyper-V CPUID than the guest read" if result.cpuid_differences else ""
            lines.append(wrap(f"DISAGREES: hvtune predicted it {_said(result.predicted)}{also}", "    ", first="  "))
            lines.append(wrap(defect_line(verification, result), "    ", first="  "))
        lines.append("")
    disagreeing = sum(not result.agrees for result in verification.results)
    lines.append(f"{plural(len(verification.results), 'configuration')}, {disagreeing} disagreeing with hvtune")
    return "\n".join(lines) + "\n"
