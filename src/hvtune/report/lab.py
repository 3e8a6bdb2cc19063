"""Reports of hvtune lab: a Without/With table in the published style, what
each guest saw, JSON, and a bar chart."""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import ClassVar

from hvtune.bench.document import BenchDocument
from hvtune.bench.options import MEASURED, Measurement
from hvtune.errors import InputError, printable
from hvtune.jsonrecords import encode
from hvtune.lab.guest import GuestRun
from hvtune.lab.run import LabResult
from hvtune.report.bench import figure
from hvtune.report.text import wrap
from hvtune.report.verify import StackRecord, stack_record
from hvtune.writing import write_file


def _value(run: GuestRun, measurement: Measurement) -> float | None:
    result = run.results.get(measurement.key)
    return result.get(measurement.headline) if isinstance(result, dict) else None


def measured_rows(result: LabResult) -> list[tuple[str, float, float]]:
    """(title, A, B) for every measurement both guests made."""
    rows = []
    for measurement in MEASURED:
        a, b = _value(result.a, measurement), _value(result.b, measurement)
        if a is not None and b is not None:
            rows.append((f"{measurement.short}, {measurement.unit}", a, b))
    return rows


def _guest_lines(label: str, run: GuestRun) -> list[str]:
    lines = [wrap(f"{label}: -cpu {run.cpu}", "     ", first="")]
    if run.problem:
        return [*lines, wrap(run.problem, "   ", first="   ")]
    said = [f"{run.hypervisor}; clocksource {run.clocksource or 'unknown'}", *run.hyperv]
    return [*lines, *(f"   {printable(line)}" for line in said)]  # what the guest printed is quoted


def _accel(result: LabResult) -> str:
    if result.stack is None:
        return result.accel.upper()
    stack = result.stack.describe()
    return f"L2 in the Debian {stack['release']} sandbox (QEMU {stack['qemu']})"


def _ratio(a: float, b: float) -> str:
    """B/A with two decimals, or as 1/N where two decimals would show
    0.00 (the Hyper-V clock against a trapping one)."""
    if not a:
        return "0.00"
    ratio = b / a
    return f"1/{a / b:.0f}" if 0 < ratio < 0.005 else f"{ratio:.2f}"


def lab_text(result: LabResult) -> str:
    machine = printable(f"{_accel(result)}, {result.vcpus} vCPUs, {result.memory} MiB, kernel {result.kernel.name}")
    lines = [f"hvtune lab: {machine}", ""]
    rows = measured_rows(result)
    if rows:
        width = max(len(title) for title, _, _ in rows)
        lines.append(f"{'':<{width}}  {'Without (A)':>12}  {'With (B)':>12}  {'B/A':>6}")
        for title, a, b in rows:
            lines.append(f"{title:<{width}}  {figure(a):>12}  {figure(b):>12}  {_ratio(a, b):>6}")
        lines.append("")
    lines += [*_guest_lines("A", result.a), *_guest_lines("B", result.b)]
    lines += ["", *(wrap(f"Note: {note}.", "      ", first="") for note in result.notes)] if result.notes else []
    return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class GuestRecord:
    """One guest: its -cpu value, what its kernel said (the hypervisor line,
    the clocksource, the Hyper-V lines), the bench document it printed
    (empty when none), or why there is none (``problem``), and its seconds."""

    cpu: str
    hypervisor: str | None
    clocksource: str | None
    saw: tuple[str, ...]
    results: BenchDocument
    problem: str | None
    seconds: float

    @classmethod
    def of(cls, run: GuestRun) -> GuestRecord:
        return cls(
            cpu=run.cpu,
            hypervisor=None if run.problem else run.hypervisor,
            clocksource=run.clocksource,
            saw=run.saw,
            results=run.results,
            problem=run.problem,
            seconds=round(run.seconds, 2),
        )


@dataclass(frozen=True)
class LabDocument:
    """``hvtune lab --format json``: the machine both guests ran on
    (accelerator: ``kvm``, ``tcg`` or ``sandbox``; kernel, vCPUs, memory),
    notes on it, guests A and B, and the sandbox's stack (None unless
    ``sandbox``)."""

    SCHEMA: ClassVar[str] = "hvtune/lab/1"

    accel: str
    kernel: str
    vcpus: int
    memory_mib: int
    notes: tuple[str, ...]
    a: GuestRecord
    b: GuestRecord
    stack: StackRecord | None


def lab_json(result: LabResult) -> str:
    return encode(
        LabDocument(
            accel=result.accel,
            kernel=str(result.kernel),
            vcpus=result.vcpus,
            memory_mib=result.memory,
            notes=result.notes,
            a=GuestRecord.of(result.a),
            b=GuestRecord.of(result.b),
            stack=stack_record(result.stack) if result.stack is not None else None,
        )
    )


def require_matplotlib() -> None:
    """Fail before any guest boots when --plot cannot be honoured."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise InputError("--plot", None, "needs matplotlib: pip install 'hvtune[plot]'") from None


def lab_plot(result: LabResult, path: str) -> bool:
    """A PNG bar chart, one panel per measurement, Without (A) beside With
    (B), written atomically; False (and nothing written) when the two
    guests have no measurement in common."""
    rows = measured_rows(result)
    if not rows:
        return False
    require_matplotlib()
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure_, axes = plt.subplots(1, len(rows), figsize=(4 * len(rows), 3.6), squeeze=False)
    for axis, (title, a, b) in zip(axes[0], rows, strict=True):
        bars = axis.bar(["Without (A)", "With (B)"], [a, b], color=["#9e9e9e", "#2e7d32"])
        axis.bar_label(bars, labels=[figure(a), figure(b)])
        axis.set_title(title, fontsize=9)
        axis.margins(y=0.2)
    figure_.suptitle(f"hvtune lab ({result.accel.upper()})", fontsize=10)
    figure_.tight_layout()
    image = io.BytesIO()
    try:
        figure_.savefig(image, format="png", dpi=100)
    finally:
        plt.close(figure_)
    write_file(path, image.getvalue())
    return True
