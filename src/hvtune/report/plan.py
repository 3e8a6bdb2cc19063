"""Reports of hvtune plan: the plan's reasons, in text and JSON."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Literal, cast

from hvtune.formats.json_schema import ConfigObject
from hvtune.jsonrecords import encode
from hvtune.plan import Decision, Plan
from hvtune.report.records import HostStatus
from hvtune.report.text import wrap
from hvtune.valuetypes import Value, display


def _heading(plan: Plan) -> str:
    goals = ", ".join(plan.goals.names()) or "none"
    return f"Plan for {plan.guest.title} on host {plan.host.name} (goals: {goals})"


def _decision_line(decision: Decision, width: int) -> str:
    label = decision.name if decision.value in (None, True) else f"{decision.name}={display(decision.value)}"
    return wrap(decision.reason, " " * (width + 4), first=f"  {label:<{width}}  ")


def empty_plan_note(plan: Plan) -> str | None:
    """Why the plan enables nothing (the host lacks Hyper-V emulation, the
    guest does not use it), in one line; None when it enables something."""
    if plan.config.hyperv_enabled:
        return None
    reasons = [_first_sentence(note.removeprefix(f"{plan.host.name}: ")) for note in plan.notes]
    reasons = reasons or ["`--explain` gives the reason for each property"]
    return f"no enlightenment planned for {plan.guest.title} on host {plan.host.name}: {' '.join(reasons)}"


def _first_sentence(text: str) -> str:
    head, dot, _ = text.partition(". ")
    return head + "." if dot else text


def explain_text(plan: Plan) -> str:
    chosen = [d for d in plan.decisions if d.chosen]
    left = [d for d in plan.decisions if not d.chosen]
    width = max((len(d.name) for d in plan.decisions), default=0) + 6
    lines = [_heading(plan), ""]
    lines += ["Chosen:", *(_decision_line(d, width) for d in chosen)] if chosen else ["Chosen: nothing"]
    lines += ["", "Left out:", *(_decision_line(d, width) for d in left)]
    if plan.notes:
        lines += ["", "Notes:", *(wrap(note, "    ", first="  - ") for note in plan.notes)]
    return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class DecisionRecord:
    """Why a property is in the plan (``value`` set) or left out (null):
    ``basis`` names the kind of fact that decided (advice, os, host,
    version, goal or dependency)."""

    name: str
    chosen: bool
    value: Value | None
    basis: str
    reason: str

    @classmethod
    def of(cls, decision: Decision) -> DecisionRecord:
        return cls(decision.name, decision.chosen, decision.value, decision.basis, decision.reason)


OutputFormat = Literal["qemu", "libvirt", "proxmox", "json"]


@dataclass(frozen=True)
class Rendered:
    """The plan written in the format ``--to`` asked for."""

    format: OutputFormat
    text: str


@dataclass(frozen=True)
class PlanDocument:
    """``hvtune plan --format json``: the plan for a guest OS on a host,
    given the goals, with a reason for every property."""

    SCHEMA: ClassVar[str] = "hvtune/plan/1"

    os: str
    host: HostStatus
    goals: tuple[str, ...]
    tsc_frequency: int | None
    config: ConfigObject
    rendered: Rendered
    decisions: tuple[DecisionRecord, ...]
    notes: tuple[str, ...]


def plan_json(plan: Plan, rendered: str, to: str) -> str:
    return encode(
        PlanDocument(
            os=plan.guest.name,
            host=HostStatus(plan.host.name, plan.host.status),
            goals=tuple(plan.goals.names()),
            tsc_frequency=plan.goals.tsc_frequency,
            config=ConfigObject.of(plan.config),
            rendered=Rendered(cast(OutputFormat, to), rendered),
            decisions=tuple(DecisionRecord.of(d) for d in plan.decisions),
            notes=tuple(plan.notes),
        )
    )
