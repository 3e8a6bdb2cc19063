"""Wall time of the lab for one configuration: building the guest's
initramfs, then booting the guest, measuring inside it and powering off.

    python benchmarks/lab_time.py [--cpu CPU] [--accel kvm|tcg] [--kernel PATH] [--runs N]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from hvtune.bench.build import build_core
from hvtune.bench.options import LAB_OPTIONS
from hvtune.errors import InputError
from hvtune.lab.guest import boot
from hvtune.lab.initramfs import build_initramfs
from hvtune.lab.kernel import fetch_kernel, find_kernel
from hvtune.vm.initramfs import find_busybox
from hvtune.vm.spec import VmSpec


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cpu", default="max,kvm=off,hv-relaxed,hv-time")
    parser.add_argument("--accel", default="tcg", choices=["kvm", "tcg"])
    parser.add_argument("--kernel")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    kernel = Path(args.kernel) if args.kernel else _kernel()
    builds, boots = [], []
    with tempfile.TemporaryDirectory() as folder:
        for _ in range(args.runs):
            start = time.perf_counter()
            initramfs = build_initramfs(
                Path(folder) / "initramfs.gz",
                busybox=find_busybox("benchmarks/lab_time.py"),
                bench=build_core(static_only=True).path,
                arguments=LAB_OPTIONS.arguments(),
            )
            built = time.perf_counter()
            run = boot(VmSpec(kernel, initramfs, args.cpu, args.accel))
            assert run.problem is None, run.problem
            builds.append(built - start)
            boots.append(time.perf_counter() - built)
    print(f"guest: -cpu {run.cpu}, {args.accel.upper()}, kernel {kernel.name}")
    print(f"initramfs:               {statistics.median(builds) * 1000:8.0f} ms (median of {args.runs})")
    print(f"boot, measure, power off: {statistics.median(boots):7.2f} s  (median of {args.runs})")


def _kernel() -> Path:
    """This host's kernel or a cached one, else Debian's cloud kernel, fetched."""
    try:
        return find_kernel(None)
    except InputError:
        return fetch_kernel()


if __name__ == "__main__":
    main()
