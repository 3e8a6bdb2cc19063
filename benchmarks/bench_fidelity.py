"""Fidelity of `hvtune bench`: each measurement beside a reference build of
the plain loop (benchmarks/reference/*.c, bare rdtsc or clock timing, no
ordering, no pinning), run alternately in the same process, one
measurement each. Prints hvtune's median over the reference's median (goal:
within 5%), and the spread, max/min, of the figures of N runs of the core as
`hvtune bench` runs it (the median of its 5 repetitions; goal: within 10%).

    python benchmarks/bench_fidelity.py [--runs N] [--count N] [--threads T] [--rounds R]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import tempfile
from pathlib import Path

from hvtune.bench.build import build_core

REFERENCE = Path(__file__).parent / "reference"


def compile_reference(name: str, folder: Path) -> Path:
    target = folder / name
    source = REFERENCE / f"{name}.c"
    subprocess.run(["cc", "-O2", "-pthread", "-o", str(target), str(source)], check=True)
    return target


def number(command: list[str]) -> float:
    return float(subprocess.run(command, check=True, capture_output=True, text=True).stdout)


def measure(core: str, arguments: list[str], key: str, *, repeat: int) -> float:
    """The core's figure (the median of `repeat` repetitions) for one measurement."""
    command = [core, *arguments, "--repeat", str(repeat)]
    done = subprocess.run(command, check=True, capture_output=True, text=True)
    return float(json.loads(done.stdout)[key]["median"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--count", type=int, default=1_000_000)
    parser.add_argument("--threads", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=200)
    args = parser.parse_args()
    core = str(build_core().path)
    cases = {
        "clock_gettime": (["--which", "clock", "--count", str(args.count)], [str(args.count)]),
        "cpuid": (["--which", "cpuid", "--count", str(args.count)], [str(args.count)]),
        "tlb_shootdown": (
            ["--which", "tlb", "--threads", str(args.threads), "--rounds", str(args.rounds)],
            [str(args.threads), str(args.rounds)],
        ),
    }
    with tempfile.TemporaryDirectory() as folder:
        for key, (ours, theirs) in cases.items():
            reference = str(compile_reference(key, Path(folder)))
            mine, plain = [], []
            for _ in range(args.runs):  # alternate, so machine noise hits both alike
                mine.append(measure(core, ours, key, repeat=1))
                plain.append(number([reference, *theirs]))
            ratio = statistics.median(mine) / statistics.median(plain)
            figures = [measure(core, ours, key, repeat=5) for _ in range(args.runs)]
            spread = max(figures) / min(figures)
            print(
                f"{key:<14} hvtune {statistics.median(mine):>12.4f}  reference {statistics.median(plain):>12.4f}  "
                f"ratio {ratio:5.3f} (goal 0.95-1.05)  spread {spread:5.3f} (goal <= 1.10)"
            )


if __name__ == "__main__":
    main()
