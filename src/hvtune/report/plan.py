"""Reports of hvtune plan: the plan's reasons, in text and JSON."""

from __future__ import annotations

import json
from typing import Any

from hvtune.formats.json import to_json
from hvtune.plan import Decision, Plan
from hvtune.report.text import wrap
from hvtune.valuetypes import display


def _heading(plan: Plan) -> str:
    goals = ", ".join(plan.goals.names()) or "none"
    return f"Plan for {plan.guest.title} on host {plan.host.name} (goals: {goals})"


def _decision_line(decision: Decision, width: int) -> str:
    label = decision.name if decision.value in (None, True) else f"{decision.name}={display(decision.value)}"
    return wrap(decision.reason, " " * (width + 4), first=f"  {label:<{width}}  ")


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


def _decision_json(decision: Decision) -> dict[str, Any]:
    return {
        "name": decision.name,
        "chosen": decision.chosen,
        "value": decision.value,
        "basis": decision.basis,
        "reason": decision.reason,
    }


def plan_json(plan: Plan, rendered: str, to: str) -> str:
    document = {
        "os": plan.guest.name,
        "host": {"name": plan.host.name, "status": plan.host.status},
        "goals": plan.goals.names(),
        "tsc_frequency": plan.goals.tsc_frequency,
        "config": to_json(plan.config),
        "rendered": {"format": to, "text": rendered},
        "decisions": [_decision_json(d) for d in plan.decisions],
        "notes": list(plan.notes),
    }
    return json.dumps(document, indent=2) + "\n"
