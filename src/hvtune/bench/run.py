"""Run the measuring core and read what it printed, with the context that
decides the numbers: the clocksource, the hypervisor signatures, vCPUs, CPU."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any, cast

from hvtune.bench.build import build_core
from hvtune.bench.document import BenchDocument
from hvtune.bench.options import MEASURED, BenchOptions
from hvtune.errors import InputError
from hvtune.host.sysfs import read_system


def summarize(raw: dict[str, Any], *, clocksource: str | None, kernel: str | None) -> BenchDocument:
    """The core's document with the headline numbers under stable keys
    (clock_gettime.ticks_per_call, cpuid.ticks_per_call, tlb_shootdown.seconds)
    and the machine's clocksource and kernel in its context."""
    document = dict(raw)
    document["context"] = {**raw.get("context", {}), "clocksource": clocksource, "kernel": kernel}
    for measurement in MEASURED:
        result = document.get(measurement.key)
        if result and "median" in result:
            document[measurement.key] = {measurement.headline: result["median"], **result}
    tlb = document.get("tlb_shootdown")
    if tlb and "median" in tlb:
        rounds_per_second = round(tlb["threads"] * tlb["rounds"] / tlb["median"], 1)
        document["tlb_shootdown"] = {"seconds": tlb["seconds"], "rounds_per_second": rounds_per_second, **tlb}
    return cast(BenchDocument, document)  # the core's JSON, which hvtune builds and ships


def run_bench(options: BenchOptions | None = None) -> BenchDocument:
    """Measure this machine (or this guest)."""
    options = options or BenchOptions()
    binary = build_core()
    try:
        done = subprocess.run([str(binary.path), *options.arguments()], capture_output=True, text=True, timeout=3600)
    except subprocess.TimeoutExpired:
        raise InputError(
            "hvtune bench", None, "the measurement took more than an hour; use a smaller --count"
        ) from None
    try:
        raw = json.loads(done.stdout)
    except json.JSONDecodeError:
        raise InputError(
            "hvtune bench", None, f"the measuring core failed: {done.stderr.strip() or done.stdout.strip()}"
        ) from None
    system = read_system(Path("/"))
    return summarize(raw, clocksource=system.clocksource, kernel=system.kernel)
