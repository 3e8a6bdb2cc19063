"""hvtune lab in the sandbox: both guests as L2 under the bookworm stack's
real Hyper-V KVM in one L1 boot, where the enlightenments' effect shows
(on this project's machines the local KVM emulates no Hyper-V)."""

from __future__ import annotations

import re

import pytest

from hvtune.bench.options import BenchOptions
from hvtune.lab.run import SANDBOX_NOTE, run_lab
from hvtune.report.lab import lab_json, lab_text

from support.cli import assert_one_line_error, run
from support.sandbox import sandbox_stack
from support.schemas import assert_valid

RELEASE = "bookworm"

WITHOUT = "host,kvm=off"
WITH = "host,kvm=off,hv-time,hv-vpindex"  # a Linux guest takes the Hyper-V clock only with hv-vpindex too
SMALL = BenchOptions(which=("clock",), count=2000, repeat=3)


def test_hv_time_with_hv_vpindex_makes_clock_gettime_cheap() -> None:
    stack = sandbox_stack(RELEASE)
    result = run_lab(WITHOUT, WITH, accel="sandbox", release=RELEASE, vcpus=1, options=SMALL)
    document = assert_valid(lab_json(result))
    assert document["accel"] == "sandbox" and document["notes"] == [SANDBOX_NOTE]
    assert document["stack"] == {**stack.describe(), "accel": "kvm in a TCG guest (nested SVM)"}
    assert document["kernel"] == f"/boot/vmlinuz-{stack.kernel}"
    a, b = document["a"], document["b"]
    assert (a["problem"], a["hypervisor"], a["clocksource"]) == (None, "no hypervisor detected", "hpet")
    assert (b["problem"], b["hypervisor"]) == (None, "Hypervisor detected: Microsoft Hyper-V")
    assert b["clocksource"] == "hyperv_clocksource_tsc_page"
    ratio = b["results"]["clock_gettime"]["ticks_per_call"] / a["results"]["clock_gettime"]["ticks_per_call"]
    assert ratio < 0.1, ratio  # every hpet read exits, nested under TCG (measured: about 1/1000)
    text = lab_text(result).splitlines()
    assert text[0] == (
        f"hvtune lab: L2 in the Debian {RELEASE} sandbox (QEMU {stack.upstream('qemu')}), 1 vCPUs, 512 MiB, "
        f"kernel vmlinuz-{stack.kernel}"
    )
    assert re.fullmatch(r"clock_gettime, TSC ticks per call +[\d,]+ +[\d,.]+ +1/\d+", text[3]), text[3]
    assert "   Hypervisor detected: Microsoft Hyper-V; clocksource hyperv_clocksource_tsc_page" in text


def test_on_a_release_is_the_sandbox(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "lab", "--on", RELEASE, "--accel", "tcg", "--a", "host", "--b", "host")
    assert code == 2
    assert "--on bookworm chooses the sandbox's stack; it does not go with --accel tcg" in err
    # --on alone means the sandbox, which boots its stack's kernel
    code, _, err = run(capsys, "lab", "--on", RELEASE, "--kernel", "vmlinuz", "--a", "host", "--b", "host")
    assert code == 2
    assert_one_line_error(err, "--kernel: the sandbox boots its stack's own kernel (choose it with --on RELEASE)")
