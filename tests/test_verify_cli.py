"""hvtune verify from the command line: where it runs, what it says about
inputs it cannot run, and a real run in the sandbox with both kinds of
configuration (a -cpu value and a libvirt domain) in one boot; and how its
reports show the Hyper-V CPUID a guest read beside hvtune cpuid's
prediction, a difference included (a report made from a prediction and a
reading with one bit changed: the real stacks give none)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hvtune.formats.qemu import read_cpu_option
from hvtune.guestview import predict_cpuid
from hvtune.host.profile import probe_host
from hvtune.host.profile_json import load_profile
from hvtune.report.verify import defect_line, verify_json, verify_text
from hvtune.sandbox.payload import PAYLOAD_LEAVES
from hvtune.sandbox.places import LocalMachine, local_problem
from hvtune.sandbox.verify import Configuration, Verification, Verified, predict

from support.cli import assert_one_line_error, run
from support.domains import HYPERVCLOCK, domain, hyperv
from support.sandbox import sandbox_stack
from support.schemas import assert_valid


def test_nothing_to_verify_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "verify")
    assert code == 2 and out == ""
    assert_one_line_error(err, "nothing to verify")


def test_an_unusable_file_is_one_line_before_anything_boots(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("not a configuration\n")
    code, out, err = run(capsys, "verify", str(notes), "--on", "bookworm")
    assert code == 2 and out == ""
    assert_one_line_error(err, str(notes))


def test_local_is_this_machines_kvm_or_one_line_saying_why_not(capsys: pytest.CaptureFixture[str]) -> None:
    """--on local needs a KVM that emulates Hyper-V; the machines these tests
    run on (a PVM KVM) have none, and say so; where one is, it runs."""
    problem = local_problem(probe_host(libvirt_uri=None))
    code, out, err = run(capsys, "verify", "--on", "local", "--cpu", "host,hv-relaxed", "--format", "json")
    if problem is not None:
        assert code == 2 and out == ""
        assert_one_line_error(err, problem, "--on bookworm")
    else:
        document = assert_valid(out)
        assert document["results"][0]["stack"]["release"] == "local" and document["limits"] is None


def test_run_in_guest_needs_a_guest_that_boots(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "verify", "--cpu", "host", "--on", "bookworm", "--run-in-guest", "cpuid --cpu {cpu}")
    assert code == 2 and out == ""
    assert_one_line_error(err, "--run-in-guest", "--boot")
    code, _, err = run(capsys, "verify", "--cpu", "host", "--boot", "--on", "bookworm", "--run-in-guest", "cpuid '")
    assert code == 2
    assert_one_line_error(err, "--run-in-guest", "cannot split")


CPU = "host,hv-relaxed,hv-vpindex,hv-synic"


def _verification(tmp_path: Path, observed: dict[int, tuple[int, int, int, int]]) -> Verification:
    """A started -cpu value CPU whose guest read `observed`, beside hvtune's
    prediction for it on the bundled sandbox-bookworm."""
    profile = load_profile("sandbox-bookworm")
    configuration = Configuration.typed(CPU)
    result = Verified(
        source="--cpu",
        cpu=CPU,
        started=True,
        error=None,
        properties={},
        cpuid=observed,
        predicted=predict(configuration.judged, profile, None),
    )
    return Verification(LocalMachine(profile, tmp_path), profile, (result,), 1.0)


def _read_as_predicted() -> dict[int, tuple[int, int, int, int]]:
    """What a guest reads when it reads what hvtune predicts (all the
    payload's leaves, those QEMU does not build as zeros)."""
    predicted = predict_cpuid(read_cpu_option(CPU, source="--cpu").config, load_profile("sandbox-bookworm"))
    kvm_features = (0x01000000, 0, 0, 0)  # the leaf hvtune leaves to the host's KVM
    read = {leaf: predicted.leaves.get(leaf, (0, 0, 0, 0)) for leaf in PAYLOAD_LEAVES}
    return {**read, **dict.fromkeys(predicted.unpredicted, kvm_features)}


def test_the_cpuid_the_guest_read_is_shown_beside_the_prediction(tmp_path: Path) -> None:
    verification = _verification(tmp_path, _read_as_predicted())
    (result,) = verification.results
    assert result.agrees and result.cpuid_differences == ()
    text = verify_text(verification)
    assert "the Hyper-V CPUID the guest read is hvtune's prediction:" in text
    assert "    leaf        reg  predicted   observed" in text
    assert "    0x40000003  eax  0x00000064  0x00000064\n" in text  # hypercalls, SynIC, VP index, as read
    assert "    0x40000101  eax  (KVM's)     0x01000000\n" in text
    assert "DIFFERS" not in text and "0x00000001" not in text  # hypervisor leaves only
    record = assert_valid(verify_json(verification))["results"][0]
    assert record["agrees"] and record["cpuid_differences"] == []
    assert record["predicted"]["cpuid"]["0x40000003"] == record["cpuid"]["0x40000003"]
    assert record["predicted"]["unpredicted"] == ["0x40000101"]


def test_a_difference_in_the_cpuid_is_hvtunes_defect(tmp_path: Path) -> None:
    read = _read_as_predicted()
    eax, ebx, ecx, edx = read[0x40000003]
    read[0x40000003] = (eax | 1 << 1, ebx, ecx, edx)  # HV_MSR_TIME_REF_COUNT_AVAILABLE, which nothing here sets
    verification = _verification(tmp_path, read)
    (result,) = verification.results
    assert not result.agrees
    text = verify_text(verification)
    assert "the Hyper-V CPUID the guest read differs from hvtune's prediction:" in text
    assert "    0x40000003  eax  0x00000064  0x00000066  DIFFERS\n" in text
    assert "observed  eax: AccessPartitionReferenceCounter [hv-time]," in text  # read as hvtune cpuid reads it
    assert "DISAGREES: hvtune predicted it starts, with other Hyper-V CPUID than the guest read" in text
    assert "0x40000003 eax: predicted 0x00000064, read 0x00000066" in defect_line(verification, result)
    assert text.rstrip().endswith("1 configuration, 1 disagreeing with hvtune")
    record = assert_valid(verify_json(verification))["results"][0]
    assert not record["agrees"]
    assert record["cpuid_differences"] == [
        {"leaf": "0x40000003", "register": "eax", "predicted": 0x64, "observed": 0x66}
    ]


def test_a_real_run_of_a_cpu_value_and_a_domain(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    sandbox_stack("bookworm")
    stimer = tmp_path / "stimer.xml"
    stimer.write_text(domain(hyperv("relaxed", "vpindex", "synic", "stimer"), HYPERVCLOCK))
    code, out, err = run(capsys, "verify", str(stimer), "--cpu", "host,hv-stimer", "--on", "bookworm")
    assert code == 1, err  # the -cpu value does not start
    assert f"{stimer}: libvirt domain, run with" in out
    started = "libvirt: starts with -cpu qemu64,hv-time=on,hv-relaxed=on,hv-vpindex=on,hv-synic=on,hv-stimer=on"
    assert started in out.replace("\n    ", "")
    assert "QEMU: refused: Hyper-V synthetic timers (hv-stimer) requires Hyper-V clocksources (hv-time)" in out
    assert "the Hyper-V CPUID the guest read is hvtune's prediction:" in out and "DIFFERS" not in out
    assert out.rstrip().endswith("2 configurations, 0 disagreeing with hvtune")
    code, out, _ = run(capsys, "verify", str(stimer), "--on", "bookworm", "--format", "json")
    assert code == 0
    (record,) = assert_valid(out)["results"]
    assert record["through"] == "libvirt" and record["started"] and record["agrees"]
    assert record["properties"]["hv-stimer"] is True and record["cpuid"]["0x40000003"][0] & 0x8  # SynTimers
    assert (
        record["cpuid_differences"] == []
        and record["predicted"]["cpuid"]["0x40000003"] == record["cpuid"]["0x40000003"]
    )
    assert json.loads(out)["limits"].startswith("the sandbox's CPU is AMD")
