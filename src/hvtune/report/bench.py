"""Reports of hvtune bench: the numbers and the context that decides them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hvtune.bench.document import BenchContext, BenchDocument, measurement_result
from hvtune.bench.options import MEASURED
from hvtune.errors import printable
from hvtune.jsonrecords import dumps, with_schema

SCHEMA = "hvtune/bench/1"


def hypervisor_line(context: BenchContext) -> str:
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


def _detail(key: str, result: Mapping[str, Any]) -> str:
    runs = len(result["runs"])
    if key == "tlb_shootdown":
        speed = f"{result['rounds_per_second']:,.0f} rounds/s"
        return f"{runs} runs of {result['threads']} threads x {result['rounds']} rounds; {speed}"
    return f"{runs} runs of {result['calls']:,} calls"


def bench_text(document: BenchDocument) -> str:
    context = document["context"]
    lines = [
        f"hvtune bench on {context.get('cpu_model') or 'an unknown CPU'}, {context.get('vcpus')} vCPUs, "
        f"kernel {context.get('kernel') or 'unknown'}",
        f"  clocksource {context.get('clocksource') or 'unknown'}; hypervisor: {hypervisor_line(context)}",
        "",
    ]
    for measurement in MEASURED:
        result = measurement_result(document, measurement.key)
        if not result:
            continue
        if "error" in result:
            lines.append(f"  {measurement.title:<31} failed: {result['error']}")
            continue
        figures = f"min {figure(result['min']):>10}   median {figure(result['median']):>10}"
        lines.append(f"  {measurement.title:<31} {measurement.unit:<19} {figures}")
        lines.append(f"  {'':<31} ({_detail(measurement.key, result)})")
    return "".join(printable(line) + "\n" for line in lines)  # what the CPU and kernel said is quoted


def bench_json(document: BenchDocument) -> str:
    """The document as the core and hvtune.bench.run.summarize made it,
    after the schema key."""
    return dumps(with_schema(SCHEMA, document))
