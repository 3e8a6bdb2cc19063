"""What findings mean for a VM: one verdict on doctor's scale, most
urgent first — WILL NOT START > WILL NOT MIGRATE (when migration matters) >
SLOW > AT RISK > OK — and the order findings are told in. Which verdict a
warning gives is the catalog's (``[[impact]]``), with its reason."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from enum import StrEnum

from hvtune.catalog import load_catalog
from hvtune.findings import CheckResult, Finding, Severity
from hvtune.impact_table import Impact


class Verdict(StrEnum):
    """A VM's verdict; the order is the urgency."""

    WILL_NOT_START = "will-not-start"
    WILL_NOT_MIGRATE = "will-not-migrate"
    SLOW = "slow"
    AT_RISK = "at-risk"
    OK = "ok"

    @property
    def rank(self) -> int:
        return list(Verdict).index(self)

    @property
    def words(self) -> str:
        return self.value.replace("-", " ").upper()


_BY_IMPACT = {
    Impact.START: Verdict.WILL_NOT_START,
    Impact.MIGRATION: Verdict.WILL_NOT_MIGRATE,
    Impact.SPEED: Verdict.SLOW,
    Impact.RISK: Verdict.AT_RISK,
    Impact.NOTE: Verdict.OK,
}


def impact_of(finding: Finding) -> Impact:
    """An error stops the VM and a note harms nothing; a warning's impact
    is the catalog's for its code."""
    if finding.severity is Severity.ERROR:
        return Impact.START
    if finding.severity is Severity.INFO:
        return Impact.NOTE
    return load_catalog().impacts.impact(finding.code)


def verdict_of(findings: Iterable[Finding], *, refused: bool = False, migratable: bool = False) -> Verdict:
    """The most urgent verdict the findings give (`refused`: QEMU or libvirt
    refuses the configuration outright). A finding that blocks migration
    makes the VM WILL NOT MIGRATE when migration matters (`migratable`),
    else AT RISK."""
    if refused:
        return Verdict.WILL_NOT_START
    verdicts = [_BY_IMPACT[impact_of(finding)] for finding in findings]
    if not migratable:
        verdicts = [Verdict.AT_RISK if v is Verdict.WILL_NOT_MIGRATE else v for v in verdicts]
    return min(verdicts, key=lambda v: v.rank, default=Verdict.OK)


def result_verdict(result: CheckResult, *, migratable: bool = False) -> Verdict:
    """The verdict on one checked VM (refused outright: WILL NOT START)."""
    return verdict_of(result.findings, refused=bool(result.problem), migratable=migratable)


def fails(result: CheckResult, fail_on: str, *, migratable: bool = False) -> bool:
    """Whether one result fails the gate `fail_on`: ``error`` a VM that will
    not start, ``slow`` also one that will not migrate (when that matters)
    or is slow, ``warning`` any warning."""
    if fail_on == "warning":
        return bool(result.errors or any(f.severity is Severity.WARNING for f in result.findings))
    limit = Verdict.SLOW if fail_on == "slow" else Verdict.WILL_NOT_START
    return result_verdict(result, migratable=migratable).rank <= limit.rank


def _loss_subject(finding: Finding) -> str | None:
    """The property whose absence a speed finding is about: a missing
    enlightenment's own; for any other, the biggest loss its fix makes
    good (synic without stimer: hv-stimer), else its feature."""
    table = load_catalog().impacts
    if finding.code == "missing-benefit":
        return finding.feature
    names = [*(finding.fix.values if finding.fix else ()), finding.feature]
    return min((name for name in names if name), key=table.rank, default=None)


def loss_rank(finding: Finding) -> int:
    """How big the loss a speed finding names is (0: the biggest)."""
    return load_catalog().impacts.rank(_loss_subject(finding))


def biggest_loss(findings: Sequence[Finding]) -> str | None:
    """The biggest loss among the speed findings, named as the catalog names
    it with the property (``idle host CPU load (hv-stimer)``)."""
    slow = [finding for finding in findings if impact_of(finding) is Impact.SPEED]
    if not slow:
        return None
    first = min(slow, key=loss_rank)
    cost = load_catalog().impacts.costs.get(_loss_subject(first) or "")
    return f"{cost.loss} ({cost.property})" if cost else first.code


_IMPACT_ORDER = list(Impact)


def in_telling_order(findings: Sequence[Finding]) -> list[Finding]:
    """Errors first in the order QEMU meets them, then warnings by impact
    (migration, speed by the size of the loss, risk), then notes."""

    def key(finding: Finding) -> tuple[int, int, int]:
        impact = impact_of(finding)
        loss = loss_rank(finding) if impact is Impact.SPEED else 0
        return (finding.severity.rank, _IMPACT_ORDER.index(impact), loss)

    return sorted(findings, key=key)
