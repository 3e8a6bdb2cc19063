"""Reports of hvtune verify: what the real QEMU and KVM did with each
configuration, beside hvtune's prediction, and a line to report when they
disagree."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from hvtune.cpuid import leaves_json
from hvtune.jsonrecords import encode
from hvtune.report.cpuid import cpuid_text
from hvtune.report.text import wrap
from hvtune.sandbox.verify import ACCEL, LIMITS, Prediction, Verification, Verified
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
    started: bool
    error: str | None


@dataclass(frozen=True)
class VerifiedRecord:
    """One configuration: whether it started, QEMU's first error line, the
    Hyper-V properties QEMU ended with, the Hyper-V CPUID leaves the guest
    saw (registers eax, ebx, ecx, edx by leaf), hvtune's prediction, and
    whether the two agree."""

    source: str
    cpu: str
    stack: StackRecord
    started: bool
    error: str | None
    properties: dict[str, Value]
    cpuid: dict[str, list[int]] | None
    predicted: PredictionRecord
    agrees: bool


@dataclass(frozen=True)
class VerifyDocument:
    """``hvtune verify --format json``: one record per configuration, and
    what the sandbox cannot show."""

    SCHEMA: ClassVar[str] = "hvtune/verify/1"

    results: tuple[VerifiedRecord, ...]
    limits: str


def _stack(verification: Verification) -> StackRecord:
    return StackRecord(**verification.stack.describe(), accel=ACCEL)


def _record(verification: Verification, result: Verified) -> VerifiedRecord:
    return VerifiedRecord(
        source=result.source,
        cpu=result.cpu,
        stack=_stack(verification),
        started=result.started,
        error=result.error,
        properties=result.properties,
        cpuid=leaves_json(result.cpuid) if result.cpuid is not None else None,
        predicted=PredictionRecord(result.predicted.started, result.predicted.error),
        agrees=result.agrees,
    )


def verify_json(verification: Verification) -> str:
    records = tuple(_record(verification, result) for result in verification.results)
    return encode(VerifyDocument(records, LIMITS))


def _verdict(started: bool, error: str | None) -> str:
    return "starts" if started else f"refused: {error}"


def _said(prediction: Prediction) -> str:
    return _verdict(prediction.started, prediction.error)


def _properties_line(properties: dict[str, Value]) -> str:
    on = [name for name, value in properties.items() if value is True]
    valued = [f"{name}={display(value)}" for name, value in properties.items() if not isinstance(value, bool)]
    return ", ".join(on + valued) or "none"


def defect_line(verification: Verification, result: Verified) -> str:
    """One line a user can paste into a bug report."""
    stack = verification.stack.describe()
    return (
        f"hvtune defect: -cpu {result.cpu} on Debian {stack['release']} (kernel {stack['kernel']}, "
        f"QEMU {stack['qemu']}): QEMU {_verdict(result.started, result.error)}; "
        f"hvtune predicted it {_said(result.predicted)}"
    )


def verify_text(verification: Verification) -> str:
    stack = verification.stack.describe()
    lines = [
        f"hvtune verify on Debian {stack['release']}: kernel {stack['kernel']}, QEMU {stack['qemu']}, "
        f"libvirt {stack['libvirt']}; {ACCEL} ({verification.seconds:.1f} s)",
        wrap(f"note: {LIMITS}", "  ", first=""),
        "",
    ]
    for result in verification.results:
        lines.append(wrap(f"{result.source}: -cpu {result.cpu}", "    ", first=""))
        lines.append(wrap(f"QEMU: {_verdict(result.started, result.error)}", "    ", first="  "))
        if result.started:
            lines.append(wrap(f"properties: {_properties_line(result.properties)}", "    ", first="  "))
        if result.cpuid is not None:
            lines.append("  Hyper-V CPUID the guest sees:")
            lines += [wrap(line, "      ", first="    ") for line in cpuid_text(result.cpuid).splitlines()]
        if result.agrees:
            lines.append(f"  hvtune predicted the same ({_said(result.predicted)})")
        else:
            lines.append(wrap(f"DISAGREES: hvtune predicted it {_said(result.predicted)}", "    ", first="  "))
            lines.append(wrap(defect_line(verification, result), "    ", first="  "))
        lines.append("")
    disagreeing = sum(not result.agrees for result in verification.results)
    lines.append(f"{len(verification.results)} configuration(s), {disagreeing} disagreeing with hvtune")
    return "\n".join(lines) + "\n"
