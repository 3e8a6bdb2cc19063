"""What `fix` and `fix --plan` cost, as ratios to `check` of the same
domain, in time and in peak memory, for large domains (about 16 MB) of
several shapes (benchmarks/shapes.py).

Time is measured in one process, the three operations taking turns
(benchmarks/taking_turns.py). Memory is the peak resident size of
a process of its own that runs one operation, as `hvtune check` and `hvtune
fix` would (lxml's tree, the interpreter and the text read included).

Goal: at most 3x in time and in memory.

    python benchmarks/fix_cost.py [--megabytes 16] [--repeat R] [--shape NAME]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from collections.abc import Callable

from shapes import ONE_ELEMENT, SHAPES
from taking_turns import best_cpu_seconds

from hvtune.checking import check_reading
from hvtune.fixing import fix_text, plan_text
from hvtune.formats import read_text
from hvtune.host.profile_json import load_profile
from hvtune.plan import Goals

OPERATIONS = ("check", "fix", "fix --plan")


def _domain(shape: str, megabytes: float) -> str:
    """The shape grown to about `megabytes` (4 at most when one element grows: sizes grow faster than n)."""
    megabytes = min(megabytes, 4.0) if shape in ONE_ELEMENT else megabytes
    small = len(SHAPES[shape](1000))
    return SHAPES[shape](int(1000 * megabytes * 1e6 / small))


def _operation(name: str, text: str) -> Callable[[], object]:
    if name == "check":
        return lambda: check_reading(read_text(text, source="big.xml"))
    if name == "fix":
        return lambda: fix_text(text, source="big.xml")
    host = load_profile("intel-nested")
    return lambda: plan_text(text, source="big.xml", goals=Goals(), guest_os="win11", host=host)


def _high_water_megabytes() -> float:
    """This process's peak resident size (VmHWM: getrusage's ru_maxrss
    would report the parent's peak, kept across fork and exec)."""
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc/self/status")


def _peak_megabytes(shape: str, operation: str, megabytes: float) -> float:
    """The peak resident size of a process that runs the operation once."""
    command = [sys.executable, __file__, "--child", shape, operation, "--megabytes", str(megabytes)]
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    return float(done.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--megabytes", type=float, default=16.0)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--shape", action="append", choices=sorted(SHAPES), help="only these shapes")
    parser.add_argument("--child", nargs=2, metavar=("SHAPE", "OPERATION"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        shape, operation = args.child
        _operation(operation, _domain(shape, args.megabytes))()
        print(_high_water_megabytes())
        return
    print(
        f"{'shape':26} {'MB':>5} {'check s':>8} {'fix s':>7} {'plan s':>7} {'check MB':>9} {'fix MB':>7} {'plan MB':>8}"
    )
    worst = {"time": 0.0, "memory": 0.0}
    for shape in args.shape or SHAPES:
        text = _domain(shape, args.megabytes)
        seconds = best_cpu_seconds({name: _operation(name, text) for name in OPERATIONS}, args.repeat)
        peak = {operation: _peak_megabytes(shape, operation, args.megabytes) for operation in OPERATIONS}
        time_ratios = {op: seconds[op] / seconds["check"] for op in OPERATIONS[1:]}
        memory_ratios = {op: peak[op] / peak["check"] for op in OPERATIONS[1:]}
        worst["time"] = max(worst["time"], *time_ratios.values())
        worst["memory"] = max(worst["memory"], *memory_ratios.values())
        print(
            f"{shape:26} {len(text) / 1e6:5.1f} {seconds['check']:8.2f} {seconds['fix']:7.2f}"
            f" {seconds['fix --plan']:7.2f} {peak['check']:9.0f} {peak['fix']:7.0f} {peak['fix --plan']:8.0f}"
            f"   fix {time_ratios['fix']:.2f}x/{memory_ratios['fix']:.2f}x"
            f"  plan {time_ratios['fix --plan']:.2f}x/{memory_ratios['fix --plan']:.2f}x"
        )
    print(f"worst ratios (time, memory): {worst['time']:.2f}x, {worst['memory']:.2f}x  (goal: at most 3x each)")


if __name__ == "__main__":
    main()
