"""hvtune doctor: find the VMs this host can show, check each, and order
the results so that what matters most comes first.

What it looks at, in order: the files named; else every domain of the
libvirt daemon it can reach (``--connect URI``, else $LIBVIRT_DEFAULT_URI or
qemu:///system); else the bundled examples, saying why.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from hvtune.bundled import bundled_examples
from hvtune.checking import check_reading
from hvtune.errors import InputError, Refusal
from hvtune.files import load_text
from hvtune.findings import CheckResult, Severity
from hvtune.formats import read_text
from hvtune.host.remote import profile_from_libvirt
from hvtune.live import Connection, default_uri
from hvtune.report.text import plural
from hvtune.verdict import fails, result_verdict

if TYPE_CHECKING:
    from hvtune.host.profile import HostProfile
    from hvtune.plan import Goals


@dataclass(frozen=True)
class DoctorReport:
    """What doctor looked at (``files``, ``libvirt`` or ``examples``), what
    it says about that (a line, or two when it fell back to the examples),
    the host it judged against (None: none), and one result per VM, most
    urgent first; ``uri`` is the daemon named with --connect (None: this
    machine's), ``migratable`` whether migration matters."""

    origin: str
    note: str
    results: tuple[CheckResult, ...]
    host: HostProfile | None = None
    unusable: tuple[InputError, ...] = ()  # sources that are no usable VM definition
    uri: str | None = None
    migratable: bool = False


def check_vm(
    text: str,
    source: str,
    *,
    guest_os: str | None = None,
    libvirt_version: str | None = None,
    host: HostProfile | None = None,
    goals: Goals | None = None,
) -> CheckResult:
    """Check one VM definition as `hvtune check` does (on `host`, with the
    enlightenments a Windows guest's plan for `goals` has and it lacks). A
    definition QEMU or libvirt would refuse outright is a result with a
    problem (a VM that will not start); text that is no VM definition at
    all raises InputError."""
    try:
        reading = read_text(text, source=source)
    except Refusal as refused:
        return CheckResult(source, None, problem=refused.located, refused_by=refused.by, problem_line=refused.line)
    return check_reading(reading, guest_os=guest_os, libvirt_version=libvirt_version, host=host, goals=goals)


def run_doctor(
    paths: Sequence[str | Path] = (),
    *,
    guest_os: str | None = None,
    uri: str | None = None,
    libvirt_version: str | None = None,
    host: HostProfile | None = None,
    installed_libvirt: str | None = None,
    goals: Goals | None = None,
    ask_daemon: bool = False,
) -> DoctorReport:
    """Check the named VM definitions, or a libvirt daemon's domains, or the
    bundled examples, on `host` when one is given. A daemon named with
    --connect that does not answer raises InputError.

    libvirt rules are judged as `libvirt_version`, else: for files the
    host's release, else `installed_libvirt` (the caller says which libvirt
    is installed: this function runs no program); for a daemon its own
    release; for the examples the host's (None: the newest hvtune knows).
    `ask_daemon`: judge a daemon's domains on what its domcapabilities say
    (another machine, with no profile of its own)."""

    unusable: list[InputError] = []
    migratable = bool(goals and goals.migratable)

    def report(origin: str, note: str, results: list[CheckResult | None]) -> DoctorReport:
        def urgency(result: CheckResult) -> tuple[int, int, int, str]:
            judged = result_verdict(result, migratable=migratable)
            return (judged.rank, -result.errors, -result.count(Severity.WARNING), result.source)

        judged = sorted((r for r in results if r is not None), key=urgency)
        return DoctorReport(origin, note, tuple(judged), host, tuple(unusable), uri, migratable)

    def judge(read: Callable[[], str], source: str, version: str | None) -> CheckResult | None:
        """The result for one VM, or None when its definition is unusable
        (said in `unusable`; the others are still checked)."""
        try:
            return check_vm(read(), source, guest_os=guest_os, libvirt_version=version, host=host, goals=goals)
        except InputError as error:
            unusable.append(error)
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
            if ask_daemon:
                host = profile_from_libvirt(target, connection.version, connection.hyperv_capabilities())
    except InputError as error:
        if uri is not None:
            raise
        why = error.problem
    else:
        if domains:
            note = f"checked the {plural(len(domains), 'domain')} defined at {target} (libvirt {connected})"
            if ask_daemon:
                note += (
                    "\nIts host is known only from libvirt's domcapabilities; `hvtune host --save FILE` there and "
                    f"--host {target}=FILE here judge it on every fact"
                )
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
        "QEMU command lines, domain XML or KubeVirt manifests"
    )
    return report("examples", note, results)


@dataclass(frozen=True)
class Site:
    """A libvirt daemon doctor looks at (``uri`` None: this machine's
    default), the host to judge its VMs on, and whether to ask the daemon
    for that host instead (another machine with no profile given)."""

    uri: str | None
    host: HostProfile | None
    ask_daemon: bool = False


def run_fleet(
    paths: Sequence[str | Path],
    sites: Sequence[Site],
    *,
    guest_os: str | None = None,
    libvirt_version: str | None = None,
    installed_libvirt: str | None = None,
    goals: Goals | None = None,
) -> tuple[DoctorReport, ...]:
    """doctor on every site at once (files: on the first site's host), one
    report each in the order given."""
    run = partial(
        run_doctor,
        guest_os=guest_os,
        libvirt_version=libvirt_version,
        installed_libvirt=installed_libvirt,
        goals=goals,
    )
    if paths or len(sites) == 1:
        site = sites[0]
        return (run(paths, uri=site.uri, host=site.host, ask_daemon=site.ask_daemon and not paths),)
    with ThreadPoolExecutor(max_workers=min(8, len(sites))) as pool:
        futures = [pool.submit(run, uri=site.uri, host=site.host, ask_daemon=site.ask_daemon) for site in sites]
        return tuple(future.result() for future in futures)


def failing(reports: Sequence[DoctorReport], fail_on: str) -> bool:
    """Whether the user's own VMs (never the bundled examples) fail the gate
    `fail_on` (verdict.fails)."""
    return any(
        fails(result, fail_on, migratable=report.migratable)
        for report in reports
        if report.origin != "examples"
        for result in report.results
    )
