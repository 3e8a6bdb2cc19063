"""Reports of hvtune compare: the stacks side by side, and each one's verdict."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from hvtune.catalog import load_catalog
from hvtune.compare import Comparison, Row
from hvtune.findings import Severity
from hvtune.formats.json_schema import ConfigObject
from hvtune.formats.qemu import render_cpu
from hvtune.jsonrecords import encode
from hvtune.report.records import FindingRecord, HostStatus
from hvtune.report.text import wrap
from hvtune.valuetypes import display


def _cell(row: Row, name: str) -> str:
    value = row.config.get(name)
    if value is None or (value is False and name != "kvm"):
        return "-"
    if value is True:
        return "on"
    return display(value)


def _grid(comparison: Comparison) -> list[str]:
    """Properties down, stacks across: what each one sets."""
    catalog = load_catalog()
    rows = comparison.rows
    names = sorted({n for row in rows for n in row.config.values}, key=catalog.sort_key)
    width = max(len(n) for n in [*names, "property"])
    columns = [max([len(row.name), *(len(_cell(row, n)) for n in names)]) for row in rows]
    header = "  ".join([f"{'property':<{width}}", *(f"{row.name:<{w}}" for row, w in zip(rows, columns, strict=True))])
    lines = [header.rstrip()]
    for name in names:
        cells = (f"{_cell(row, name):<{w}}" for row, w in zip(rows, columns, strict=True))
        lines.append("  ".join([f"{name:<{width}}", *cells]).rstrip())
    return lines


def _verdict_lines(row: Row, comparison: Comparison) -> list[str]:
    head = f"{row.title}: {row.verdict(comparison.goals)}"
    lines = [wrap(head, "    ", first="  ")]
    errors = [f for f in row.findings if f.severity is Severity.ERROR]
    if errors:
        lines.append(wrap(f"first error: {errors[0].message}", "      ", first="    "))
    if row.migration:
        lines.append(wrap("migration: " + "; ".join(f.code for f in row.migration), "      ", first="    "))
    if row.missing:
        lines.append(wrap("misses: " + ", ".join(row.missing), "      ", first="    "))
    warnings = [f.code for f in row.findings if f.severity is Severity.WARNING and f not in row.migration]
    if warnings:
        lines.append(wrap("warnings: " + ", ".join(warnings), "      ", first="    "))
    lines.append(wrap(f"({row.note})", "      ", first="    "))
    return lines


def compare_text(comparison: Comparison) -> str:
    goals = ", ".join(comparison.goals.names()) or "none"
    title = f"{comparison.guest.title} on host {comparison.host.name} (goals: {goals})"
    lines = [title, "", *_grid(comparison), ""]
    for row in comparison.rows:
        lines += _verdict_lines(row, comparison)
    return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class StackRecord:
    """What one stack (or hvtune's plan) configures, and how it fares:
    whether the guest starts, the plan's properties it lacks (``missing``),
    the findings that block migration, and every finding."""

    stack: str
    title: str
    note: str
    verdict: str
    starts: bool
    cpu: str
    config: ConfigObject
    missing: tuple[str, ...]
    migration: tuple[str, ...]
    findings: tuple[FindingRecord, ...]

    @classmethod
    def of(cls, row: Row, comparison: Comparison) -> StackRecord:
        return cls(
            stack=row.name,
            title=row.title,
            note=row.note,
            verdict=row.verdict(comparison.goals),
            starts=row.starts,
            cpu=render_cpu(row.config),
            config=ConfigObject.of(row.config),
            missing=row.missing,
            migration=tuple(f.code for f in row.migration),
            findings=tuple(FindingRecord.of(finding) for finding in row.findings),
        )


@dataclass(frozen=True)
class CompareDocument:
    """``hvtune compare --format json``: each stack's configuration for a
    guest OS on a host, given the goals, judged side by side."""

    SCHEMA: ClassVar[str] = "hvtune/compare/1"

    os: str
    host: HostStatus
    goals: tuple[str, ...]
    stacks: tuple[StackRecord, ...]


def compare_json(comparison: Comparison) -> str:
    return encode(
        CompareDocument(
            os=comparison.guest.name,
            host=HostStatus(comparison.host.name, comparison.host.status),
            goals=tuple(comparison.goals.names()),
            stacks=tuple(StackRecord.of(row, comparison) for row in comparison.rows),
        )
    )
