"""hvtune verify from the command line: where it runs, what it says about
inputs it cannot run, and a real run in the sandbox with both kinds of
configuration (a -cpu value and a libvirt domain) in one boot."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hvtune.host.profile import probe_host
from hvtune.sandbox.places import local_problem

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
    assert out.rstrip().endswith("2 configurations, 0 disagreeing with hvtune")
    code, out, _ = run(capsys, "verify", str(stimer), "--on", "bookworm", "--format", "json")
    assert code == 0
    (record,) = assert_valid(out)["results"]
    assert record["through"] == "libvirt" and record["started"] and record["agrees"]
    assert record["properties"]["hv-stimer"] is True and record["cpuid"]["0x40000003"][0] & 0x8  # SynTimers
    assert json.loads(out)["limits"].startswith("the sandbox's CPU is AMD")
