"""What a Linux guest sees under the sandbox's real Hyper-V KVM (hvtune
verify --boot): the bookworm stack's own kernel booted as L2 with each
configuration that starts, in one L1 boot for the whole module; and
hvtune's own Python run inside each of those guests (--run-in-guest,
GUEST_COMMAND: a parameter, the command to run there changes, the
mechanism does not). Then the L1 guest's own heartbeat, in a boot of its own."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from typing import Any

import pytest

from hvtune.sandbox.agent import BEGIN, END
from hvtune.sandbox.l1 import AGENT_FOLDER, ALIVE, BEAT_SECONDS, run_l1
from hvtune.vm.console import Console

from support.sandbox import sandbox_stack

HYPERV = "host,kvm=off,hv-relaxed,hv-vapic,hv-time,hv-vpindex,hv-runtime,hv-synic,hv-stimer,hv-frequencies"
PLAIN = "host"
REFUSED = "host,hv-stimer"  # QEMU refuses it: no guest boots
# run in each guest: hvtune guest, expecting the Hyper-V configuration. In
# the guest started with it, what it reads is what was configured (no
# drift); in the plain guest, the deliberately different configuration, it
# is drift (a KVM guest where Hyper-V was expected).
GUEST_COMMAND = f"guest --cpu {HYPERV} --host sandbox-bookworm --format json"


@pytest.fixture(scope="module")
def booted() -> dict[str, dict[str, Any]]:
    """verify --boot --format json of the three, each record by its -cpu value."""
    sandbox_stack("bookworm")
    argv = [sys.executable, "-m", "hvtune", "verify", "--boot", "--on", "bookworm", "--format", "json"]
    argv += ["--run-in-guest", GUEST_COMMAND]
    start = time.monotonic()
    done = subprocess.run(
        [*argv, "--cpu", HYPERV, "--cpu", PLAIN, "--cpu", REFUSED], capture_output=True, text=True, timeout=1200
    )
    print(f"verify --boot of 3 configurations: {time.monotonic() - start:.1f} s")
    assert done.returncode == 1, done.stderr  # the refused one does not start
    return {record["cpu"]: record for record in json.loads(done.stdout)["results"]}


def test_a_hyper_v_guest_sees_hyper_v_and_its_reference_tsc_page(booted: dict[str, dict[str, Any]]) -> None:
    guest = booted[HYPERV]["guest"]
    assert guest["problem"] is None
    assert guest["hypervisor"] == "Hypervisor detected: Microsoft Hyper-V"
    assert guest["clocksource"] == "hyperv_clocksource_tsc_page"
    # hv-relaxed, hv-vapic, hv-time, hv-vpindex, hv-runtime, hv-synic, hv-stimer, hv-frequencies: 0xa7f
    assert "Hyper-V: privilege flags low 0xa7f, high 0x30, hints 0x28, misc 0x108" in guest["hyperv"]
    assert guest["seconds"] > 0


def test_a_plain_host_guest_sees_kvm_and_kvm_clock(booted: dict[str, dict[str, Any]]) -> None:
    guest = booted[PLAIN]["guest"]
    assert guest == {**guest, "problem": None, "hypervisor": "Hypervisor detected: KVM", "clocksource": "kvm-clock"}
    assert guest["hyperv"] == []


def test_no_guest_boots_with_what_qemu_refuses(booted: dict[str, dict[str, Any]]) -> None:
    assert booted[REFUSED]["started"] is False and booted[REFUSED]["guest"] is None


def _ran(booted: dict[str, dict[str, Any]], cpu: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """What hvtune guest said inside the guest started with `cpu`, and its run."""
    ran = booted[cpu]["guest"]["ran"]
    assert ran["argv"] == GUEST_COMMAND.split()  # as the guest's own kernel command line carried it
    return json.loads(ran["stdout"]), ran


def test_hvtune_guest_inside_the_hyper_v_guest_reads_what_was_configured(booted: dict[str, dict[str, Any]]) -> None:
    report, ran = _ran(booted, HYPERV)
    assert ran["status"] == 0, ran["stderr"]
    assert report["schema"] == "hvtune/guest/1" and report["method"] == "instruction"
    assert report["vendor"] == "Microsoft Hv" and report["hypervisor_present"] is True
    assert report["expected"]["drift"] == []
    assert report["clocksource"]["current"] == "hyperv_clocksource_tsc_page"
    assert report["kernel"]["hypervisor"] == "Hypervisor detected: Microsoft Hyper-V"


def test_hvtune_guest_inside_a_guest_started_otherwise_reports_the_drift(booted: dict[str, dict[str, Any]]) -> None:
    report, ran = _ran(booted, PLAIN)
    assert ran["status"] == 1, ran["stderr"]  # drift
    assert report["vendor"] == "KVMKVMKVM"
    assert report["expected"]["drift"]
    assert report["clocksource"]["current"] == "kvm-clock"


def test_the_l1_guest_says_it_is_alive_and_its_records_come_through_whole() -> None:
    """The L1 guest's init prints ALIVE every few seconds (a silent console
    is how a stopped L1 is told); the agent's records, written on the same
    console, are never cut by it, a long one included."""
    stack = sandbox_stack("bookworm")
    busybox = f"{AGENT_FOLDER}/busybox"
    script = f"{busybox} sleep {2 * BEAT_SECONDS + 1}; {busybox} seq 30000"
    case = {"kind": "boot", "id": "long", "argv": [busybox, "sh", "-c", script], "timeout": 120}
    said: list[str] = []
    outcome = run_l1(stack, {"cases": [case]}, say=said.append)
    between = Console.read(outcome.run.stdout).between(BEGIN, END)
    assert between is not None and between.count(ALIVE) >= 2, outcome.run.stdout[-2000:]
    assert outcome.results()["long"]["stdout"] == "".join(f"{number}\n" for number in range(1, 30001))
    assert said == [] and not outcome.run.stalled
