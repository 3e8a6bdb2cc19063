"""hvtune fix: apply the fixes of a configuration's findings to its text.

Fixes are config changes; each format turns them into the smallest edit of
its own text: libvirt XML through the patcher (everything outside the
touched elements stays byte-identical), a QEMU command line by editing only
the -cpu argument (and in it only the pieces that set a changed property),
hvtune's JSON by writing it anew. Fixing repeats until nothing fixable is
left, so a second run changes nothing.
"""

from __future__ import annotations

import difflib
import shlex
from collections.abc import Iterable
from dataclasses import dataclass

from hvtune.api import check_reading
from hvtune.errors import InputError
from hvtune.findings import ConfigChange, Finding, Severity
from hvtune.formats import Reading, read_text
from hvtune.formats import json as json_format
from hvtune.formats.libvirt_patch import patch_domain
from hvtune.formats.qemu import patch_cpu
from hvtune.valuetypes import Value

_ROUNDS = 5


@dataclass(frozen=True)
class FixOutcome:
    """The fixed text, which findings were fixed, and which remain."""

    source: str
    original: str
    fixed: str
    applied: tuple[Finding, ...]
    remaining: tuple[Finding, ...]

    @property
    def changed(self) -> bool:
        return self.fixed != self.original

    def diff(self, label: str | None = None) -> str:
        name = label or self.source
        lines = difflib.unified_diff(
            self.original.splitlines(keepends=True),
            self.fixed.splitlines(keepends=True),
            fromfile=f"a/{name}",
            tofile=f"b/{name}",
        )
        return "".join(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n" for line in lines)


def _merged(findings: Iterable[Finding]) -> ConfigChange:
    values: dict[str, Value | None] = {}
    for finding in findings:
        assert finding.fix is not None
        values.update(finding.fix.values)
    return ConfigChange(values)


def _quoted(value: str, original: str) -> str:
    if original[:1] in ("'", '"') or value != shlex.quote(value):
        return "'" + value.replace("'", "'\\''") + "'"
    return value


def apply_change(reading: Reading, text: str, change: ConfigChange) -> str:
    """`text` (what `reading` was read from) with `change` applied."""
    if reading.format == "libvirt":
        return patch_domain(text, change, source=reading.source)
    if reading.format == "json":
        return json_format.render(change.apply(reading.config))
    if reading.span is None:
        raise InputError(reading.source, None, "has no -cpu option to fix; add one")
    start, end = reading.span
    raw = text[start:end]
    cpu = shlex.split(raw)[0] if raw[:1] in ("'", '"') else raw
    return text[:start] + _quoted(patch_cpu(cpu, change.values), raw) + text[end:]


def fix_text(
    text: str,
    *,
    source: str,
    warnings_too: bool = False,
    libvirt_version: str | None = None,
    guest_os: str | None = None,
) -> FixOutcome:
    """Fix the error findings (and with `warnings_too` the warnings) that
    have a fix, until none is left."""
    fixed, applied = text, list[Finding]()
    wanted = {Severity.ERROR, Severity.WARNING} if warnings_too else {Severity.ERROR}
    for _ in range(_ROUNDS):
        reading = read_text(fixed, source=source)
        result = check_reading(reading, guest_os=guest_os, libvirt_version=libvirt_version)
        fixable = [f for f in result.findings if f.fix is not None and f.fix.values and f.severity in wanted]
        if not fixable:
            return FixOutcome(source, text, fixed, tuple(applied), result.findings)
        patched = apply_change(reading, fixed, _merged(fixable))
        if patched == fixed:
            return FixOutcome(source, text, fixed, tuple(applied), result.findings)
        fixed, applied = patched, applied + fixable
    final = check_reading(read_text(fixed, source=source), guest_os=guest_os, libvirt_version=libvirt_version)
    return FixOutcome(source, text, fixed, tuple(applied), final.findings)
