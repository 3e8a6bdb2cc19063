"""The real KVM judges hvtune: configurations run on the bookworm stack's
QEMU and Hyper-V KVM (the sandbox: an L1 guest under TCG with kvm_amd), and
hvtune's verdict, first error line and passthrough expansion must be what
QEMU did. Every case runs in one L1 boot (the `ran` fixture); each test
then reads its own cases out of it.

Random subsets come from hypothesis (a fixed seed and a fresh one, printed),
collected first and then run as a batch: one boot serves them all."""

from __future__ import annotations

import os
import random
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from hypothesis import given, seed, settings
from hypothesis import strategies as st

from hvtune.catalog import load_catalog
from hvtune.host.profile import HostProfile
from hvtune.host.profile_json import load_profile
from hvtune.report.verify import defect_line
from hvtune.sandbox.verify import Configuration, Verification, Verified, stack_profile, verify

from support.sandbox import RELEASE, sandbox_stack

FIXED_SEED = 20261201
FRESH_SEED = int(os.environ.get("HVTUNE_SANDBOX_SEED") or random.SystemRandom().randrange(2**32))
RANDOM_SUBSETS = 100  # per seed


def _features() -> list[str]:
    return [prop.name for prop in load_catalog().features]


@dataclass(frozen=True)
class Case:
    group: str
    cpu: str
    cpuid: bool = False


def _alone_and_with_requirements() -> Iterator[Case]:
    catalog = load_catalog()
    for name in _features():
        yield Case("alone", f"host,{name}")
        needed = [prop.name for prop in catalog.requirements((name,))]
        yield Case("with-requirements", ",".join(["host", *needed]))


def _passthrough(profile: HostProfile) -> Iterator[Case]:
    yield Case("passthrough", "host,hv-passthrough", cpuid=True)
    for name in _features():
        if not profile.support.get(name):
            yield Case("passthrough", f"host,hv-passthrough,{name}")


def _values() -> Iterator[Case]:
    base = "host,hv-relaxed,hv-vapic,hv-time"
    yield Case("enforce", f"{base},hv-enforce-cpuid")
    yield Case("enforce", "host,hv-enforce-cpuid,hv-stimer")
    yield Case("enforce", "host,hv-enforce-cpuid,hv-passthrough")
    for retries in ("0", "4094", "4095", "0x1000", "0xffffffff", "4294967296"):
        yield Case("values", f"{base},hv-spinlocks={retries}")
    for vendor in ("Microsoft Hv", "KVMKVMKVM", "ABCDEFGHIJKL", "ABCDEFGHIJKLM", ""):
        yield Case("values", f"{base},hv-vendor-id={vendor}")


def _subsets(chosen_seed: int) -> list[Case]:
    """Random sets of Hyper-V features (each on or explicitly off), from
    hypothesis under `chosen_seed`."""
    collected: list[Case] = []
    names = _features()

    @seed(chosen_seed)
    @settings(max_examples=RANDOM_SUBSETS, database=None, deadline=None)
    @given(st.dictionaries(st.sampled_from(names), st.booleans(), min_size=1, max_size=len(names)))
    def collect(states: dict[str, bool]) -> None:
        tokens = [name if on else f"{name}=off" for name, on in states.items()]
        collected.append(Case(f"random (seed {chosen_seed})", ",".join(["host", *tokens])))

    collect()
    return collected[:RANDOM_SUBSETS]


def _cases(profile: HostProfile) -> list[Case]:
    cases = [*_alone_and_with_requirements(), *_passthrough(profile), *_values()]
    cases += _subsets(FIXED_SEED) + _subsets(FRESH_SEED)
    return list({case.cpu: case for case in cases}.values())


@pytest.fixture(scope="module")
def stack_profile_for_cases() -> HostProfile:
    """The stack's recorded profile: the one bundled (sandbox-bookworm)."""
    return load_profile(f"sandbox-{RELEASE}")


@pytest.fixture(scope="module")
def ran(stack_profile_for_cases: HostProfile) -> dict[str, tuple[Case, Verified, Verification]]:
    stack = sandbox_stack()
    cases = _cases(stack_profile_for_cases)
    configurations = [Configuration.typed(case.cpu, cpuid=case.cpuid) for case in cases]
    verification = verify(stack, configurations)
    print(f"sandbox: {len(cases)} configurations in {verification.seconds:.0f} s; fresh seed {FRESH_SEED}")
    return {case.cpu: (case, result, verification) for case, result in zip(cases, verification.results, strict=True)}


def _disagreements(ran: dict[str, tuple[Case, Verified, Verification]], *groups: str) -> list[str]:
    return [
        f"[{case.group}] {defect_line(verification, result)}"
        for case, result, verification in ran.values()
        if case.group.split(" ")[0] in groups and not result.agrees
    ]


def test_the_recorded_profile_is_the_bundled_one(
    ran: dict[str, tuple[Case, Verified, Verification]], stack_profile_for_cases: HostProfile
) -> None:
    """The KVM the cases ran on reports what the bundled profile says (its
    Hyper-V support), so predictions made from the bundle hold for it."""
    _, _, verification = next(iter(ran.values()))
    recorded = stack_profile(verification.stack)
    assert recorded is not None
    assert recorded.support == stack_profile_for_cases.support
    assert recorded.kvm.capabilities == stack_profile_for_cases.kvm.capabilities


def test_each_property_alone_and_with_its_requirements(ran: dict[str, tuple[Case, Verified, Verification]]) -> None:
    assert _disagreements(ran, "alone", "with-requirements") == []


def test_passthrough_alone_and_with_what_the_host_lacks(ran: dict[str, tuple[Case, Verified, Verification]]) -> None:
    assert _disagreements(ran, "passthrough") == []


def test_passthrough_expands_to_what_qemu_reports(
    ran: dict[str, tuple[Case, Verified, Verification]], stack_profile_for_cases: HostProfile
) -> None:
    """hvtune's expansion of hv-passthrough (the features the host supports)
    is the set of features QEMU turned on."""
    _, result, _ = ran["host,hv-passthrough"]
    assert result.started
    features = set(_features())
    on = {name for name, value in result.properties.items() if value is True and name in features}
    assert on == {name for name in features if stack_profile_for_cases.support.get(name)}


def test_the_guest_sees_hyper_v_cpuid_under_passthrough(ran: dict[str, tuple[Case, Verified, Verification]]) -> None:
    _, result, _ = ran["host,hv-passthrough"]
    assert result.cpuid is not None
    eax, ebx, ecx, edx = result.cpuid[0x40000000]
    assert eax >= 0x40000005
    assert (ebx.to_bytes(4, "little") + ecx.to_bytes(4, "little") + edx.to_bytes(4, "little")).startswith(b"Linux KVM")


def test_enforce_cpuid_spinlocks_and_vendor_ids(ran: dict[str, tuple[Case, Verified, Verification]]) -> None:
    assert _disagreements(ran, "enforce", "values") == []


def test_random_subsets(ran: dict[str, tuple[Case, Verified, Verification]]) -> None:
    assert _disagreements(ran, "random") == [], f"fresh seed {FRESH_SEED} (HVTUNE_SANDBOX_SEED reruns it)"
