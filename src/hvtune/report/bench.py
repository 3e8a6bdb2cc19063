"""Reports of hvtune bench: the numbers and the context that decides them."""

from __future__ import annotations

from typing import Any, TypedDict

from hvtune.bench.options import MEASURED
from hvtune.errors import printable
from hvtune.jsonrecords import dumps, with_schema

SCHEMA = "hvtune/bench/1"


class Signature(TypedDict):
    """What a hypervisor says at a CPUID leaf."""

    max_leaf: str
    signature: str


class BenchContext(TypedDict, total=False):
    """What decides the numbers: the CPU, vCPUs, the hypervisor bit and
    signatures (by leaf), the clocksource and the kernel."""

    cpu_model: str
    vcpus: int
    hypervisor_bit: bool
    cpuid: dict[str, Signature]
    clocksource: str | None
    kernel: str | None


class CallsResult(TypedDict, total=False):
    """TSC ticks per call: every run, their min, median (``ticks_per_call``) and max."""

    ticks_per_call: float
    runs: list[float]
    min: float
    median: float
    max: float
    calls: int


class TlbResult(TypedDict, total=False):
    """Seconds per run of the TLB-shootdown test (``seconds``: the median),
    or the ``error`` that stopped it."""

    seconds: float
    rounds_per_second: float
    runs: list[float]
    min: float
    median: float
    max: float
    threads: int
    rounds: int
    pages: int
    error: str


class BenchDocument(TypedDict, total=False):
    """``hvtune bench --format json``: the measuring core's document, each
    measurement under its stable key (absent when not asked for)."""

    tsc_ordering: str
    context: BenchContext
    clock_gettime: CallsResult
    cpuid: CallsResult
    tlb_shootdown: TlbResult


def hypervisor_line(context: dict[str, Any]) -> str:
    """What the machine says it runs on: the signatures at 0x40000000 and 0x40000100."""
    if not context.get("hypervisor_bit"):
        return "no hypervisor bit"
    seen = [
        f"{entry.get('signature') or 'nothing'} at {leaf}" for leaf, entry in sorted(context.get("cpuid", {}).items())
    ]
    return ", ".join(seen)


def figure(value: float) -> str:
    """A measurement as people read it: whole ticks, seconds to four places."""
    if value >= 100:
        return f"{value:,.0f}"
    return f"{value:.2f}" if value >= 1 else f"{value:.4f}"


def _detail(key: str, result: dict[str, Any]) -> str:
    runs = len(result["runs"])
    if key == "tlb_shootdown":
        speed = f"{result['rounds_per_second']:,.0f} rounds/s"
        return f"{runs} runs of {result['threads']} threads x {result['rounds']} rounds; {speed}"
    return f"{runs} runs of {result['calls']:,} calls"


def bench_text(document: dict[str, Any]) -> str:
    context = document["context"]
    lines = [
        f"hvtune bench on {context.get('cpu_model') or 'an unknown CPU'}, {context.get('vcpus')} vCPUs, "
        f"kernel {context.get('kernel') or 'unknown'}",
        f"  clocksource {context.get('clocksource') or 'unknown'}; hypervisor: {hypervisor_line(context)}",
        "",
    ]
    for measurement in MEASURED:
        result = document.get(measurement.key)
        if not result:
            continue
        if "error" in result:
            lines.append(f"  {measurement.title:<31} failed: {result['error']}")
            continue
        figures = f"min {figure(result['min']):>10}   median {figure(result['median']):>10}"
        lines.append(f"  {measurement.title:<31} {measurement.unit:<19} {figures}")
        lines.append(f"  {'':<31} ({_detail(measurement.key, result)})")
    return "".join(printable(line) + "\n" for line in lines)  # what the CPU and kernel said is quoted


def bench_json(document: dict[str, Any]) -> str:
    """The document as the core and hvtune.bench.run.summarize made it
    (described by BenchDocument), after the schema key."""
    return dumps(with_schema(SCHEMA, document))
