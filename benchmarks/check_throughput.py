"""Throughput of hvtune's parse + check over 10,000 realistic -cpu strings,
as a ratio to only splitting the same strings into QEMU's token lists (the
least work any reader of -cpu must do), measured in the same process.

Goal: at most 5x.

    python benchmarks/check_throughput.py [--count N] [--repeat R]
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

from hvtune.checks import run_checks
from hvtune.checks.context import CheckContext
from hvtune.formats.qemu import parse_cpu, split_cpu

from corpus import cpu_strings


def best_of(repeat: int, work: Callable[[], object]) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    strings = cpu_strings(args.count)
    context = CheckContext()

    def split_only() -> None:
        for cpu in strings:
            split_cpu(cpu, "bench")

    def parse_and_check() -> int:
        findings = 0
        for cpu in strings:
            findings += len(run_checks(parse_cpu(cpu).config, context))
        return findings

    parse_and_check()  # warm the catalog and caches
    split = best_of(args.repeat, split_only)
    full = best_of(args.repeat, parse_and_check)
    print(f"strings:          {len(strings)}")
    print(f"split only:       {len(strings) / split:12,.0f} strings/s")
    print(f"parse + check:    {len(strings) / full:12,.0f} strings/s")
    print(f"ratio:            {full / split:12.2f}x  (goal: at most 5x)")


if __name__ == "__main__":
    main()
