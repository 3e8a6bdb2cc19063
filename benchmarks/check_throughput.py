"""Throughput of hvtune's parse + check over 10,000 realistic -cpu strings,
as a ratio to only splitting the same strings into QEMU's token lists (the
least work any reader of -cpu must do), measured in the same process; and
the same on a host (the bundled intel-nested), where each Windows guest's
missing enlightenments are priced against its plan, as doctor does.

Goal: at most 5x without a host; on a host, at most 5x that.

    python benchmarks/check_throughput.py [--count N] [--repeat R]
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

from hvtune.checking import check_reading
from hvtune.checks import run_checks
from hvtune.checks.context import CheckContext
from hvtune.formats.qemu import parse_cpu, read_cpu_option, split_cpu
from hvtune.host.profile_json import load_profile

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

    host = load_profile("intel-nested")

    def on_a_host() -> int:
        return sum(len(check_reading(read_cpu_option(cpu), host=host).findings) for cpu in strings)

    parse_and_check()  # warm the catalog and caches
    on_a_host()
    split = best_of(args.repeat, split_only)
    full = best_of(args.repeat, parse_and_check)
    hosted = best_of(args.repeat, on_a_host)
    print(f"strings:          {len(strings)}")
    print(f"split only:       {len(strings) / split:12,.0f} strings/s")
    print(f"parse + check:    {len(strings) / full:12,.0f} strings/s")
    print(f"ratio:            {full / split:12.2f}x  (goal: at most 5x)")
    print(f"on a host:        {len(strings) / hosted:12,.0f} strings/s")
    print(f"ratio to check:   {hosted / full:12.2f}x  (goal: at most 5x)")


if __name__ == "__main__":
    main()
