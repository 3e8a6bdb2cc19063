"""Every Debian release of the matrix judges hvtune's libvirt translation:
the release's own libvirtd (sandbox.userland: its image on this host, in
private namespaces) runs `virsh domxml-to-native` on libvirt's upstream
test vectors, the bundled examples, generated domains (hypothesis, a fixed
seed and a fresh one) and every plan hvtune makes (bundled hosts x guest
OSes x goals) written for that release; hvtune, told that release, must
write the identical -cpu value or refuse with libvirt's own line. <hyperv
mode='host-model'> is expanded from what that libvirtd offers on this host
(its domcapabilities), as libvirt itself does, machine types are judged
for the release's QEMU, and a fixed TSC frequency against this machine's
KVM (hvtune's own probe of it), which that libvirtd asks.

The vectors and examples run as the sandbox's reducer keeps them
(hvtune.sandbox.domain, with the CPU model kept): domain type, vCPUs,
architecture and machine type, <features>, <cpu>, <clock> and panic
devices — every part that decides Hyper-V — without the disks, networks,
TPM, firmware and audio that tie them to their own host or to a newer
libvirt (seen refused here: no /dev/net/tun, TPM 2.0, no EFI firmware,
7.0's "unknown audio type 'none'"), which are not hvtune's to judge."""

from __future__ import annotations

import itertools
import os
import random
from functools import cache
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, seed, settings

import hvtune
from hvtune.catalog import load_catalog
from hvtune.config import HypervConfig
from hvtune.converting import refuse_values
from hvtune.formats.domcaps import HypervCapabilities, parse_domcaps
from hvtune.formats.libvirt_patch import into_domain
from hvtune.host.profile import HostProfile, probe_host
from hvtune.host.profile_json import bundled_profile_names, load_profile
from hvtune.plan import Goals, make_plan
from hvtune.sandbox.domain import runnable_domain
from hvtune.sandbox.stack import RELEASES
from hvtune.sandbox.userland import run_userland

from strategies import domains
from support.libvirt import libvirt_disagreement, native_of
from support.matrix import count
from support.sandbox import sandbox_stack

VECTORS = Path(__file__).parent / "data" / "libvirt-vectors"
EXAMPLES = Path(hvtune.__file__).parent / "examples" / "libvirt"
FIXED_SEED = 20261201
FRESH_SEED = int(os.environ.get("HVTUNE_MATRIX_SEED") or random.SystemRandom().randrange(2**32))
GENERATED = 150  # per seed and release
PLAN_GOALS = [
    Goals(migratable, nested, gpu, overcommit, tsc)
    for migratable, nested, gpu, overcommit in itertools.product([False, True], repeat=4)
    for tsc in ([None, 2_600_000_000] if migratable else [None])
]
PLAN_DOMAIN = (
    "<domain type='kvm'><name>plan</name><memory unit='MiB'>64</memory>"
    "<os><type arch='x86_64' machine='q35'>hvm</type></os><cpu mode='host-passthrough'/></domain>"
)


def _generated(chosen_seed: int) -> dict[str, str]:
    collected: dict[str, str] = {}

    @seed(chosen_seed)
    @settings(max_examples=GENERATED, database=None, deadline=None, suppress_health_check=list(HealthCheck))
    @given(domains())
    def collect(xml: str) -> None:
        collected.setdefault(f"generated {len(collected)} (seed {chosen_seed})", xml)

    collect()
    return collected


def _reduced(path: Path) -> str:
    """A vector or example as the sandbox's reducer keeps it, CPU model
    included (see the module's docstring)."""
    return runnable_domain(path.read_text(), source=str(path), name=path.stem, fit_cpu=False)


@cache
def _plan_domains() -> tuple[tuple[str, HypervConfig, str], ...]:
    """Every distinct plan hvtune makes for the bundled hosts, guest OSes
    and goals, written into a KVM domain of a host-passthrough CPU (the CPU
    plans assume): (name, config, domain)."""
    written: dict[str, tuple[str, HypervConfig]] = {}
    for host_name in bundled_profile_names():
        host = load_profile(host_name)
        for guest, goals in itertools.product(load_catalog().guests, PLAN_GOALS):
            made = make_plan(guest.name, host, goals).config
            name = f"plan {guest.name} on {host_name} {'+'.join(goals.names()) or 'speed'}"
            written.setdefault(into_domain(PLAN_DOMAIN, made, source="plan"), (name, made))
    return tuple((name, made, xml) for xml, (name, made) in written.items())


def _plans(version: str) -> dict[str, str]:
    """The plans' domains, each written for libvirt `version` (hvtune
    writes nothing that release refuses to read)."""
    for _, made, _ in _plan_domains():
        refuse_values(made, "libvirt", "plan", version)
    return {name: xml for name, _, xml in _plan_domains()}


@cache
def _domains() -> dict[str, str]:
    found = {f"vector {p.relative_to(VECTORS)}": _reduced(p) for p in sorted(VECTORS.glob("*/*.xml"))}
    found.update((f"example {p.name}", _reduced(p)) for p in sorted(EXAMPLES.glob("*.xml")))
    return {**found, **_generated(FIXED_SEED), **_generated(FRESH_SEED)}


@cache
def _this_host() -> HostProfile:
    """This machine, whose KVM the release's libvirtd asks (its TSC)."""
    return probe_host(libvirt_uri=None)


def _offered(record: dict[str, str | None], release: str) -> dict[str, HypervCapabilities | None]:
    """The Hyper-V capabilities the release's libvirtd offered per domain
    type on this host, which it expands <hyperv mode='host-model'> from."""
    return {
        virttype: parse_domcaps(xml, source=f"{release} domcapabilities --virttype {virttype}")
        for virttype, xml in record.items()
        if virttype != "id" and xml
    }


@pytest.mark.parametrize("release", RELEASES)
def test_the_releases_libvirt_translates_as_hvtune_says(release: str) -> None:
    stack = sandbox_stack(release)
    version = stack.upstream("libvirt")
    cases = {**_domains(), **_plans(version)}
    request = {"domcapabilities": True, "cases": [{"id": name, "native": xml} for name, xml in cases.items()]}
    ran = run_userland(stack, request).results()
    offered = _offered(ran.get("domcapabilities", {}), release)
    disagreements = []
    for name, xml in cases.items():
        result = ran[name]
        native = native_of(result["translated"], result["argv"], result["stderr"])
        problem = libvirt_disagreement(xml, native, version, offered, stack.upstream("qemu"), _this_host())
        if problem is not None:
            disagreements.append(f"{name}: {problem}")
    count(release, "libvirt", len(cases), len(cases) - len(disagreements))
    assert disagreements == [], f"{len(disagreements)} of {len(cases)}; fresh seed {FRESH_SEED}\n" + "\n".join(
        disagreements
    )
