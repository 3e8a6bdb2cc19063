"""Run the measuring core and read what it printed, with the context that
decides the numbers: the clocksource, the hypervisor signatures, vCPUs, CPU."""

from __future__ import annotations

import json
import re
import subprocess
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

from hvtune.bench.build import build_core
from hvtune.bench.document import BenchDocument, measurement_result
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


_LONGEST = 3600  # seconds: a measurement that takes longer is stopped
_TITLES = {measurement.key: measurement.title for measurement in MEASURED}
_STEP = re.compile(r"(\w+) (\d+) (\d+)")


def _said(line: str) -> str | None:
    """A progress line of the core ("NAME RUN OF") as people read it, or None."""
    step = _STEP.fullmatch(line)
    if step is None or step.group(1) not in _TITLES:
        return None
    name, run, of = step.group(1), int(step.group(2)), step.group(3)
    return f"{_TITLES[name]}: {'warming up' if run == 0 else f'run {run} of {of}'}"


def _run_core(arguments: list[str], progress: Callable[[str], None] | None) -> tuple[str, str]:
    """The core's standard output and what else it said on standard error,
    its progress lines handed to `progress` as they come."""
    with subprocess.Popen(arguments, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as process:
        assert process.stdout is not None and process.stderr is not None
        stopped = threading.Event()

        def stop() -> None:
            stopped.set()
            process.kill()

        watch = threading.Timer(_LONGEST, stop)
        watch.daemon = True
        watch.start()
        said: list[str] = []
        try:
            for line in process.stderr:  # the JSON on standard output comes at the end, and is small
                step = _said(line.rstrip("\n"))
                if step is None:
                    said.append(line)
                elif progress is not None:
                    progress(step)
            out = process.stdout.read()
        finally:
            watch.cancel()
    if stopped.is_set():
        raise InputError("hvtune bench", None, "the measurement took more than an hour; use a smaller --count")
    return out, "".join(said)


def failures(document: BenchDocument) -> list[str]:
    """The measurements that failed, each as "TITLE failed: WHY"."""
    results = [(m.title, measurement_result(document, m.key)) for m in MEASURED]
    return [f"{title} failed: {result['error']}" for title, result in results if result and "error" in result]


def run_bench(options: BenchOptions | None = None, progress: Callable[[str], None] | None = None) -> BenchDocument:
    """Measure this machine (or this guest); `progress` hears each run start."""
    options = options or BenchOptions()
    binary = build_core()
    asked = ["--progress", "1"] if progress is not None else []
    stdout, stderr = _run_core([str(binary.path), *options.arguments(), *asked], progress)
    try:
        raw = json.loads(stdout)
    except json.JSONDecodeError:
        raise InputError(
            "hvtune bench", None, f"the measuring core failed: {stderr.strip() or stdout.strip()}"
        ) from None
    system = read_system(Path("/"))
    return summarize(raw, clocksource=system.clocksource, kernel=system.kernel)
