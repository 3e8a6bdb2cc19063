"""doctor's verdict scale and what a Windows guest loses (issue 13): the
missing enlightenments of a guest's plan, each a warning with its cost, the
biggest loss first; verdicts WILL NOT START > WILL NOT MIGRATE > SLOW > AT
RISK > OK; --fail-on; the examples never fail; a host's own problem said
once; check and doctor judging alike."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from hvtune.bundled import bundled_examples
from hvtune.catalog import load_catalog
from hvtune.checks import CHECKS
from hvtune.doctor import check_vm
from hvtune.findings import Severity
from hvtune.host.profile_json import load_profile
from hvtune.impact_table import Impact
from hvtune.verdict import Verdict, impact_of, verdict_of

from support.cli import run

EXAMPLES = {example.name: example for example in bundled_examples()}
DEBIAN12 = str(EXAMPLES["win11-virt-install-debian12.xml"])
INTEL = load_profile("intel-nested")


def test_a_debian12_virt_install_windows11_is_slow_with_every_missing_enlightenment_priced(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, _ = run(capsys, "check", DEBIAN12, "--host", "intel-nested", "--format", "json")
    document = json.loads(out)
    missing = [f for f in document["findings"] if f["code"] == "missing-benefit"]
    plan = run(capsys, "plan", "--os", "win11", "--host", "intel-nested")[1].strip().split(",")
    planned = {token.split("=")[0] for token in plan if token.startswith("hv-")}
    had = {"hv-relaxed", "hv-vapic", "hv-spinlocks", "hv-time"}
    assert {f["feature"] for f in missing} == planned - had
    costs = load_catalog().impacts.costs
    ranks = [costs[f["feature"]].rank for f in missing]
    assert ranks == sorted(ranks) and missing[0]["feature"] == "hv-stimer"  # the biggest loss first
    for finding in missing:
        cost = costs[finding["feature"]]
        assert finding["severity"] == "warning" and finding["impact"] == "speed"
        assert cost.source in finding["message"] and all(f.source in finding["message"] for f in cost.figures)
        assert finding["fix"][finding["feature"]] is not None
    assert code == 0  # slow is not an error ...
    assert run(capsys, "check", DEBIAN12, "--host", "intel-nested", "--fail-on", "slow")[0] == 1  # ... unless asked
    _, out, _ = run(capsys, "doctor", DEBIAN12, "--host", "intel-nested")
    assert "win11-virt-install-debian12.xml  SLOW: idle host CPU load (hv-stimer)  (9 warnings)" in out


def test_fix_plan_makes_it_ok(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    target = tmp_path / "win11.xml"
    target.write_text(Path(DEBIAN12).read_text())
    code, _, _ = run(capsys, "fix", str(target), "--plan", "--os", "win11", "--host", "intel-nested")
    assert code == 0
    _, out, _ = run(capsys, "doctor", str(target), "--host", "intel-nested", "--format", "json")
    (vm,) = json.loads(out)["hosts"][0]["vms"]
    assert vm["verdict"] == "ok", vm["findings"]


def test_check_and_doctor_judge_alike(capsys: pytest.CaptureFixture[str]) -> None:
    for name, example in EXAMPLES.items():
        for host in ("intel-nested", "no-hyperv", "none"):
            checked = json.loads(run(capsys, "check", str(example), "--host", host, "--format", "json")[1])
            doctored = json.loads(run(capsys, "doctor", str(example), "--host", host, "--format", "json")[1])
            (vm,) = doctored["hosts"][0]["vms"]
            assert [f["code"] for f in checked["findings"]] == [f["code"] for f in vm["findings"]], (name, host)


def test_both_judge_on_this_machine_by_default(tmp_path: Path) -> None:
    """Without --host (and $HVTUNE_HOST): this machine when it has /dev/kvm, else no host."""
    environment = {k: v for k, v in os.environ.items() if k != "HVTUNE_HOST"}
    default = "this" if os.path.exists("/dev/kvm") else "none"
    example = str(EXAMPLES["win10-good.sh"])
    for command in ("check", "doctor"):

        def codes(*more: str, command: str = command) -> list[str]:
            argv = [sys.executable, "-m", "hvtune", command, example, "--format", "json", *more]
            document = json.loads(subprocess.run(argv, capture_output=True, text=True, env=environment).stdout)
            found = document["findings"] if command == "check" else document["hosts"][0]["vms"][0]["findings"]
            return [f["code"] for f in found]

        assert codes() == codes("--host", default)


def test_a_guest_without_an_os_is_taken_for_windows_and_told() -> None:
    result = check_vm(EXAMPLES["win10-proxmox.sh"].read_text(), "win10-proxmox.sh", host=INTEL)
    (note,) = [f for f in result.findings if f.code == "guest-os-inferred"]
    assert note.severity is Severity.INFO and "Windows 10" in note.message
    named = check_vm(EXAMPLES["win10-proxmox.sh"].read_text(), "x", host=INTEL, guest_os="win10")
    assert "guest-os-inferred" not in [f.code for f in named.findings]
    linux = check_vm(EXAMPLES["win10-proxmox.sh"].read_text(), "x", host=INTEL, guest_os="linux")
    assert "missing-benefit" not in [f.code for f in linux.findings]


def test_the_verdict_scale() -> None:
    assert [v.words for v in Verdict] == ["WILL NOT START", "WILL NOT MIGRATE", "SLOW", "AT RISK", "OK"]
    risky = check_vm(EXAMPLES["win11-risky-passthrough.xml"].read_text(), "x", host=INTEL)
    assert verdict_of(risky.findings) is Verdict.AT_RISK  # migration does not matter unless asked
    assert verdict_of(risky.findings, migratable=True) is Verdict.WILL_NOT_MIGRATE
    assert verdict_of((), refused=True) is Verdict.WILL_NOT_START and verdict_of(()) is Verdict.OK


def test_reset_and_other_harmless_hazards_are_notes_and_every_impact_has_a_reason() -> None:
    table = load_catalog().impacts
    assert (
        table.impact("reset-discouraged") is Impact.NOTE and "harms nothing" in table.impacts["reset-discouraged"].why
    )
    assert table.impact("synic-inhibits-apicv") is Impact.SPEED  # the missing hv-avic hint costs speed, no risk
    assert all(fact.why for fact in table.impacts.values())
    # every finding the examples give on the bundled hosts has the severity its impact implies
    for host in ("intel-nested", "amd-avic", "no-hyperv", "unstable-tsc", "old-kernel-4.19"):
        for example in EXAMPLES.values():
            for finding in check_vm(example.read_text(), example.name, host=load_profile(host)).findings:
                impact = impact_of(finding)
                assert (impact is Impact.NOTE) == (finding.severity is Severity.INFO), finding.code
    assert len(CHECKS) > 30


def test_fail_on_levels(capsys: pytest.CaptureFixture[str]) -> None:
    risky = str(EXAMPLES["win11-risky-passthrough.xml"])
    assert run(capsys, "check", risky, "--host", "intel-nested")[0] == 0
    assert run(capsys, "check", risky, "--host", "intel-nested", "--fail-on", "slow")[0] == 0
    assert run(capsys, "check", risky, "--host", "intel-nested", "--fail-on", "slow", "--migratable")[0] == 1
    assert run(capsys, "check", risky, "--host", "intel-nested", "--fail-on", "warning")[0] == 1
    assert run(capsys, "doctor", risky, "--host", "intel-nested", "--fail-on", "warning")[0] == 1
    broken = str(EXAMPLES["win10-broken-missing-dependency.sh"])
    assert run(capsys, "doctor", broken, "--host", "intel-nested")[0] == 1


def test_the_examples_never_fail_and_say_so(capsys: pytest.CaptureFixture[str]) -> None:
    environment = {**os.environ, "LIBVIRT_DEFAULT_URI": "qemu+unix:///system?socket=/nonexistent/sock"}
    argv = [sys.executable, "-m", "hvtune", "doctor", "--host", "intel-nested", "--fail-on", "warning"]
    done = subprocess.run(argv, capture_output=True, text=True, env=environment)
    assert done.returncode == 0 and "WILL NOT START" in done.stdout
    assert "not your VMs: the exit code speaks only for your own (0 here)" in " ".join(done.stdout.split())


def test_a_local_daemon_installed_but_down_is_said() -> None:
    from hvtune.live import _not_answering

    said = _not_answering("qemu:///system", "Failed to connect socket")
    installed = any(Path(p, name).exists() for p in ("/usr/sbin", "/usr/bin") for name in ("libvirtd", "virtqemud"))
    assert ("is installed but not running" in said) == installed
    assert _not_answering("qemu+ssh://far/system", "x") == "no libvirt daemon answers (x)"


def test_a_host_problem_is_said_once(capsys: pytest.CaptureFixture[str]) -> None:
    files = [str(example) for example in EXAMPLES.values()]
    code, text, _ = run(capsys, "doctor", "--host", "no-hyperv", *files)
    _, out, _ = run(capsys, "doctor", "--host", "no-hyperv", "--format", "json", *files)
    (section,) = json.loads(out)["hosts"]
    (problem,) = section["host_problems"]
    assert problem["problem"].startswith("KVM present; Hyper-V emulation not available")
    touched = [vm["source"] for vm in section["vms"] if any(f["host"] for f in vm["findings"])]
    assert sorted(problem["vms"]) == sorted(touched) and len(touched) == len(files) - 1  # the typo: refused first
    assert code == 1 and " ".join(text.split()).count(problem["problem"]) == 1
    assert text.count("because of this host (above): ") == len(touched)


def test_a_finding_repeated_across_vms_is_told_in_full_once(capsys: pytest.CaptureFixture[str]) -> None:
    passthrough = [str(EXAMPLES["win11-risky-passthrough.xml"]), str(EXAMPLES["win2022-risky-passthrough.sh"])]
    _, out, _ = run(capsys, "doctor", "--host", "intel-nested", *passthrough, passthrough[0])
    # once per spelling (the fix is told in the file's own), then named
    assert out.count("invtsc without a fixed tsc-frequency blocks migration") == 2
    assert " ".join(out.split()).count(f"invtsc: as for {passthrough[0]} above") == 1  # long paths wrap
