"""hvtune fix: apply the fixes of a configuration's findings, or a plan,
to its text.

Fixes are config changes; each format turns them into the smallest edit of
its own text: libvirt XML through the patcher (everything outside the
touched elements stays byte-identical), a QEMU command line by editing only
the -cpu argument (and in it only the pieces that set a changed property),
hvtune's JSON by writing it anew. Fixing repeats until nothing fixable is
left, so a second run changes nothing; applying a plan makes the Hyper-V
properties the plan's.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from hvtune.catalog import Property, load_catalog
from hvtune.checking import check_reading
from hvtune.config import HypervConfig
from hvtune.errors import InputError, Refusal
from hvtune.files import load_text
from hvtune.findings import ConfigChange, Finding, Rename, Severity
from hvtune.formats import Reading, format_named, read_text
from hvtune.live import Connection, backup_path
from hvtune.plan import Goals, make_plan
from hvtune.valuetypes import Value
from hvtune.writing import read_to_change, write_file

if TYPE_CHECKING:
    from hvtune.host.profile import HostProfile

_ROUNDS = 5


@dataclass(frozen=True)
class FixOutcome:
    """The fixed text, which findings were fixed (or which plan change was
    made), and which findings remain."""

    source: str
    format: str
    original: str
    fixed: str
    applied: tuple[Finding, ...]
    remaining: tuple[Finding, ...]
    plan_change: ConfigChange | None = None

    @property
    def changed(self) -> bool:
        return self.fixed != self.original

    def diff(self, label: str | None = None) -> str:
        name = label or self.source
        lines = difflib.unified_diff(
            self.original.splitlines(keepends=True),
            self.fixed.splitlines(keepends=True),
            fromfile=f"a/{name.lstrip('/')}",
            tofile=f"b/{name.lstrip('/')}",
        )
        return "".join(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n" for line in lines)


def _merged(findings: Iterable[Finding]) -> ConfigChange:
    values: dict[str, Value | None] = {}
    renames: dict[Rename, None] = {}
    for finding in findings:
        assert finding.fix is not None
        values.update(finding.fix.values)
        renames.update(dict.fromkeys(finding.fix.renames))
    return ConfigChange(values, tuple(renames))


def apply_change(reading: Reading[Any], text: str, change: ConfigChange) -> str:
    """`text` (what `reading` was read from) with `change` applied, by the
    reading's format."""
    return format_named(reading.format).patch(reading, text, change)


def _refused(refusal: Refusal) -> Finding:
    """A refused unknown name as a finding: fixed by its correction, if
    it has one; else left, for a person to decide what was meant."""
    correction = refusal.correction
    return Finding(
        code=f"{refusal.by}-unknown-name",
        severity=Severity.ERROR,
        feature=correction.name if correction else None,
        message=refusal.located,
        fix=ConfigChange({correction.name: correction.value}) if correction else None,
        refused_by=refusal.by,
        said=refusal.said,
    )


def fix_text(
    text: str,
    *,
    source: str,
    warnings_too: bool = False,
    libvirt_version: str | None = None,
    guest_os: str | None = None,
    host: HostProfile | None = None,
) -> FixOutcome:
    """Fix the error findings (and with `warnings_too` the warnings) that
    have a fix, until none is left. A misspelt property the program
    reading it refuses is corrected when one name is surely meant
    (Refusal.correction), and else left for a decision."""
    fixed, applied = text, list[Finding]()
    wanted = {Severity.ERROR, Severity.WARNING} if warnings_too else {Severity.ERROR}
    for last in (False,) * _ROUNDS + (True,):
        try:
            reading = read_text(fixed, source=source)
        except Refusal as refusal:
            if not refusal.unknown:
                raise
            if refusal.correction is None or last:
                return FixOutcome(source, refusal.by, text, fixed, tuple(applied), (_refused(refusal),))
            fixed, applied = refusal.correction.text, [*applied, _refused(refusal)]
            continue
        result = check_reading(reading, guest_os=guest_os, libvirt_version=libvirt_version, host=host)
        fixable = [f for f in result.findings if f.fix is not None and not f.fix.empty and f.severity in wanted]
        patched = apply_change(reading, fixed, _merged(fixable)) if fixable and not last else fixed
        if patched == fixed:
            return FixOutcome(source, reading.format, text, fixed, tuple(applied), result.findings)
        fixed, applied = patched, applied + fixable
    raise AssertionError("the last round returns")


