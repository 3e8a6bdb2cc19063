"""Wall time of Linux guests booted inside the sandbox (L2 under the
stack's Hyper-V KVM): one L1 boot whose agent only reports the KVM facts
(the baseline), then one that also boots --guests L2 guests that report
what they saw (as verify --boot does), and the time each guest reported.

    python benchmarks/sandbox_boot.py [--release bookworm] [--cpu CPU] [--guests N]
"""

from __future__ import annotations

import argparse
import statistics
import time

from hvtune.sandbox.l1 import run_l1
from hvtune.sandbox.l2 import boot_cases, guest_spec, initramfs_files, read_boots
from hvtune.sandbox.stack import ensure_stack

HYPERV = "host,kvm=off,hv-relaxed,hv-vapic,hv-time,hv-vpindex,hv-runtime,hv-synic,hv-stimer,hv-frequencies"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--release", default="bookworm")
    parser.add_argument("--cpu", default=HYPERV)
    parser.add_argument("--guests", type=int, default=2)
    args = parser.parse_args()
    stack = ensure_stack(args.release)
    start = time.perf_counter()
    run_l1(stack, {"cases": []})
    baseline = time.perf_counter() - start
    specs = [guest_spec(stack, args.cpu, measure=False) for _ in range(args.guests)]
    start = time.perf_counter()
    outcome = run_l1(stack, {"cases": boot_cases(specs)}, initramfs_files("benchmarks/sandbox_boot.py", None))
    with_guests = time.perf_counter() - start
    runs = read_boots(specs, outcome.results(), measured=False)
    assert all(run.problem is None for run in runs), [run.problem for run in runs]
    each = statistics.median(run.seconds for run in runs)
    print(f"sandbox {args.release}, guests with -cpu {args.cpu}")
    print(f"  each saw: {runs[0].hypervisor}; clocksource {runs[0].clocksource}")
    print(f"L1 boot, agent, power off:        {baseline:6.1f} s")
    print(f"the same with {args.guests} L2 guest(s):       {with_guests:6.1f} s  ({with_guests / baseline:.2f}x)")
    print(f"one L2 guest, QEMU start to off:  {each:6.1f} s  (median of {args.guests})")


if __name__ == "__main__":
    main()
