"""hvtune's read of a libvirt domain (parse, the facts, the config), as a
ratio to a bare lxml parse (etree.fromstring) of the same bytes, measured
in the same process, the two taking turns (benchmarks/taking_turns.py),
for domains of many shapes (benchmarks/shapes.py) at growing sizes: the
ratio must not grow with the size.

Goal: at most 3x for every shape and size.

    python benchmarks/read_shapes.py [--sizes 1000,10000,100000] [--repeat R] [--seconds S] [--shape NAME]
"""

from __future__ import annotations

import argparse

from lxml import etree
from shapes import SHAPES
from taking_turns import best_cpu_seconds

from hvtune.formats import read_text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=1.0, help="more turns until they took this long (CPU)")
    parser.add_argument("--shape", action="append", choices=sorted(SHAPES), help="only these shapes")
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",")]
    print(f"{'shape':26} {'n':>7} {'MB':>6} {'lxml ms':>9} {'read ms':>9} {'ratio':>6}")
    worst = 0.0
    for name in args.shape or SHAPES:
        for size in sizes:
            text = SHAPES[name](size)
            data = text.encode()
            read_text(text, source=name)  # warm the catalog and caches
            operations = {
                "bare": lambda data=data: etree.fromstring(data),
                "read": lambda text=text, name=name: read_text(text, source=name),
            }
            seconds = best_cpu_seconds(operations, args.repeat, args.seconds)
            bare, read = seconds["bare"], seconds["read"]
            worst = max(worst, read / bare)
            print(f"{name:26} {size:7} {len(data) / 1e6:6.2f} {bare * 1e3:9.2f} {read * 1e3:9.2f} {read / bare:6.2f}")
    print(f"worst ratio: {worst:.2f}x  (goal: at most 3x)")


if __name__ == "__main__":
    main()
