"""Findings: what a check says about a config, and how to fix it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any, NamedTuple

from hvtune.config import FrozenValues, HypervConfig
from hvtune.valuetypes import Value, display

if TYPE_CHECKING:
    from hvtune.formats.reading import Reading


class Severity(StrEnum):
    """How bad a finding is. Errors stop the VM (or the tool that defines it)."""

    ERROR = "error"
    WARNING = "warning"
    INFO = "info"

    @property
    def rank(self) -> int:
        return _RANK[self]


_RANK = {Severity.ERROR: 0, Severity.WARNING: 1, Severity.INFO: 2}


class Rename(NamedTuple):
    """A name written that the program reading it does not know, and the
    one name it surely means, both in the format's own spelling (a
    misspelt libvirt ``<hyperv>`` child: ``stimmer`` -> ``stimer``)."""

    written: str
    meant: str


@dataclass(frozen=True)
class ConfigChange:
    """A fix, as values to set on a config (None removes a value), and
    names to correct where they are written.

    Keys are the canonical names used everywhere else: QEMU property names and
    the neighbours (``kvm``, ``tsc-frequency``, ...). A rename is no value:
    the text keeps what it wrote under the misspelt name (its state, value
    and children) and only the name changes; the format that read the name
    writes it (the libvirt patcher renames the element).
    """

    values: Mapping[str, Value | None] = field(default_factory=dict)
    renames: tuple[Rename, ...] = ()

    def __post_init__(self) -> None:
        if not isinstance(self.values, FrozenValues):
            object.__setattr__(self, "values", FrozenValues(self.values))

    @property
    def empty(self) -> bool:
        """Whether the change changes nothing."""
        return not self.values and not self.renames

    def apply(self, config: HypervConfig) -> HypervConfig:
        return config.with_values(self.values)

    def describe(self) -> str:
        """Human text, e.g. ``set hv-time=on, remove hv-reset``."""
        renames = [f"rename {rename.written} to {rename.meant}" for rename in self.renames]
        sets = [f"{name}={display(value)}" for name, value in self.values.items() if value is not None]
        removes = [name for name, value in self.values.items() if value is None]
        parts = renames
        if sets:
            parts.append("set " + ", ".join(sets))
        if removes:
            parts.append("remove " + ", ".join(removes))
        return "; ".join(parts)


@dataclass(frozen=True)
class Finding:
    """One problem or risk in a config.

    ``code`` is stable across releases; ``feature`` is the QEMU property the
    finding is about (None when it concerns the whole config); ``fix`` is the
    config change that resolves it, or None when no change is safe without
    knowing more (the message then says what to decide); ``refused_by`` names
    the program that refuses the configuration because of it (``libvirt``
    when it will not define or translate the domain, ``qemu`` when the VM will
    not start); ``said`` is that program's own line when ``message`` adds to
    it (an explanation after it), so that it can be compared with what the
    program really printed; ``host`` is the problem of the host itself when
    the finding comes from it, in words that hold for every guest there (so
    that a report on many guests can say it once).
    """

    code: str
    severity: Severity
    feature: str | None
    message: str
    fix: ConfigChange | None = None
    refused_by: str | None = None
    said: str | None = None
    host: str | None = None

    @property
    def refusal_line(self) -> str:
        """The refusing program's own line, as it prints it."""
        return self.said if self.said is not None else self.message


def without_repeats(findings: list[Finding]) -> list[Finding]:
    """Drop a finding that repeats an earlier one's severity, feature and
    fix: one problem seen by two programs (libvirt's "'stimer' hyperv
    feature requires 'hypervclock' timer" and QEMU's "... requires Hyper-V
    clocksources (hv-time)") is reported once, as the first program says it."""
    seen: set[tuple[Severity, str | None, ConfigChange]] = set()
    kept = []
    for finding in findings:
        if finding.fix is not None:
            key = (finding.severity, finding.feature, finding.fix)
            if key in seen:
                continue
            seen.add(key)
        kept.append(finding)
    return kept


def most_important_first(findings: list[Finding]) -> list[Finding]:
    """Errors, then warnings, then info; stable within a severity, so the
    first error stays the one QEMU would print."""
    if len(findings) < 2:
        return findings
    return sorted(findings, key=lambda f: _RANK[f.severity])


@dataclass(frozen=True)
class CheckResult:
    """The findings for one source, or why the source could not be used.

    ``problem`` is set when QEMU or libvirt (``refused_by``) would refuse the
    configuration outright (on line ``problem_line`` of the source, when
    known); the config is then None. ``format`` is what the
    source was written in (``qemu``, ``libvirt``, ``json``), so that fixes can
    be told in its spelling; ``reading`` is what the findings were made
    from, so that they can be placed on the lines of its text
    (hvtune.locating).
    """

    source: str
    config: HypervConfig | None
    findings: tuple[Finding, ...] = ()
    problem: str | None = None
    format: str = "qemu"
    refused_by: str | None = None
    problem_line: int | None = None
    reading: Reading[Any] | None = field(default=None, compare=False, repr=False)

    def count(self, severity: Severity) -> int:
        return sum(1 for finding in self.findings if finding.severity is severity)

    @property
    def errors(self) -> int:
        return self.count(Severity.ERROR) + (1 if self.problem else 0)

    @property
    def worst(self) -> Severity | None:
        if self.problem:
            return Severity.ERROR
        return min((f.severity for f in self.findings), key=lambda s: s.rank, default=None)
