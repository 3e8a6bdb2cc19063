"""hvtune.guestview: the hypervisor CPUID leaves QEMU builds, predicted
from a configuration and a host profile. Judged on the bundled hosts
against the catalog's facts, and against leaves a real QEMU and KVM gave
(tests/data/guestview: what the sandbox's CPUID payload read on the
bookworm and bullseye stacks; the sandbox test compares every started
configuration on every stack, tests/test_sandbox.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hvtune.catalog import load_catalog
from hvtune.cpuid import Leaves, is_set
from hvtune.formats.qemu import read_cpu_option
from hvtune.guestview import GuestCpuid, cpuid_differences, passthrough_features, predict_cpuid
from hvtune.host.profile_json import load_profile
from hvtune.report.guestview import difference_text

OBSERVED = Path(__file__).parent / "data" / "guestview"  # what the sandbox's payload read, per stack
FACTS = load_catalog().cpuid.qemu


def _predict(cpu: str, host: str) -> GuestCpuid:
    return predict_cpuid(read_cpu_option(cpu, source="--cpu").config, load_profile(host))


def _observed() -> dict[tuple[str, str], Leaves]:
    """Every recorded reading, by (host profile, -cpu value)."""
    found = {}
    for path in sorted(OBSERVED.glob("*.json")):
        recorded = json.loads(path.read_text())
        for cpu, leaves in recorded["observed"].items():
            read = {int(leaf, 16): (regs[0], regs[1], regs[2], regs[3]) for leaf, regs in leaves.items()}
            found[(recorded["host"], cpu)] = read
    return found


@pytest.mark.parametrize(("host", "cpu"), sorted(_observed()))
def test_the_prediction_is_what_the_sandbox_guest_read(host: str, cpu: str) -> None:
    differing = cpuid_differences(_predict(cpu, host), _observed()[(host, cpu)])
    assert [difference_text(row) for row in differing] == []


def test_without_hyper_v_only_kvm_signs_at_the_first_leaf() -> None:
    predicted = _predict("host", "sandbox-bookworm")
    assert list(predicted.leaves) == [FACTS.kvm_first]
    assert predicted.unpredicted == (FACTS.kvm_first + 1,)
    assert _predict("host,kvm=off", "sandbox-bookworm").leaves == {}


def test_a_host_without_hyper_v_emulation_gets_no_hyper_v_leaves() -> None:
    predicted = _predict("host,hv-relaxed,hv-spinlocks=0x1fff", "no-hyperv")
    assert list(predicted.leaves) == [FACTS.kvm_first] and predicted.features == ()


@pytest.mark.parametrize("name", [prop.name for prop in load_catalog().features])
def test_each_feature_sets_its_bits_and_kvm_moves(name: str) -> None:
    catalog = load_catalog()
    needed = [prop.name for prop in catalog.requirements((name,))]
    predicted = _predict(",".join(["host", *needed, name]), "intel-nested")
    assert all(is_set(predicted.leaves, bit) for bit in catalog.property(name).cpuid)
    assert all(is_set(predicted.leaves, bit) for bit in FACTS.always)  # type: ignore[arg-type]
    assert FACTS.kvm_moved in predicted.leaves and FACTS.kvm_first in predicted.leaves
    nested = any(bit.leaf == FACTS.nested_leaf for bit in catalog.property(name).cpuid) or name == "hv-evmcs"
    assert predicted.leaves[FACTS.kvm_first][0] >= (FACTS.nested_leaf if nested else FACTS.last_leaf)


def test_evmcs_announces_the_nested_leaf_with_its_version() -> None:
    predicted = _predict("host,hv-vapic,hv-evmcs", "intel-nested")
    note = next(note for note in load_catalog().property("hv-evmcs").cpuid_also if note.value is not None)
    assert predicted.leaves[FACTS.nested_leaf][0] & note.mask == note.value
    assert predicted.leaves[FACTS.kvm_first][0] == FACTS.nested_leaf
    assert all(predicted.leaves[leaf] == (0, 0, 0, 0) for leaf in range(FACTS.last_leaf + 1, FACTS.nested_leaf))


def test_passthrough_copies_the_hosts_identity_and_features() -> None:
    profile = load_profile("intel-nested")
    predicted = _predict("host,hv-passthrough", "intel-nested")
    host = profile.kvm.hv_cpuid or {}
    assert predicted.leaves[FACTS.kvm_first][1:] == host[FACTS.kvm_first][1:]
    assert predicted.leaves[0x40000002] == host[0x40000002]
    assert predicted.leaves[0x40000004][1] == host[0x40000004][1]
    assert set(predicted.features) == set(passthrough_features(profile))


def test_the_cli_prints_json_that_holds_to_its_schema_and_text() -> None:
    import subprocess
    import sys

    from support.schemas import assert_valid

    argv = [sys.executable, "-m", "hvtune", "cpuid", "--cpu", "host,hv-relaxed", "--host", "sandbox-bookworm"]
    document = assert_valid(
        subprocess.run([*argv, "--format", "json"], capture_output=True, text=True, check=True).stdout
    )
    assert document["results"][0]["features"] == ["hv-relaxed"]
    assert document["results"][0]["unpredicted"] == [f"0x{FACTS.kvm_moved + 1:08X}"]
    text = subprocess.run(argv, capture_output=True, text=True, check=True).stdout
    assert "UseRelaxedTiming [hv-relaxed]" in text
    # hv-passthrough copies the host's registers, which its profile keeps as hex: the JSON has numbers
    passthrough = [
        sys.executable,
        "-m",
        "hvtune",
        "cpuid",
        "--cpu",
        "host,hv-passthrough",
        "--host",
        "sandbox-bookworm",
    ]
    done = subprocess.run([*passthrough, "--format", "json"], capture_output=True, text=True, check=True)
    assert assert_valid(done.stdout)["results"][0]["leaves"]["0x40000000"][1] == 0x756E694C  # "Linu"


def test_the_cli_refuses_no_input_in_one_line() -> None:
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-m", "hvtune", "cpuid", "--host", "sandbox-bookworm"], capture_output=True, text=True
    )
    assert done.returncode == 2 and len(done.stderr.strip().splitlines()) == 1


def test_qemu_before_6_1_copied_passthrough_and_set_fewer_privileges() -> None:
    """QEMU 5.2 (the bullseye sandbox): hv-passthrough gives the guest KVM's
    leaves as they are; HV_HYPERCALL_AVAILABLE comes only with the features
    that listed it then, and SynIC brings no message or event privileges."""
    host = load_profile("sandbox-bullseye").kvm.hv_cpuid or {}
    passthrough = _predict("host,hv-passthrough", "sandbox-bullseye")
    assert {leaf: passthrough.leaves[leaf] for leaf in host} == host
    hypercall = next(bit for bit in FACTS.always if bit.name == "HV_HYPERCALL_AVAILABLE")
    assert not is_set(_predict("host,hv-crash", "sandbox-bullseye").leaves, hypercall)  # type: ignore[arg-type]
    assert is_set(_predict("host,hv-relaxed", "sandbox-bullseye").leaves, hypercall)  # type: ignore[arg-type]
    assert is_set(_predict("host,hv-crash", "sandbox-bookworm").leaves, hypercall)  # type: ignore[arg-type]
    synic = "host,hv-vpindex,hv-synic"
    assert _predict(synic, "sandbox-bullseye").leaves[0x40000003][1] == 0
    assert _predict(synic, "sandbox-bookworm").leaves[0x40000003][1] == 0x30  # HV_POST_MESSAGES, HV_SIGNAL_EVENTS
