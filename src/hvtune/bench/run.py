"""Run the measuring core and read what it printed, with the context that
decides the numbers: the clocksource, the hypervisor signatures, vCPUs, CPU."""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hvtune.bench.build import build_core
from hvtune.errors import InputError
from hvtune.host.sysfs import read_system

MEASUREMENTS = ("clock", "cpuid", "tlb")


@dataclass(frozen=True)
class BenchOptions:
    """What to measure and how long: `count` calls per run for clock and
    cpuid, `repeat` runs of each; the TLB test runs `threads` threads of
    `rounds` map-touch-unmap rounds over `pages` pages."""

    which: tuple[str, ...] = MEASUREMENTS
    count: int = 1_000_000
    repeat: int = 5
    threads: int = 64
    rounds: int = 200
    pages: int = 16

    def arguments(self) -> list[str]:
        return [
            "--which", ",".join(self.which), "--count", str(self.count), "--repeat", str(self.repeat),
            "--threads", str(self.threads), "--rounds", str(self.rounds), "--pages", str(self.pages),
        ]  # fmt: skip


def summarize(raw: dict[str, Any], *, clocksource: str | None, kernel: str | None) -> dict[str, Any]:
    """The core's document with the headline numbers under stable keys
    (clock_gettime.ticks_per_call, cpuid.ticks_per_call, tlb_shootdown.seconds)
    and the machine's clocksource and kernel in its context."""
    document = dict(raw)
    document["context"] = {**raw.get("context", {}), "clocksource": clocksource, "kernel": kernel}
    for key, headline in (("clock_gettime", "ticks_per_call"), ("cpuid", "ticks_per_call")):
        if key in document:
            document[key] = {headline: document[key]["median"], **document[key]}
    tlb = document.get("tlb_shootdown")
    if tlb and "median" in tlb:
        rounds = tlb["threads"] * tlb["rounds"]
        document["tlb_shootdown"] = {
            "seconds": tlb["median"],
            "rounds_per_second": round(rounds / tlb["median"], 1),
            **tlb,
        }
    return document


def run_bench(options: BenchOptions | None = None) -> dict[str, Any]:
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
