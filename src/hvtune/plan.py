"""hvtune plan: the best Hyper-V setup for a guest OS on a host, given the
user's goals, with a reason for every property chosen or left out.

A plan starts from the catalog's advice (recommended for every Windows
guest; nested for guests that run a hypervisor; situational when its
condition holds), then keeps only what the guest's Windows generation uses
and what the host's kernel, CPU, QEMU and libvirt support, then completes
the dependencies QEMU and libvirt enforce (dropping a feature whose
dependency cannot be had). The result always passes `hvtune check` on its
host without an error.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from hvtune.catalog import Entry, Guest, Neighbour, Property, load_catalog
from hvtune.config import HypervConfig
from hvtune.errors import InputError
from hvtune.findings import ConfigChange, Finding, Severity
from hvtune.host.profile import HostProfile
from hvtune.releases import parse_release
from hvtune.valuetypes import VALUE_TYPES, Value

PLAN_MODEL = "host"  # the CPU model plans write: the host's, as a guest that runs Windows wants


@dataclass(frozen=True)
class Goals:
    """What the user wants besides speed. ``tsc_frequency`` (Hz) pins the
    guest's TSC frequency, which makes reenlightenment and invtsc migratable."""

    migratable: bool = False
    nested: bool = False  # Hyper-V, WSL2 or VBS inside the guest
    gpu_passthrough: bool = False
    overcommit: bool = False
    tsc_frequency: int | None = None

    def __post_init__(self) -> None:
        if self.tsc_frequency is not None:
            entry = load_catalog().entry("tsc-frequency")
            assert entry is not None
            problem = VALUE_TYPES[entry.type].problem(self.tsc_frequency)
            if problem:
                raise InputError("--tsc-frequency", None, problem)

    def names(self) -> list[str]:
        chosen = [("migratable", self.migratable), ("nested", self.nested)]
        chosen += [("gpu-passthrough", self.gpu_passthrough), ("overcommit", self.overcommit)]
        return [name for name, on in chosen if on]

    def value(self, goal: str) -> bool | int | None:
        """A goal by the catalog's name for it (gpu-passthrough, ...)."""
        found: bool | int | None = getattr(self, goal.replace("-", "_"))
        return found


@dataclass(frozen=True)
class Decision:
    """Why a property is in the plan (``value`` set) or not (None).
    ``basis`` says which kind of fact decided: advice, os, host, version,
    goal or dependency."""

    name: str
    value: Value | None
    basis: str
    reason: str

    @property
    def chosen(self) -> bool:
        return self.value is not None


@dataclass(frozen=True)
class Plan:
    guest: Guest
    host: HostProfile
    goals: Goals
    config: HypervConfig
    decisions: tuple[Decision, ...]
    notes: tuple[str, ...] = ()

    def decision(self, name: str) -> Decision | None:
        return next((d for d in self.decisions if d.name == name), None)


def _first_sentence(text: str) -> str:
    sentence = text.split(". ")[0].rstrip(".")
    return sentence[0].lower() + sentence[1:] if sentence else sentence


def _by_rule(entry: Entry, host: HostProfile, goals: Goals, chosen: Iterable[str] = ()) -> tuple[bool, Decision] | None:
    """What the entry's plan rule (catalog ``plan``) decides: (whether its
    conditions hold, the decision), or None when it says nothing (no rule;
    a neighbour whose host fact or other conditions do not hold, and that
    has nothing to say then)."""
    rule = entry.plan
    if rule is None:
        return None
    benefit = _first_sentence(entry.benefit) if isinstance(entry, Property) else ""
    words = {"benefit": benefit, "kvm_module": host.kvm_module}
    host_holds = rule.host is None or bool(getattr(host, rule.host))
    holds = (
        host_holds
        and (rule.goal is None or bool(goals.value(rule.goal)))
        and (rule.with_ is None or rule.with_ in chosen)
    )
    wanted = goals.value(rule.goal) if rule.goal else None
    if holds and rule.host_accepts and wanted is not None and not getattr(host, rule.host_accepts)(wanted):
        return False, Decision(entry.name, None, "host", (rule.reason_refused or "").format(value=wanted, **words))
    if holds:
        return True, Decision(
            entry.name, _planned_value(entry, rule.value, goals), rule.basis, rule.reason.format(**words)
        )
    if rule.reason_off is None or (not host_holds and isinstance(entry, Neighbour)):
        return None
    return False, Decision(entry.name, None, rule.basis_off or rule.basis, rule.reason_off.format(**words))


