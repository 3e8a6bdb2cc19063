"""The catalog's judgement of what findings cost: what a Windows guest
loses without each enlightenment (``[[cost]]``, biggest loss first) and
which verdict a warning gives a VM (``[[impact]]``)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType
from typing import Any


class Impact(StrEnum):
    """What a finding means for a VM, most urgent first."""

    START = "start"  # it will not start
    MIGRATION = "migration"  # it will not live-migrate
    SPEED = "speed"  # it runs slower than it could
    RISK = "risk"  # it may fail later or elsewhere
    NOTE = "note"  # worth knowing, no harm


FIGURE_KINDS = ("report", "measured", "lab")


@dataclass(frozen=True)
class Figure:
    """A number behind a cost: ``kind`` is report (a user's report),
    measured (a published measurement) or lab (hvtune's own, relative)."""

    text: str
    source: str
    kind: str


@dataclass(frozen=True)
class Cost:
    """What a guest loses without `property`; ``rank`` 0 is the biggest loss."""

    property: str
    rank: int
    loss: str
    effect: str
    source: str
    figures: tuple[Figure, ...]

    def describe(self) -> str:
        """The effect and every figure with its source, as one sentence."""
        figures = "; ".join(
            f"{figure.text} ({'relative only: ' if figure.kind == 'lab' else ''}{figure.source})"
            for figure in self.figures
        )
        return f"{self.effect} ({self.source})" + (f"; {figures}" if figures else "")


@dataclass(frozen=True)
class ImpactFact:
    code: str
    impact: Impact
    why: str


@dataclass(frozen=True)
class ImpactTable:
    costs: Mapping[str, Cost]  # by property, biggest loss first
    impacts: Mapping[str, ImpactFact]  # by finding code

    def impact(self, code: str) -> Impact:
        """The impact of a warning with `code` (not listed: a risk)."""
        fact = self.impacts.get(code)
        return fact.impact if fact else Impact.RISK

    def rank(self, name: str | None) -> int:
        """How big the loss without property `name` is (0: the biggest)."""
        cost = self.costs.get(name or "")
        return cost.rank if cost else len(self.costs)


def read_impact_table(costs: list[dict[str, Any]], impacts: list[dict[str, Any]]) -> ImpactTable:
    """The table from the catalog's ``[[cost]]`` and ``[[impact]]`` lists;
    ValueError names what is wrong."""
    by_property: dict[str, Cost] = {}
    for rank, raw in enumerate(costs):
        figures = tuple(Figure(**figure) for figure in raw.get("figures", ()))
        if any(figure.kind not in FIGURE_KINDS for figure in figures):
            raise ValueError(f"cost of {raw['property']}: a figure's kind is not one of {FIGURE_KINDS}")
        cost = Cost(raw["property"], rank, raw["loss"], raw["effect"], raw["source"], figures)
        if by_property.setdefault(cost.property, cost) is not cost:
            raise ValueError(f"cost of {cost.property} given twice")
    by_code: dict[str, ImpactFact] = {}
    for raw in impacts:
        fact = ImpactFact(raw["code"], Impact(raw["impact"]), raw["why"])
        if fact.impact is Impact.START or by_code.setdefault(fact.code, fact) is not fact:
            raise ValueError(f"impact of {fact.code}: given twice, or 'start' (errors always are)")
    return ImpactTable(MappingProxyType(by_property), MappingProxyType(by_code))
