"""The real KVM judges hvtune: configurations run on each Debian release's
stack (QEMU and Hyper-V KVM in the sandbox: an L1 guest under TCG with
kvm_amd), and hvtune's verdict, first error line and passthrough expansion
must be what QEMU did, and the hypervisor CPUID leaves the CPUID payload
reads as every started configuration's guest what hvtune cpuid predicts,
all from that stack's bundled recorded profile.
Every case of a release runs in one L1 boot (the `ran` fixture, one per
release); each test then reads its own cases out of it.

bookworm runs the full set; the other releases a reduced one (every
property alone and with its requirements, passthrough, enforce-cpuid and
value edges, and fewer random subsets under the fixed seed only), which
keeps CI's cold run of all four stacks within its budget.

Random subsets come from hypothesis (a fixed seed and a fresh one, printed),
collected first and then run as a batch: one boot serves them all."""

from __future__ import annotations

import os
import random
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import given, seed, settings
from hypothesis import strategies as st

import hvtune
from hvtune.catalog import load_catalog
from hvtune.guestview import passthrough_features
from hvtune.host.profile import HostProfile
from hvtune.host.profile_json import load_profile
from hvtune.report.guestview import difference_text
from hvtune.report.verify import defect_line, verify_json
from hvtune.sandbox.places import Sandbox
from hvtune.sandbox.stack import RELEASES
from hvtune.sandbox.verify import Configuration, Verification, Verified, verify

from support.domains import HYPERVCLOCK, domain, hyperv
from support.sandbox import sandbox_stack
from support.schemas import assert_valid

FULL = "bookworm"  # the release judged with every case
FIXED_SEED = 20261201
FRESH_SEED = int(os.environ.get("HVTUNE_SANDBOX_SEED") or random.SystemRandom().randrange(2**32))
RANDOM_SUBSETS = 100  # per seed, on FULL
REDUCED_SUBSETS = 30  # fixed seed only, on the other releases
RANDOM_DOMAINS = 15  # per seed, on FULL: each goes through libvirt (define, start paused, monitor)
EXAMPLES = Path(hvtune.__file__).parent / "examples" / "libvirt"


def _features() -> list[str]:
    return [prop.name for prop in load_catalog().features]


@dataclass(frozen=True)
class Case:
    """A -cpu value, or a libvirt domain (`domain`, named by `cpu`) run
    through the stack's libvirt."""

    group: str
    cpu: str
    domain: str | None = None

    def configuration(self) -> Configuration:
        if self.domain is not None:
            return Configuration.of_domain(self.domain, source=self.cpu)
        return Configuration.typed(self.cpu)


def _alone_and_with_requirements() -> Iterator[Case]:
    catalog = load_catalog()
    for name in _features():
        yield Case("alone", f"host,{name}")
        needed = [prop.name for prop in catalog.requirements((name,))]
        yield Case("with-requirements", ",".join(["host", *needed]))


def _passthrough(profile: HostProfile) -> Iterator[Case]:
    yield Case("passthrough", "host,hv-passthrough")
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


def _subsets(chosen_seed: int, count: int) -> list[Case]:
    """`count` random sets of Hyper-V features (each on or explicitly off),
    from hypothesis under `chosen_seed`."""
    collected: list[Case] = []
    names = _features()

    @seed(chosen_seed)
    @settings(max_examples=count, database=None, deadline=None)
    @given(st.dictionaries(st.sampled_from(names), st.booleans(), min_size=1, max_size=len(names)))
    def collect(states: dict[str, bool]) -> None:
        tokens = [name if on else f"{name}=off" for name, on in states.items()]
        collected.append(Case(f"random (seed {chosen_seed})", ",".join(["host", *tokens])))

    collect()
    return collected[:count]


def _examples() -> Iterator[Case]:
    for path in sorted(EXAMPLES.glob("*.xml")):
        yield Case("examples", f"example {path.name}", domain=path.read_text())


def _libvirt_children() -> list[str]:
    """Every <hyperv> child a libvirt release knows (those newer than the
    stack's are refused by it), with a value where it needs one."""
    values = {"spinlocks": "spinlocks retries='8191'", "vendor_id": "vendor_id value='KVMKVMKVM'"}
    return [values.get(name, name) for name in load_catalog().libvirt.hyperv_elements]


def _domains(chosen_seed: int) -> list[Case]:
    """Random domains through libvirt: a set of <hyperv> children (each on or
    off), with or without the hypervclock timer, under a host CPU mode."""
    collected: list[Case] = []
    children = _libvirt_children()

    @seed(chosen_seed)
    @settings(max_examples=RANDOM_DOMAINS, database=None, deadline=None)
    @given(
        st.dictionaries(st.sampled_from(children), st.booleans(), min_size=1, max_size=len(children)),
        st.booleans(),
        st.sampled_from(["host-passthrough", "host-model"]),
    )
    def collect(states: dict[str, bool], clock: bool, mode: str) -> None:
        chosen = [child if on else f"{child.split(' ')[0]} state='off'" for child, on in states.items()]
        text = domain(hyperv(*chosen), HYPERVCLOCK if clock else "", cpu=f"<cpu mode='{mode}'/>")
        collected.append(
            Case(f"domains (seed {chosen_seed})", f"domain {len(collected)} (seed {chosen_seed})", domain=text)
        )

    collect()
    return collected[:RANDOM_DOMAINS]