def _planned_value(entry: Entry, value: Value | None, goals: Goals) -> Value:
    """A rule's value: "advised" (the range's advised value), "goal" (the
    goal's own value), a literal, or True."""
    if value == "advised" and isinstance(entry, Property) and entry.range.advised is not None:
        return entry.range.advised
    if value == "goal" and entry.plan and entry.plan.goal:
        found = goals.value(entry.plan.goal)
        assert found is not None
        return found
    return True if value is None else value


def _advice(prop: Property, host: HostProfile, goals: Goals) -> Decision:
    """What the catalog's advice, plan rule and the goals say, before any
    constraint."""
    benefit = _first_sentence(prop.benefit)
    wanted = Decision(prop.name, prop.range.advised if prop.type != "bool" else True, "advice", benefit)
    ruled = _by_rule(prop, host, goals)
    if prop.advice == "recommended":
        if ruled is not None and ruled[0]:  # a goal that says why (overcommit)
            return Decision(prop.name, wanted.value, ruled[1].basis, ruled[1].reason)
        return wanted
    if prop.advice == "nested":
        if goals.nested:
            return Decision(prop.name, True, "goal", f"nested: {benefit}")
        return Decision(prop.name, None, "advice", "only for guests that run Hyper-V, WSL2 or VBS (--nested)")
    if ruled is not None:
        return ruled[1]
    if prop.advice == "discouraged":
        return Decision(prop.name, None, "advice", f"discouraged: {prop.caveats[0] if prop.caveats else benefit}")
    if prop.advice == "development":
        return Decision(prop.name, None, "advice", "a development feature; it does not belong in production")
    reason = prop.caveats[0] if prop.caveats else benefit
    return Decision(prop.name, None, "advice", f"situational, not planned: {reason}")


def _constraint(prop: Property, guest: Guest, host: HostProfile, goals: Goals) -> Decision | None:
    """The first fact that rules a wanted property out, if any."""
    if guest.windows is not None and (prop.windows is None or guest.windows < prop.windows):
        return Decision(prop.name, None, "os", f"{guest.title} does not use it")
    if host.qemu_version and prop.since.qemu and parse_release(host.qemu_version) < parse_release(prop.since.qemu):
        return Decision(prop.name, None, "version", f"QEMU {host.qemu_version} lacks it (QEMU {prop.since.qemu})")
    libvirt = host.libvirt_version
    if libvirt and prop.libvirt and prop.since.libvirt and parse_release(libvirt) < parse_release(prop.since.libvirt):
        return Decision(prop.name, None, "version", f"libvirt {libvirt} lacks it (libvirt {prop.since.libvirt})")
    if host.kvm.device == "present" and not host.hyperv_emulation:  # nothing Hyper-V reaches the guest
        return Decision(prop.name, None, "host", host.status)
    if prop.is_feature and not host.support.get(prop.name):
        return Decision(prop.name, None, "host", host.why_unsupported(prop))
    if prop.migration == "needs-tsc-frequency" and goals.migratable and goals.tsc_frequency is None:
        return Decision(prop.name, None, "goal", "migratable: needs a pinned tsc-frequency (--tsc-frequency HZ)")
    return None


def _complete(decisions: dict[str, Decision], guest: Guest, host: HostProfile, goals: Goals) -> None:
    """Drop what needs a property the plan cannot have, and add the
    dependencies QEMU enforces, until nothing changes."""
    catalog = load_catalog()
    changed = True
    while changed:
        changed = False
        for name, decision in list(decisions.items()):
            if not decision.chosen or not catalog.property(name).is_feature:
                continue
            for need in catalog.requirements((name,)):
                if need.name == name or decisions[need.name].chosen:
                    continue
                ruled_out = _constraint(need, guest, host, goals)
                if decisions[need.name].basis in ("os", "host", "version") or ruled_out:
                    reason = ruled_out.reason if ruled_out else decisions[need.name].reason
                    why = f"needs {need.name}, which this plan cannot have ({reason})"
                    decisions[name] = Decision(name, None, "dependency", why)
                else:
                    decisions[need.name] = Decision(need.name, True, "dependency", f"{name} needs it")
                changed = True
                break


def _neighbours(host: HostProfile, goals: Goals, chosen: Iterable[str]) -> list[Decision]:
    """What the neighbours' plan rules decide, in catalog order."""
    names = set(chosen)
    return [ruled[1] for n in load_catalog().neighbours if (ruled := _by_rule(n, host, goals, names)) is not None]


