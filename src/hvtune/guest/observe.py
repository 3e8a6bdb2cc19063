"""What a guest sees, gathered from every source: its CPUID (always), and
on Linux its kernel's hypervisor lines, its clocksource and
systemd-detect-virt's answer (None elsewhere)."""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass

from hvtune.guest.clocksource import Clocksource, read_clocksource
from hvtune.guest.cpuid_reader import CpuidReading, read_cpuid
from hvtune.guest.detect_virt import DetectVirt, read_detect_virt
from hvtune.guest.kernel_log import KernelLog, read_kernel_log


@dataclass(frozen=True)
class Observation:
    cpuid: CpuidReading
    kernel: KernelLog | None = None
    clocksource: Clocksource | None = None
    detect_virt: DetectVirt | None = None


def observe(read: Callable[[], CpuidReading] = read_cpuid, *, linux: bool | None = None) -> Observation:
    """Read what this guest sees; `read` gives its CPUID (a recorded reading
    in tests), `linux` whether to ask Linux's sources (default: on Linux)."""
    reading = read()
    if not (sys.platform.startswith("linux") if linux is None else linux):
        return Observation(reading)
    return Observation(reading, read_kernel_log(), read_clocksource(), read_detect_virt())
