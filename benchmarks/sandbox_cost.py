"""What the sandbox costs: a cold stack build, and `hvtune verify` of one
configuration against a batch of more (-cpu values, then libvirt domains),
as wall times and as ratios to the one-configuration run of the same
process (the baseline: booting L1 and the agent, on this machine); and
what reading each started configuration's CPUID with the payload adds (the
same batch of configurations that start, with and without it, alternated).

Goals (issue 11): a cold build at most 90 s; a warm verify of one
configuration at most 10 s, and at most 1 s for each further one.

    python benchmarks/sandbox_cost.py [--release bookworm] [--configs 20] [--domains 5] [--cold]

--cold builds the stack afresh into a temporary cache (downloading every
package from the mirror apt uses here), then runs the warm measurements on
it; without it, the stack in ~/.cache/hvtune is used (built first if
missing, that build not counted).
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from collections.abc import Sequence

from hvtune.catalog import load_catalog
from hvtune.sandbox.places import Sandbox
from hvtune.sandbox.stack import build_stack, ensure_stack
from hvtune.sandbox.verify import Configuration, verify

DOMAIN = (
    "<domain type='kvm'><name>d</name><memory>1048576</memory>"
    "<os><type arch='x86_64' machine='q35'>hvm</type></os>"
    "<features><hyperv><relaxed state='on'/><vapic state='on'/><vpindex state='on'/><synic state='on'/>"
    "<stimer state='on'/></hyperv></features><cpu mode='host-passthrough'/>"
    "<clock offset='localtime'><timer name='hypervclock' present='yes'/></clock></domain>"
)


def _cpus(count: int) -> list[Configuration]:
    """Each feature alone, as many as asked (repeating the list if needed)."""
    names = [prop.name for prop in load_catalog().features]
    return [Configuration.typed(f"host,{names[index % len(names)]}") for index in range(count)]


def _starting(count: int, *, cpuid: bool) -> list[Configuration]:
    """Each feature with its requirements (most start), as many as asked."""
    catalog = load_catalog()
    names = [prop.name for prop in catalog.features]
    chosen = [names[index % len(names)] for index in range(count)]
    return [
        Configuration.typed(",".join(["host", *(p.name for p in catalog.requirements((name,))), name]), cpuid=cpuid)
        for name in chosen
    ]


def _timed(release: str, configurations: Sequence[Configuration]) -> float:
    start = time.perf_counter()
    verify(Sandbox(ensure_stack(release)), configurations)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--release", default="bookworm")
    parser.add_argument("--configs", type=int, default=20)
    parser.add_argument("--domains", type=int, default=5)
    parser.add_argument("--cold", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="hvtune-bench-cache-") as cache:
        if args.cold:
            os.environ["XDG_CACHE_HOME"] = cache
            start = time.perf_counter()
            build_stack(args.release)
            print(f"cold build of the {args.release} stack: {time.perf_counter() - start:.1f} s (goal: 90 s)")
        ensure_stack(args.release)
        _timed(args.release, _cpus(1))  # the first run records the stack's host profile: not counted
        one = _timed(args.release, _cpus(1))
        many = _timed(args.release, _cpus(1 + args.configs))
        domains = _timed(
            args.release, [*_cpus(1), *(Configuration.of_domain(DOMAIN, source="d") for _ in range(args.domains))]
        )
        without, with_cpuid = [], []
        for _ in range(2):  # alternated, so that the load of the machine weighs on both alike
            without.append(_timed(args.release, _starting(args.configs, cpuid=False)))
            with_cpuid.append(_timed(args.release, _starting(args.configs, cpuid=True)))
    each_cpu = (many - one) / args.configs
    each_domain = (domains - one) / max(args.domains, 1)
    print(f"verify, 1 -cpu value:            {one:6.1f} s  (baseline; goal: 10 s)")
    print(
        f"verify, {1 + args.configs:3d} -cpu values:        {many:6.1f} s  ratio {many / one:5.2f}; "
        f"{each_cpu:.2f} s each further (goal: 1 s)"
    )
    print(
        f"verify, 1 + {args.domains:2d} libvirt domains:  {domains:6.1f} s  ratio {domains / one:5.2f}; "
        f"{each_domain:.2f} s each domain"
    )
    bare, read = min(without), min(with_cpuid)
    print(
        f"verify, {args.configs:3d} -cpu values with requirements, without the CPUID payload {bare:6.1f} s, "
        f"with it {read:6.1f} s: ratio {read / bare:5.2f}; {(read - bare) / args.configs:+.2f} s each"
    )


if __name__ == "__main__":
    main()