def make_plan(guest_os: str, host: HostProfile, goals: Goals | None = None) -> Plan:
    """The plan for a guest OS (a catalog guest name) on `host`."""
    catalog = load_catalog()
    goals = goals or Goals()
    guest = catalog.guest(guest_os)
    if guest is None:
        raise KeyError(guest_os)
    if guest.family == "linux":
        return _linux_plan(guest, host, goals)
    decisions: dict[str, Decision] = {}
    for prop in catalog.properties:
        if prop.kind == "compat" or (prop.plan is not None and prop.plan.never):
            continue
        decision = _advice(prop, host, goals)
        if decision.chosen:
            decision = _constraint(prop, guest, host, goals) or decision
        decisions[prop.name] = decision
    _complete(decisions, guest, host, goals)
    chosen = [name for name, d in decisions.items() if d.chosen]
    neighbours = _neighbours(host, goals, chosen)
    values = {d.name: d.value for d in [*decisions.values(), *neighbours] if d.value is not None}
    notes = _windows_notes(guest, host)
    config = HypervConfig(model=PLAN_MODEL, values=values)
    return Plan(guest, host, goals, config, tuple([*neighbours, *decisions.values()]), notes)


def _windows_notes(guest: Guest, host: HostProfile) -> tuple[str, ...]:
    notes = []
    if guest.windows is not None and guest.windows < 6:
        notes.append(f"{guest.title} predates the Hyper-V interface: it uses no enlightenment, so none is planned.")
    elif guest.windows is not None and guest.windows < 8:
        notes.append(
            f"{guest.title} with UEFI firmware: Proxmox gives such guests no enlightenment at all, as they "
            "may not boot with them; the plan assumes BIOS."
        )
    if host.kvm.device == "present" and not host.hyperv_emulation:
        notes.append(f"{host.name}: {host.status}; the guest runs unenlightened here whatever is planned.")
    return tuple(notes)


def _linux_plan(guest: Guest, host: HostProfile, goals: Goals) -> Plan:
    why = (
        "Linux uses KVM's own paravirtual interfaces while it sees KVM (kvm-clock, PV TLB flush, PV IPI, "
        "PV EOI), which serve it as well"
    )
    decisions = tuple(Decision(p.name, None, "os", why) for p in load_catalog().properties if p.is_feature)
    notes = (
        "A Linux guest ignores Hyper-V enlightenments while it can see KVM: QEMU moves KVM's signature to "
        "0x40000100 and Linux still picks KVM. With kvm=off and hv-vpindex it selects Hyper-V instead and "
        "then uses the reference TSC page clocksource (hyperv_clocksource_tsc_page, clock_gettime without "
        "exits), hypercall-based remote TLB flush and IPIs, and synthetic timers: what kvm-clock and KVM's "
        "PV TLB flush already give it. Plan Hyper-V for Linux only to test or to run it as Windows would.",
    )
    return Plan(guest, host, goals, HypervConfig(model=PLAN_MODEL), decisions, notes)


def missing_benefits(config: HypervConfig, plan: Plan, *, covered: Iterable[str] = ()) -> list[Finding]:
    """A warning for each property `config` lacks that its plan has (apart
    from `covered`, which other findings already ask for), the biggest loss
    first, each saying what the guest loses and where the figures come from;
    its fix adds the property with whatever else of the plan it needs."""
    if config.passthrough:
        return []  # it gets whatever the host has
    skip = set(covered)
    catalog = load_catalog()
    costs = catalog.impacts
    planned = {
        d.name: d.value
        for d in plan.decisions
        if d.chosen and isinstance(catalog.entry(d.name), Property) and config.get(d.name) is None
    }
    findings = []
    for name in sorted(planned, key=costs.rank):
        if name in skip:
            continue
        cost = costs.costs.get(name)
        title = catalog.property(name).title[0].lower() + catalog.property(name).title[1:]
        told = cost.describe() if cost else _first_sentence(catalog.property(name).benefit)
        needed = {need.name: planned[need.name] for need in catalog.requirements((name,)) if need.name in planned}
        findings.append(
            Finding(
                code="missing-benefit",
                severity=Severity.WARNING,
                feature=name,
                message=f"{name} ({title}) is missing, which its plan for {plan.guest.title} has: {told}",
                fix=ConfigChange({name: planned[name], **needed}),
            )
        )
    return findings
