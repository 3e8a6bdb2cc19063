"""hvtune doctor: find the VMs this host can show, check each, and order
the results so that what matters most comes first.

What it looks at, in order: the files named; else every domain of the
libvirt daemon it can reach (``--connect URI``, else $LIBVIRT_DEFAULT_URI or
qemu:///system); else the bundled examples, saying why.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from hvtune.api import check_reading, resolve_libvirt_version
from hvtune.bundled import bundled_examples
from hvtune.errors import InputError
from hvtune.findings import CheckResult
from hvtune.formats import load_text, read_text
from hvtune.live import Connection, default_uri


@dataclass(frozen=True)
class DoctorReport:
    """What doctor looked at (``files``, ``libvirt`` or ``examples``), what
    it says about that (a line, or two when it fell back to the examples),
    and one result per VM, most urgent first."""

    origin: str
    note: str
    results: tuple[CheckResult, ...]


def check_vm(text: str, source: str, *, guest_os: str | None = None, libvirt_version: str | None = None) -> CheckResult:
    """Check one VM definition. A definition that cannot even be read (QEMU
    or libvirt would refuse it outright) is a result with a problem, not a
    reason to stop."""
    try:
        reading = read_text(text, source=source)
    except InputError as error:
        return CheckResult(source, None, problem=error.located)
    return check_reading(reading, guest_os=guest_os, libvirt_version=libvirt_version)


def _report(origin: str, note: str, results: list[CheckResult]) -> DoctorReport:
    return DoctorReport(origin, note, tuple(sorted(results, key=CheckResult.urgency)))


def _live(uri: str, guest_os: str | None, libvirt_version: str | None) -> DoctorReport | str:
    """The report on a daemon's domains, or why there is none."""
    try:
        with Connection(uri) as connection:
            domains = connection.domains()
            version = resolve_libvirt_version(libvirt_version, connection.version)
    except InputError as error:
        return error.problem
    if not domains:
        return f"the libvirt daemon at {uri} has no domains"
    results = [check_vm(d.xml, d.name, guest_os=guest_os, libvirt_version=version) for d in domains]
    note = f"checked the {len(results)} domain(s) defined at {uri} (libvirt {version})"
    return _report("libvirt", note, results)


def run_doctor(
    paths: Sequence[str | Path] = (),
    *,
    guest_os: str | None = None,
    uri: str | None = None,
    libvirt_version: str | None = None,
) -> DoctorReport:
    """Check the named VM definitions, or a libvirt daemon's domains, or the
    bundled examples. Unreadable files, and a daemon named with --connect
    that does not answer, raise InputError."""
    if paths:
        version = resolve_libvirt_version(libvirt_version)
        results = [check_vm(load_text(path), str(path), guest_os=guest_os, libvirt_version=version) for path in paths]
        return _report("files", f"checked {len(results)} VM definition(s) named on the command line", results)
    live = _live(uri or default_uri(), guest_os, libvirt_version)
    if isinstance(live, DoctorReport):
        return live
    if uri is not None:
        raise InputError(uri, None, live)
    examples = bundled_examples()
    results = [
        check_vm(e.read_text("utf-8"), e.name, guest_os=guest_os, libvirt_version=libvirt_version) for e in examples
    ]
    note = (
        f"found no VMs to check: {live}\n"
        f"Showing the {len(results)} bundled examples instead; `hvtune doctor FILE...` checks your own "
        "QEMU command lines or domain XML"
    )
    return _report("examples", note, results)