def plan_change(current: HypervConfig, planned: HypervConfig) -> ConfigChange:
    """The change that makes `current`'s Hyper-V properties `planned`'s: the
    plan's values, and no Hyper-V property the plan leaves out. Neighbours
    the plan does not set (kvm, the CPU model) stay as they are."""
    catalog = load_catalog()
    values: dict[str, Value | None] = {
        name: None
        for name in current.values
        if isinstance(catalog.entry(name), Property) and name not in planned.values
    }
    values.update({name: value for name, value in planned.values.items() if current.values.get(name) != value})
    return ConfigChange(values)


def plan_text(
    text: str,
    *,
    source: str,
    goals: Goals,
    guest_os: str | None = None,
    libvirt_version: str | None = None,
    host: HostProfile,
) -> FixOutcome:
    """Apply to `text` the plan for its guest (`guest_os`, else the OS its
    libosinfo metadata names) on `host`."""
    reading = read_text(text, source=source)
    os_name = guest_os or reading.guest_os
    if os_name is None:
        raise InputError(source, None, "names no guest OS: give --os to plan for it")
    change = plan_change(reading.config, make_plan(os_name, host, goals).config)
    fixed = apply_change(reading, text, change) if change.values else text
    result = check_reading(
        read_text(fixed, source=source), guest_os=os_name, libvirt_version=libvirt_version, host=host
    )
    return FixOutcome(source, reading.format, text, fixed, (), result.findings, change)


@dataclass(frozen=True)
class Fixing:
    """What to do to a configuration: fix its findings' fixes (errors, and
    with `warnings_too` warnings), or with `plan_goals` apply the plan for
    those goals; judged for the guest OS, libvirt release and host given."""

    warnings_too: bool = False
    guest_os: str | None = None
    libvirt_version: str | None = None
    host: HostProfile | None = None
    plan_goals: Goals | None = None

    def outcome(self, text: str, source: str, connected: str | None = None) -> FixOutcome:
        """The fixed `text`, judged for `libvirt_version`, else `connected`
        (the release of the daemon it came from), else the host's, else the
        newest hvtune knows."""
        version = self.libvirt_version or connected or (self.host.libvirt_version if self.host else None)
        if self.plan_goals is None:
            return fix_text(
                text,
                source=source,
                warnings_too=self.warnings_too,
                guest_os=self.guest_os,
                libvirt_version=version,
                host=self.host,
            )
        if self.host is None:
            raise InputError(source, None, "a plan needs a host (--host, or this machine)")
        return plan_text(
            text, source=source, goals=self.plan_goals, guest_os=self.guest_os, libvirt_version=version, host=self.host
        )


@dataclass(frozen=True)
class LiveFix:
    """A fix of a domain's persistent definition, whether it was applied,
    where the definition it replaced was saved (None: not applied), and
    whether the domain runs (then the change applies at next boot)."""

    outcome: FixOutcome
    applied: bool
    running: bool
    backup: str | None = None


def fix_live(uri: str, name: str, fixing: Fixing, *, apply: bool) -> LiveFix:
    """Fix a domain's persistent definition; with `apply`, and if the
    definition is still the one read, save it to a file
    (hvtune.live.backup_path) and redefine the domain. The running instance
    is never touched."""
    with Connection(uri) as connection:
        (domain,) = connection.domains((name,))
        outcome = fixing.outcome(domain.xml, name, connected=connection.version)
        if not (apply and outcome.changed):
            return LiveFix(outcome, False, domain.active)
        connection.require_unchanged(domain)
        saved = write_file(str(backup_path(domain.name)), domain.xml)
        connection.define(outcome.fixed)
    return LiveFix(outcome, True, domain.active, saved.path)


@dataclass(frozen=True)
class FileFix:
    """A fix of a file: where the result went (None: nowhere) and where the
    original was kept (None: not needed)."""

    outcome: FixOutcome
    written: str | None
    backup: str | None


def fix_file(path: str, fixing: Fixing, *, output: str | None = None, write: bool = True) -> FileFix:
    """Fix a file: in place (keeping PATH.bak) when something changes, into
    `output`, or (without `write`) nowhere. An `output` that leads to the
    file itself is a fix in place. How files are written: hvtune.writing."""
    if not write:
        return FileFix(fixing.outcome(load_text(path), path), None, None)
    with read_to_change(path) as original:
        outcome = fixing.outcome(original.text, path)
        if not outcome.changed and (output is None or original.names(output)):
            return FileFix(outcome, None, None)
        written = write_file(output or path, outcome.fixed, original=original)
    return FileFix(outcome, written.path, written.backup)
