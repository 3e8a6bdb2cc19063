"""hvtune doctor: find the VMs this host can show, check each, and order
the results so that what matters most comes first."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from hvtune.api import check_reading
from hvtune.bundled import bundled_examples
from hvtune.errors import InputError
from hvtune.findings import CheckResult
from hvtune.formats import load_text, read_text


@dataclass(frozen=True)
class DoctorReport:
    """What doctor looked at (``files`` or ``examples``), a sentence saying so,
    and one result per VM, most urgent first."""

    origin: str
    note: str
    results: tuple[CheckResult, ...]


def check_vm(text: str, source: str, guest_os: str | None = None) -> CheckResult:
    """Check one VM definition. A definition QEMU would refuse is a result
    with a problem, not a reason to stop."""
    try:
        reading = read_text(text, source=source)
    except InputError as error:
        return CheckResult(source, None, problem=error.located)
    return check_reading(reading, guest_os=guest_os)


def run_doctor(paths: Sequence[str | Path] = (), *, guest_os: str | None = None) -> DoctorReport:
    """Check the named VM definitions, or the bundled examples when none
    are named. Files that cannot be read raise InputError."""
    if paths:
        results = [check_vm(load_text(path), str(path), guest_os) for path in paths]
        origin, note = "files", f"checked {len(results)} VM definition(s) named on the command line"
    else:
        examples = bundled_examples()
        results = [check_vm(example.read_text("utf-8"), example.name, guest_os) for example in examples]
        origin = "examples"
        note = (
            f"found no VMs to check, so these are the {len(results)} bundled examples; "
            "run `hvtune doctor FILE...` on your own QEMU command lines"
        )
    return DoctorReport(origin, note, tuple(sorted(results, key=CheckResult.urgency)))
