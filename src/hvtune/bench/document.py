"""The document hvtune bench makes (and each guest of hvtune lab prints):
what the measuring core measured under stable keys, and the context that
decides the numbers. The core writes it as JSON; hvtune adds the headline
keys and the machine's clocksource and kernel (bench.run.summarize)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypedDict, cast


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


def measurement_result(document: BenchDocument, key: str) -> Mapping[str, Any] | None:
    """The result under a measurement's key (``MEASURED``'s keys), None when
    it was not asked for: the keys come from data, not from the type."""
    return cast(Mapping[str, Any], document).get(key)
