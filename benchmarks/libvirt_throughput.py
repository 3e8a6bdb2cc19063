"""Throughput of hvtune reading and checking 10,000 realistic libvirt
domain XMLs (about 5 KB each), as a ratio to only parsing the same bytes
with lxml (etree.fromstring), measured in the same process.

Goal: at most 2x.

    python benchmarks/libvirt_throughput.py [--count N] [--repeat R]
"""

from __future__ import annotations

import argparse

from check_throughput import best_of
from domains import domain_xmls
from lxml import etree

from hvtune.checking import check_reading
from hvtune.formats import read_text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    domains = domain_xmls(args.count)
    texts = [data.decode() for data in domains]

    def lxml_only() -> None:
        for data in domains:
            etree.fromstring(data)

    def read_and_check() -> int:
        findings = 0
        for index, text in enumerate(texts):
            reading = read_text(text, source=f"domain-{index}")
            findings += len(check_reading(reading, libvirt_version="12.5.0").findings)
        return findings

    found = read_and_check()  # warm the catalog and caches
    bare = best_of(args.repeat, lxml_only)
    full = best_of(args.repeat, read_and_check)
    size = sum(map(len, domains)) / len(domains)
    print(f"domains:          {len(domains)} (average {size / 1024:.1f} KiB, {found} findings)")
    print(f"lxml parse only:  {len(domains) / bare:12,.0f} domains/s")
    print(f"read + check:     {len(domains) / full:12,.0f} domains/s")
    print(f"ratio:            {full / bare:12.2f}x  (goal: at most 2x)")


if __name__ == "__main__":
    main()
