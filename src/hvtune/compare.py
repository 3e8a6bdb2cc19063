"""hvtune compare: what each management stack would configure for a guest
on a host (data/stacks.toml), run through hvtune's checks on that host,
beside hvtune's plan: which would not start, which miss benefits, which
break migration."""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib.resources import files
from typing import Any

from hvtune.catalog import Guest, Property, load_catalog
from hvtune.checking import check
from hvtune.config import HypervConfig
from hvtune.findings import Finding, Severity
from hvtune.host.profile import HostProfile
from hvtune.impact_table import Impact
from hvtune.plan import PLAN_MODEL, Goals, Plan, make_plan
from hvtune.valuetypes import Value
from hvtune.verdict import impact_of


@dataclass(frozen=True)
class Stack:
    """One management stack's rules, as data/stacks.toml states them."""

    name: str
    title: str
    note: str
    settings: tuple[dict[str, Any], ...]
    host_aware: bool = False
    machine: str | None = None
    builds: Mapping[str, Any] = field(default_factory=dict)  # how it builds -cpu ([stack.builds])


@cache
def load_stacks() -> tuple[Stack, ...]:
    raw = tomllib.loads(files("hvtune").joinpath("data/stacks.toml").read_text("utf-8"))
    return tuple(
        Stack(
            name=stack["name"],
            title=stack["title"],
            note=stack["note"],
            settings=tuple(stack["set"]),
            host_aware=stack.get("host_aware", False),
            machine=stack.get("machine"),
            builds=stack.get("builds", {}),
        )
        for stack in raw["stack"]
    )


def stack_named(name: str) -> Stack:
    """The stack called `name` in data/stacks.toml."""
    return next(stack for stack in load_stacks() if stack.name == name)


def machine_version(version: str) -> tuple[int, ...]:
    """A machine-type version with Proxmox's revision: "11.0+pve2" -> (11, 0, 2)."""
    base, _, revision = version.partition("+pve")
    return (*(int(part) for part in base.split(".")), int(revision or 0))


def setting_applies(
    setting: Mapping[str, Any], *, windows: int, machine: tuple[int, ...] | None, vendor: str | None, gpu: bool
) -> bool:
    """Whether a stack writes `setting` for a guest of Windows generation
    `windows` (0: not Windows) on machine-type version `machine` (None:
    unknown) on a host of CPU `vendor`, with GPU passthrough or not."""
    if windows < setting.get("windows", 0):
        return False
    if "machine" in setting and (machine is None or machine < machine_version(setting["machine"])):
        return False
    if "before_machine" in setting and (machine is None or machine >= machine_version(setting["before_machine"])):
        return False
    if "host_vendor" in setting and vendor != setting["host_vendor"]:
        return False
    return gpu or not setting.get("gpu", False)


def _applies(setting: dict[str, Any], stack: Stack, guest: Guest, host: HostProfile, goals: Goals) -> bool:
    machine = machine_version(stack.machine) if stack.machine else None
    return guest.windows is not None and setting_applies(
        setting, windows=guest.windows, machine=machine, vendor=host.vendor, gpu=goals.gpu_passthrough
    )


def stack_config(stack: Stack, guest: Guest, host: HostProfile, goals: Goals) -> HypervConfig:
    """What `stack` writes for `guest` on `host`."""
    values: dict[str, Value] = {
        s["property"]: s.get("value", True) for s in stack.settings if _applies(s, stack, guest, host, goals)
    }
    if stack.host_aware:
        values = {name: value for name, value in values.items() if host.support.get(name, True)}
        while lacking := [name for name in values if _lacks_dependency(name, values)]:
            for name in lacking:
                values.pop(name)
    return HypervConfig(model=PLAN_MODEL, values=values)


def _lacks_dependency(name: str, values: dict[str, Value]) -> bool:
    catalog = load_catalog()
    if name not in catalog.feature_bits:
        return False
    return any(need.name not in values for need in catalog.requirements((name,)))


@dataclass(frozen=True)
class Row:
    """One stack (or hvtune's plan) on one host."""

    name: str
    title: str
    note: str
    config: HypervConfig
    findings: tuple[Finding, ...]
    missing: tuple[str, ...]  # what the plan has and this configuration lacks

    @property
    def starts(self) -> bool:
        return not any(f.severity is Severity.ERROR for f in self.findings)

    @property
    def migration(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if impact_of(f) is Impact.MIGRATION)

    def verdict(self, goals: Goals) -> str:
        """will not start, blocks migration (when the goals ask for it),
        misses benefits, or ok."""
        if not self.starts:
            return "will not start"
        if self.migration and goals.migratable:
            return "blocks migration"
        if self.missing:
            return "misses benefits"
        return "ok"


@dataclass(frozen=True)
class Comparison:
    guest: Guest
    host: HostProfile
    goals: Goals
    plan: Plan
    rows: tuple[Row, ...]


def _row(name: str, title: str, note: str, config: HypervConfig, plan: Plan, guest: Guest) -> Row:
    found = check(config, host=plan.host, guest_os=guest.name)
    catalog = load_catalog()
    planned = [d.name for d in plan.decisions if d.chosen and isinstance(catalog.entry(d.name), Property)]
    missing = tuple(name for name in planned if not config.enabled(name) and config.get(name) is None)
    return Row(name, title, note, config, tuple(found), missing)


def compare(guest_os: str, host: HostProfile, goals: Goals | None = None) -> Comparison:
    """Every stack's configuration for the guest on the host, and the plan."""
    goals = goals or Goals()
    plan = make_plan(guest_os, host, goals)
    guest = plan.guest
    rows = [
        _row(stack.name, stack.title, stack.note, stack_config(stack, guest, host, goals), plan, guest)
        for stack in load_stacks()
    ]
    rows.append(_row("hvtune", "hvtune plan", "this plan", plan.config, plan, guest))
    return Comparison(guest, host, goals, plan, tuple(rows))
