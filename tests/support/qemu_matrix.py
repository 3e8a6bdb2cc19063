"""One Debian release's QEMU judging hvtune's reading of -cpu values:
the release's qemu-system-x86_64 (sandbox.userland, TCG, paused) reads
each value back, and hvtune, told that QEMU release, must agree on
acceptance, on every property's value, and on QEMU's own line for a
refusal."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from hvtune.catalog import load_catalog
from hvtune.errors import InputError, Refusal
from hvtune.formats.qemu import parse_cpu, qemu_names
from hvtune.releases import Release, parse_release
from hvtune.sandbox.stack import Stack
from hvtune.sandbox.userland import run_userland

from support.agreement import expected_value, readable_properties
from support.qemu import PREFIX

_SIZE_NAME = "tsc-freq"  # -cpu's name for tsc-frequency, no property


@dataclass(frozen=True)
class Verdict:
    """hvtune's reading of one -cpu value for a QEMU release: its values,
    or QEMU's line it predicts for a refusal (None: hvtune refuses without
    knowing QEMU's words)."""

    cpu: str
    values: dict[str, Any] | None
    said: str | None = None


def hvtune_verdict(cpu: str, release: Release) -> Verdict:
    try:
        config = parse_cpu(cpu, qemu_version=str(release)).config
    except Refusal as refusal:
        return Verdict(cpu, None, refusal.said)
    except InputError:
        return Verdict(cpu, None)
    names = set(qemu_names(release))
    properties = [name for name in readable_properties(config.model or "qemu64") if name in names]
    return Verdict(cpu, {name: expected_value(config, name, str(release)) for name in properties})


def _first_error(stderr: str) -> str | None:
    for line in stderr.splitlines():
        said = line.removeprefix(PREFIX)
        if said.strip() and not said.startswith("warning:"):
            return said
    return None


def _tcg_refuses_vpindex(release: Release) -> bool:
    """QEMU before catalog.qemu.tcg_vpindex_fixed refuses hv-vpindex under
    TCG when it plugs the CPU: after the name=value properties, before the
    +/- switches (no parsing matter, and it hides a switch's refusal). On
    those releases every value runs with hv-vpindex=off after it, and
    hv-vpindex is not compared where hvtune reads it on."""
    return release < parse_release(load_catalog().qemu.tcg_vpindex_fixed)


def disagreement(verdict: Verdict, ran: dict[str, Any]) -> str | None:
    """Why hvtune's verdict and QEMU's run disagree (None: they agree)."""
    said = _first_error(ran["stderr"])
    if verdict.values is None:
        if ran["started"]:
            return f"{verdict.cpu!r}: hvtune refuses, QEMU accepts"
        if verdict.said != said:
            return f"{verdict.cpu!r}: QEMU says {said!r}, hvtune predicts {verdict.said!r}"
        return None
    if not ran["started"]:
        return f"{verdict.cpu!r}: hvtune accepts, QEMU refuses: {said!r}"
    read = ran["properties"]
    if set(read) != set(verdict.values):
        return f"{verdict.cpu!r}: only one of QEMU and hvtune has {sorted(set(read) ^ set(verdict.values))}"
    wrong = {name: (read[name], value) for name, value in verdict.values.items() if read[name] != value}
    return f"{verdict.cpu!r}: (QEMU, hvtune) values differ: {wrong}" if wrong else None


def judge(stack: Stack, cpus: Sequence[str]) -> list[str]:
    """Run every -cpu value on the stack's QEMU; the disagreements."""
    release = parse_release(stack.upstream("qemu"))
    verdicts = [hvtune_verdict(cpu, release) for cpu in dict.fromkeys(cpus)]
    tail = ",hv-vpindex=off" if _tcg_refuses_vpindex(release) else ""
    cases = []
    for index, verdict in enumerate(verdicts):
        if tail and verdict.values and verdict.values.get("hv-vpindex"):
            del verdict.values["hv-vpindex"]
        cases.append({"id": str(index), "cpu": verdict.cpu + tail, "machine": "pc", "accel": "tcg", "cpuid": False})
    results = run_userland(stack, {"cases": cases, "properties": readable_properties("max")}).results()
    problems = []
    for index, verdict in enumerate(verdicts):
        ran = results.get(str(index))
        if ran is None:
            problems.append(f"{verdict.cpu!r}: no result from QEMU")
            continue
        if verdict.values is not None and "hv-vpindex" not in verdict.values:
            ran["properties"].pop("hv-vpindex", None)
        problem = disagreement(verdict, ran)
        if problem:
            problems.append(problem)
    return problems


def _hyperv(names: Iterable[str]) -> set[str]:
    return {name for name in names if name.startswith(("hv-", "x-hv-"))}


def property_disagreement(stack: Stack) -> str | None:
    """Whether the stack's QEMU has exactly the Hyper-V properties (and
    aliases) the catalog gives its release, and every neighbour: the names
    its max CPU lists (qom-list)."""
    release = parse_release(stack.upstream("qemu"))
    case = {"id": "list", "cpu": "max", "machine": "pc", "accel": "tcg", "cpuid": False, "list": True}
    listed = set(run_userland(stack, {"cases": [case], "properties": []}).results()["list"]["listed"])
    known = set(qemu_names(release))
    missing = sorted(known - listed - {_SIZE_NAME})
    unknown = sorted(_hyperv(listed) - _hyperv(known))
    if missing or unknown:
        return f"QEMU {release} lacks {missing} and has {unknown} beyond the catalog"
    return None
