"""Records several JSON reports share: a finding, and the host a plan or
comparison was made for."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Self

from hvtune.findings import Finding, Severity
from hvtune.formats.json_schema import ChangeObject
from hvtune.impact_table import Impact
from hvtune.verdict import impact_of


@dataclass(frozen=True)
class FindingRecord:
    """A finding: ``code`` is stable across releases, ``feature`` the
    property it is about (null: the whole configuration), ``fix`` the change
    that resolves it (null: none is safe without a decision), ``refused_by``
    the program that refuses the configuration because of it, ``impact``
    what it means for the VM (start, migration, speed, risk, note: the
    catalog's [[impact]]), ``host`` the problem of the host itself when the
    finding comes from it (the same words for every VM there)."""

    code: str
    severity: Severity
    feature: str | None
    message: str
    fix: ChangeObject | None
    refused_by: str | None
    impact: Impact
    host: str | None

    @classmethod
    def of(cls, finding: Finding, **more: Any) -> Self:
        """The record of `finding`; `more` fills a subclass's own fields."""
        fix = ChangeObject.of(finding.fix) if finding.fix else None
        return cls(
            code=finding.code,
            severity=finding.severity,
            feature=finding.feature,
            message=finding.message,
            fix=fix,
            refused_by=finding.refused_by,
            impact=impact_of(finding),
            host=finding.host,
            **more,
        )


@dataclass(frozen=True)
class HostStatus:
    """The host judged against, and what it offers in one line."""

    name: str
    status: str
