"""What hvtune bench measures and for how long: the measurements (their
--which names, JSON keys, headline figures and titles, which the reports
read) and the options the bench and lab commands share. Kept free of heavy
imports, since the command line reads its defaults at start-up."""

from __future__ import annotations

from dataclasses import dataclass, replace


@dataclass(frozen=True)
class Measurement:
    """One measurement: `name` as --which says it, `key` in the JSON,
    `headline` the figure that stands for it, `title` and `short` (the lab's
    table) as people read them, and its `unit`."""

    name: str
    key: str
    headline: str
    title: str
    short: str
    unit: str


TICKS = "TSC ticks per call"
MEASURED = (
    Measurement("clock", "clock_gettime", "ticks_per_call", "clock_gettime(CLOCK_REALTIME)", "clock_gettime", TICKS),
    Measurement("cpuid", "cpuid", "ticks_per_call", "cpuid(0x1)", "cpuid(0x1)", TICKS),
    Measurement("tlb", "tlb_shootdown", "seconds", "TLB shootdown", "TLB shootdown", "seconds"),
)
MEASUREMENTS = tuple(measurement.name for measurement in MEASURED)


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

    def defaults_from(self, defaults: BenchOptions, instead: BenchOptions) -> BenchOptions:
        """These options, with each number still at `defaults`' value taken
        from `instead` (a number given differs from its default)."""
        numbers = ("count", "repeat", "threads", "rounds", "pages")
        kept = {name: getattr(instead, name) for name in numbers if getattr(self, name) == getattr(defaults, name)}
        return replace(self, **kept)

    def arguments(self) -> list[str]:
        return [
            "--which", ",".join(self.which), "--count", str(self.count), "--repeat", str(self.repeat),
            "--threads", str(self.threads), "--rounds", str(self.rounds), "--pages", str(self.pages),
        ]  # fmt: skip


# Inside a guest: shorter, so that a TCG guest measures in seconds.
LAB_OPTIONS = BenchOptions(count=200_000, repeat=5, threads=16, rounds=100)
# In the sandbox (nested under TCG an exit costs ~10x a plain TCG guest's): LAB_OPTIONS took 14 min there.
SANDBOX_LAB_OPTIONS = BenchOptions(count=20_000, repeat=5, threads=16, rounds=10)
