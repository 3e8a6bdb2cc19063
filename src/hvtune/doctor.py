"""hvtune doctor: find the VMs this host can show, check each, and order
the results so that what matters most comes first.

What it looks at, in order: the files named; else every domain of the
libvirt daemon it can reach (``--connect URI``, else $LIBVIRT_DEFAULT_URI or
qemu:///system); else the bundled examples, saying why.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from hvtune.bundled import bundled_examples
from hvtune.catalog import load_catalog
from hvtune.checking import check_reading
from hvtune.errors import InputError, Refusal
from hvtune.files import load_text
from hvtune.findings import CheckResult
from hvtune.formats import read_text
from hvtune.live import Connection, default_uri
from hvtune.plan import make_plan, missed_benefits
from hvtune.report.text import plural

if TYPE_CHECKING:
    from hvtune.host.profile import HostProfile


@dataclass(frozen=True)
class DoctorReport:
    """What doctor looked at (``files``, ``libvirt`` or ``examples``), what
    it says about that (a line, or two when it fell back to the examples),
    the host it judged against (None: none), and one result per VM, most
    urgent first."""

    origin: str
    note: str
    results: tuple[CheckResult, ...]
    host: HostProfile | None = None
    unusable: tuple[str, ...] = ()  # one line each: sources that are no usable VM definition


def check_vm(
    text: str,
    source: str,
    *,
    guest_os: str | None = None,
    libvirt_version: str | None = None,
    host: HostProfile | None = None,
) -> CheckResult:
    """Check one VM definition, and on a known host, for a known Windows
    guest, add the benefits it misses compared with its plan. A definition
    QEMU or libvirt would refuse outright is a result with a problem (a VM
    that will not start); text that is no VM definition at all raises
    InputError."""
    try:
        reading = read_text(text, source=source)
    except Refusal as refused:
        return CheckResult(source, None, problem=refused.located, refused_by=refused.by)
    result = check_reading(reading, guest_os=guest_os, libvirt_version=libvirt_version, host=host)
    guest = load_catalog().guest(guest_os or reading.guest_os or "")
    if host is None or guest is None or guest.family != "windows" or result.errors:
        return result
    covered = {name for finding in result.findings if finding.fix for name in finding.fix.values}
    missed = missed_benefits(reading.config, make_plan(guest.name, host), covered=covered)
    return replace(result, findings=(*result.findings, missed)) if missed else result


def run_doctor(
    paths: Sequence[str | Path] = (),
    *,
    guest_os: str | None = None,
    uri: str | None = None,
    libvirt_version: str | None = None,
    host: HostProfile | None = None,
    installed_libvirt: str | None = None,
) -> DoctorReport:
    """Check the named VM definitions, or a libvirt daemon's domains, or the
    bundled examples, on `host` when one is given. A daemon named with
    --connect that does not answer raises InputError.

    libvirt rules are judged as `libvirt_version`, else: for files the
    host's release, else `installed_libvirt` (the caller says which libvirt
    is installed: this function runs no program); for a daemon its own
    release; for the examples the host's (None: the newest hvtune knows)."""

    unusable: list[str] = []

    def report(origin: str, note: str, results: list[CheckResult | None]) -> DoctorReport:
        judged = sorted((r for r in results if r is not None), key=CheckResult.urgency)
        return DoctorReport(origin, note, tuple(judged), host, tuple(unusable))

    def judge(read: Callable[[], str], source: str, version: str | None) -> CheckResult | None:
        """The result for one VM, or None when its definition is unusable
        (said in `unusable`; the others are still checked)."""
        try:
            return check_vm(read(), source, guest_os=guest_os, libvirt_version=version, host=host)
        except InputError as error:
            unusable.append(str(error))
            return None

    host_libvirt = host.libvirt_version if host else None
    if paths:
        version = libvirt_version or host_libvirt or installed_libvirt
        results = [judge(partial(load_text, path), str(path), version) for path in paths]
        note = f"checked {plural(len(paths), 'VM definition')} named on the command line"
        return report("files", note, results)
    target = uri or default_uri()
    try:
        with Connection(target) as connection:
            domains = connection.domains()
            connected = libvirt_version or connection.version
    except InputError as error:
        if uri is not None:
            raise
        why = error.problem
    else:
        if domains:
            note = f"checked the {plural(len(domains), 'domain')} defined at {target} (libvirt {connected})"
            return report("libvirt", note, [judge(partial(str, d.xml), d.name, connected) for d in domains])
        if uri is not None:
            raise InputError(uri, None, f"the libvirt daemon at {uri} has no domains")
        why = f"the libvirt daemon at {target} has no domains"
    examples = bundled_examples()
    version = libvirt_version or host_libvirt
    results = [judge(partial(e.read_text, "utf-8"), e.name, version) for e in examples]
    note = (
        f"found no VMs to check: {why}\n"
        f"Showing the {len(results)} bundled examples instead; `hvtune doctor FILE...` checks your own "
        "QEMU command lines or domain XML"
    )
    return report("examples", note, results)
