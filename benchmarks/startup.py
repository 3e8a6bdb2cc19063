"""Wall time of `hvtune --version` against `python -c pass`, both run as
fresh processes in the same loop.

Goal: at most 3x (hvtune imports everything but click lazily).

    python benchmarks/startup.py [--runs N]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path


def wall(command: list[str], runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
        times.append(time.perf_counter() - start)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    hvtune = str(Path(sys.executable).with_name("hvtune"))
    baseline: list[float] = []
    version: list[float] = []
    for _ in range(args.runs):  # interleave, so machine noise hits both alike
        baseline += wall([sys.executable, "-c", "pass"], 1)
        version += wall([hvtune, "--version"], 1)
    base, mine = statistics.median(baseline), statistics.median(version)
    print(f"python -c pass:   {base * 1000:8.1f} ms (median of {args.runs})")
    print(f"hvtune --version: {mine * 1000:8.1f} ms (median of {args.runs})")
    print(f"ratio:            {mine / base:8.2f}x  (goal: at most 3x)")


if __name__ == "__main__":
    main()
