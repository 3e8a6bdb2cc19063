"""Wall time of `hvtune host` (the whole probe: KVM ioctls, /proc and /sys,
QEMU and libvirt versions, libvirt's domcapabilities), and its ratio to
`virsh domcapabilities` alone when libvirt is here, both run as fresh
processes in the same loop.

    python benchmarks/host_probe.py [--runs N]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
from pathlib import Path

from startup import wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    hvtune = [str(Path(sys.executable).with_name("hvtune")), "host", "--format", "json"]
    virsh = shutil.which("virsh")
    domcaps = [virsh, "-c", "qemu:///system", "domcapabilities", "--virttype", "kvm"] if virsh else None
    probe: list[float] = []
    libvirt: list[float] = []
    for _ in range(args.runs):  # interleave, so machine noise hits both alike
        probe += wall(hvtune, 1)
        if domcaps:
            libvirt += wall(domcaps, 1)
    mine = statistics.median(probe)
    print(f"hvtune host:               {mine * 1000:8.1f} ms (median of {args.runs})")
    if libvirt:
        theirs = statistics.median(libvirt)
        print(f"virsh domcapabilities:     {theirs * 1000:8.1f} ms (median of {args.runs})")
        print(f"ratio:                     {mine / theirs:8.2f}x")
    else:
        print("virsh domcapabilities:     (libvirt is not installed here)")


if __name__ == "__main__":
    main()