def _cases(release: str, profile: HostProfile) -> list[Case]:
    """Every release: each property alone and with its requirements,
    passthrough, enforce-cpuid and value edges, random subsets; FULL also
    the bundled examples and random domains through its libvirt."""
    cases = [*_alone_and_with_requirements(), *_passthrough(profile), *_values()]
    if release == FULL:
        cases += _subsets(FIXED_SEED, RANDOM_SUBSETS) + _subsets(FRESH_SEED, RANDOM_SUBSETS)
        cases += [*_examples(), *_domains(FIXED_SEED), *_domains(FRESH_SEED)]
    else:
        cases += _subsets(FIXED_SEED, REDUCED_SUBSETS)
    return list({case.cpu: case for case in cases}.values())


@pytest.fixture(scope="module", params=RELEASES)
def release(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="module")
def stack_profile_for_cases(release: str) -> HostProfile:
    """The stack's recorded profile: the one bundled (sandbox-RELEASE)."""
    return load_profile(f"sandbox-{release}")


@pytest.fixture(scope="module")
def ran(release: str, stack_profile_for_cases: HostProfile) -> dict[str, tuple[Case, Verified, Verification]]:
    stack = sandbox_stack(release)
    cases = _cases(release, stack_profile_for_cases)
    configurations = [case.configuration() for case in cases]
    verification = verify(Sandbox(stack), configurations)
    print(f"sandbox {release}: {len(cases)} configurations in {verification.seconds:.0f} s; fresh seed {FRESH_SEED}")
    return {case.cpu: (case, result, verification) for case, result in zip(cases, verification.results, strict=True)}


# the cases only FULL runs: the test takes that release alone
ONLY_FULL = pytest.mark.parametrize("release", [FULL], indirect=True)


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
    recorded = verification.place.recorded_profile()
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
    """hvtune's expansion of hv-passthrough (the features the host supports
    that its QEMU has and passes through) is the set of features QEMU turned on."""
    _, result, _ = ran["host,hv-passthrough"]
    assert result.started
    features = set(_features())
    on = {name for name, value in result.properties.items() if value is True and name in features}
    assert on == set(passthrough_features(stack_profile_for_cases))


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


@ONLY_FULL
def test_the_bundled_examples_through_the_stacks_libvirt(ran: dict[str, tuple[Case, Verified, Verification]]) -> None:
    """Each bundled domain, defined and started paused by the stack's own
    libvirt: the same refusal (libvirt's or QEMU's line) or the same -cpu."""
    assert _disagreements(ran, "examples") == []
    _, started, _ = ran["example win2019-proxmox-like.xml"]
    assert started.started and started.cpu is not None and "hv-stimer=on" in started.cpu
    assert started.properties["hv-stimer"] is True
    _, refused, _ = ran["example win10-broken-vendor-id.xml"]
    assert refused.refused_by == "libvirt" and refused.error is not None and "vendor_id" in refused.error


@ONLY_FULL
def test_random_domains_through_the_stacks_libvirt(ran: dict[str, tuple[Case, Verified, Verification]]) -> None:
    assert _disagreements(ran, "domains") == [], f"fresh seed {FRESH_SEED} (HVTUNE_SANDBOX_SEED reruns it)"


def test_every_guest_reads_the_predicted_hyper_v_cpuid(ran: dict[str, tuple[Case, Verified, Verification]]) -> None:
    """Every configuration that started ran the CPUID payload as its guest,
    which read the hypervisor leaves hvtune cpuid predicts from the stack's
    bundled profile (a domain: from hvtune's reading of it), leaf by leaf,
    register by register."""
    unread = [case.cpu for case, result, _ in ran.values() if result.started and result.compared_cpuid is None]
    assert unread == []
    differing = [
        f"[{case.group}] {case.cpu}: {difference_text(row)}"
        for case, result, _ in ran.values()
        for row in result.cpuid_differences
    ]
    assert differing == [], f"fresh seed {FRESH_SEED} (HVTUNE_SANDBOX_SEED reruns it)"


@ONLY_FULL
def test_the_json_report_holds_to_its_schema(ran: dict[str, tuple[Case, Verified, Verification]]) -> None:
    _, _, verification = next(iter(ran.values()))
    document = assert_valid(verify_json(verification))
    through = {record["source"]: record["through"] for record in document["results"]}
    assert through["--cpu"] == "qemu" and through["example win2022-good.xml"] == "libvirt"
