"""Records several JSON reports share: a finding, and the host a plan or
comparison was made for."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Self

from hvtune.findings import Finding, Severity
from hvtune.formats.json_schema import ChangeObject


@dataclass(frozen=True)
class FindingRecord:
    """A finding: ``code`` is stable across releases, ``feature`` the
    property it is about (null: the whole configuration), ``fix`` the change
    that resolves it (null: none is safe without a decision), ``refused_by``
    the program that refuses the configuration because of it."""

    code: str
    severity: Severity
    feature: str | None
    message: str
    fix: ChangeObject | None
    refused_by: str | None

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
            **more,
        )


@dataclass(frozen=True)
class HostStatus:
    """The host judged against, and what it offers in one line."""

    name: str
    status: str
