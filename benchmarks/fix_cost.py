"""What `fix` and `fix --plan` cost, as ratios to `check` of the same
domain, in time and in peak memory, for large domains (about 16 MB) of
several shapes (benchmarks/shapes.py).

Each measurement runs in a process of its own, as `hvtune check` and `hvtune
fix` would: time is the best of a few runs, memory the process's peak
resident size (lxml's tree included, which tracemalloc does not see; the
interpreter and the text read included, as for the command).

Goal: at most 3x in time and in memory.

    python benchmarks/fix_cost.py [--megabytes 16] [--repeat R] [--shape NAME]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time

from shapes import ONE_ELEMENT, SHAPES

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


def _run(operation: str, text: str) -> None:
    if operation == "check":
        check_reading(read_text(text, source="big.xml"))
    elif operation == "fix":
        fix_text(text, source="big.xml")
    else:
        plan_text(text, source="big.xml", goals=Goals(), guest_os="win11", host=load_profile("intel-nested"))


def _measure(shape: str, operation: str, megabytes: float, repeat: int) -> dict[str, float]:
    """In this process: the best time and the peak memory."""
    text = _domain(shape, megabytes)
    _run(operation, SHAPES[shape](10))  # warm the catalog and caches
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        _run(operation, text)
        times.append(time.perf_counter() - start)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"seconds": min(times), "megabytes": peak / 1024, "size": len(text) / 1e6}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--megabytes", type=float, default=16.0)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--shape", action="append", choices=sorted(SHAPES), help="only these shapes")
    parser.add_argument("--child", nargs=2, metavar=("SHAPE", "OPERATION"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(_measure(*args.child, args.megabytes, args.repeat)))
        return
    print(
        f"{'shape':26} {'MB':>5} {'check s':>8} {'fix s':>7} {'plan s':>7} {'check MB':>9} {'fix MB':>7} {'plan MB':>8}"
    )
    worst = {"time": 0.0, "memory": 0.0}
    for shape in args.shape or SHAPES:
        results = {}
        for operation in OPERATIONS:
            command = [sys.executable, __file__, "--child", shape, operation]
            command += ["--megabytes", str(args.megabytes), "--repeat", str(args.repeat)]
            done = subprocess.run(command, capture_output=True, text=True, check=True)
            results[operation] = json.loads(done.stdout)
        check, fix, plan = (results[operation] for operation in OPERATIONS)
        for operation in ("fix", "fix --plan"):
            worst["time"] = max(worst["time"], results[operation]["seconds"] / check["seconds"])
            worst["memory"] = max(worst["memory"], results[operation]["megabytes"] / max(check["megabytes"], 1.0))
        print(
            f"{shape:26} {check['size']:5.1f} {check['seconds']:8.2f} {fix['seconds']:7.2f} {plan['seconds']:7.2f}"
            f" {check['megabytes']:9.0f} {fix['megabytes']:7.0f} {plan['megabytes']:8.0f}"
            f"   fix {fix['seconds'] / check['seconds']:.2f}x/{fix['megabytes'] / max(check['megabytes'], 1.0):.2f}x"
            f"  plan {plan['seconds'] / check['seconds']:.2f}x/{plan['megabytes'] / max(check['megabytes'], 1.0):.2f}x"
        )
    print(f"worst ratios (time, memory): {worst['time']:.2f}x, {worst['memory']:.2f}x  (goal: at most 3x each)")


if __name__ == "__main__":
    main()
