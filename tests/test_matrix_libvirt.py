"""Every Debian release of the matrix judges hvtune's libvirt translation:
the release's own libvirtd (sandbox.userland: its image on this host, in
private namespaces) runs `virsh domxml-to-native` on libvirt's upstream
test vectors, the bundled examples and generated domains (hypothesis, a
fixed seed and a fresh one), and hvtune, told that release, must write the
identical -cpu value or refuse with libvirt's own line. <hyperv
mode='host-model'> is expanded from what that libvirtd offers on this host
(its domcapabilities), as libvirt itself does."""

from __future__ import annotations

import os
import random
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, seed, settings

import hvtune
from hvtune.formats.domcaps import HypervCapabilities, parse_domcaps
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


def _generated(chosen_seed: int) -> dict[str, str]:
    collected: dict[str, str] = {}

    @seed(chosen_seed)
    @settings(max_examples=GENERATED, database=None, deadline=None, suppress_health_check=list(HealthCheck))
    @given(domains())
    def collect(xml: str) -> None:
        collected.setdefault(f"generated {len(collected)} (seed {chosen_seed})", xml)

    collect()
    return collected


def _domains() -> dict[str, str]:
    found = {f"vector {p.relative_to(VECTORS)}": p.read_text() for p in sorted(VECTORS.glob("*/*.xml"))}
    found.update((f"example {p.name}", p.read_text()) for p in sorted(EXAMPLES.glob("*.xml")))
    return {**found, **_generated(FIXED_SEED), **_generated(FRESH_SEED)}


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
    cases = _domains()
    request = {"domcapabilities": True, "cases": [{"id": name, "native": xml} for name, xml in cases.items()]}
    ran = run_userland(stack, request).results()
    offered = _offered(ran.get("domcapabilities", {}), release)
    disagreements = []
    for name, xml in cases.items():
        result = ran[name]
        native = native_of(result["translated"], result["argv"], result["stderr"])
        problem = libvirt_disagreement(xml, native, version, offered)
        if problem is not None:
            disagreements.append(f"{name}: {problem}")
    count(release, "libvirt", len(cases), len(cases) - len(disagreements))
    assert disagreements == [], f"{len(disagreements)} of {len(cases)}; fresh seed {FRESH_SEED}\n" + "\n".join(
        disagreements
    )
