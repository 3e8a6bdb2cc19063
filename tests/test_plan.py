"""hvtune plan over the whole scenario space: every guest OS, every bundled
host, every combination of goals; what must and must not be in each plan,
that each passes `hvtune check` on its host, and that the real QEMU and
libvirt accept each rendered plan."""

from __future__ import annotations

import contextlib
import io
import itertools
import json
from functools import cache
from pathlib import Path

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from hvtune.catalog import load_catalog
from hvtune.checking import check
from hvtune.cli import main
from hvtune.converting import render
from hvtune.findings import Severity
from hvtune.host.profile import HostProfile
from hvtune.host.profile_json import bundled_profile_names, load_profile
from hvtune.plan import Goals, Plan, make_plan
from hvtune.releases import parse_release

from support.agreement import assert_agrees
from support.cli import assert_one_line_error, run
from support.libvirt import Virsh
from support.qemu import QemuProbe

CATALOG = load_catalog()
GUESTS = [guest.name for guest in CATALOG.guests]
HOSTS = bundled_profile_names()
GOALS = [
    Goals(migratable, nested, gpu, overcommit, tsc)
    for migratable, nested, gpu, overcommit in itertools.product([False, True], repeat=4)
    for tsc in ([None, 2_600_000_000] if migratable else [None])
]
NEVER = {"hv-reset", "hv-syndbg", "hv-passthrough", "hv-enforce-cpuid", "hv-crash", "hv-no-nonarch-coresharing"}
NESTED_ONLY = {p.name for p in CATALOG.features if p.advice == "nested"}


@cache
def host(name: str) -> HostProfile:
    return load_profile(name)


@cache
def plan(guest: str, host_name: str, goals: Goals) -> Plan:
    return make_plan(guest, host(host_name), goals)


def chosen(made: Plan) -> set[str]:
    return {name for name in made.config.values if name.startswith("hv-")}


SCENARIOS = [(g, h, goals) for g in GUESTS for h in HOSTS for goals in GOALS]


def _id(scenario: tuple[str, str, Goals]) -> str:
    guest, host_name, goals = scenario
    return "-".join([guest, host_name, *goals.names(), *(["tsc"] if goals.tsc_frequency else [])])


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[_id(s) for s in SCENARIOS])
def test_every_plan_is_sound(scenario: tuple[str, str, Goals]) -> None:
    guest_name, host_name, goals = scenario
    made = plan(guest_name, host_name, goals)
    on = host(host_name)
    names = chosen(made)
    guest = made.guest

    # it passes the checks on its host, for QEMU and for the host's libvirt
    for target in ("qemu", "libvirt"):
        errors = [
            f for f in check(made.config, host=on, target=target, guest_os=guest_name) if f.severity is Severity.ERROR
        ]  # type: ignore[arg-type]
        assert errors == [], [f.message for f in errors]
    # every feature is explained, chosen or not
    decided = {d.name for d in made.decisions}
    assert {p.name for p in CATALOG.features} <= decided and all(d.reason for d in made.decisions)
    # dependency-complete, and only what the host, its QEMU and its libvirt have
    for name in names:
        prop = CATALOG.property(name)
        assert all(need.name in names for need in CATALOG.requirements((name,))), name
        if prop.is_feature:
            assert on.support[name], name
        assert parse_release(on.qemu_version or "99") >= parse_release(prop.since.qemu or "0"), name
        if on.libvirt_version and prop.libvirt:
            assert parse_release(on.libvirt_version) >= parse_release(prop.since.libvirt), name
        if guest.windows is not None:
            assert prop.windows is not None and guest.windows >= prop.windows, name
    assert not names & NEVER
    # the goals
    if not goals.nested:
        assert not names & NESTED_ONLY
    if goals.migratable and goals.tsc_frequency is None:
        assert "hv-reenlightenment" not in names and "invtsc" not in made.config.values
    if goals.gpu_passthrough and names:
        assert made.config.get("kvm") is False and made.config.get("hv-vendor-id") == "1234567890ab"
    if not goals.gpu_passthrough:
        assert "hv-vendor-id" not in names and "kvm" not in made.config.values
    # the guests and hosts that get nothing
    if guest.family == "linux" or guest.windows == 5 or not on.hyperv_emulation:
        assert names == set() and made.notes
    # what every capable Windows guest gets
    if guest.windows and guest.windows >= 7 and on.support.get("hv-stimer") and on.support.get("hv-vpindex"):
        assert {"hv-time", "hv-synic", "hv-stimer", "hv-vpindex", "hv-relaxed", "hv-spinlocks"} <= names
    if on.vendor == "amd":
        assert "hv-evmcs" not in names


def test_nested_on_an_intel_host_gets_the_nested_set() -> None:
    made = plan("win11", "intel-nested", Goals(nested=True))
    assert {"hv-evmcs", "hv-reenlightenment", "hv-stimer-direct", "hv-frequencies"} <= chosen(made)
    assert made.config.get("vmx") is True
    migratable = plan("win11", "intel-nested", Goals(nested=True, migratable=True))
    decision = migratable.decision("hv-reenlightenment")
    assert decision is not None and not decision.chosen
    assert decision.reason == "migratable: needs a pinned tsc-frequency (--tsc-frequency HZ)"
    pinned = plan("win11", "intel-nested", Goals(nested=True, migratable=True, tsc_frequency=2_600_000_000))
    assert "hv-reenlightenment" in chosen(pinned) and pinned.config.get("tsc-frequency") == 2_600_000_000


def test_reasons_cite_the_facts() -> None:
    amd = plan("win11", "amd-avic", Goals(nested=True))
    evmcs = amd.decision("hv-evmcs")
    assert evmcs is not None and (evmcs.basis, evmcs.reason) == (
        "host",
        "hv-evmcs needs an Intel CPU; this host's is AMD",
    )
    old = plan("win10", "old-kernel-4.19", Goals())
    ipi = old.decision("hv-ipi")
    assert ipi is not None and ipi.reason == "Linux 4.19.0-27-amd64 does not offer it; KVM has it from Linux 4.20"
    direct = old.decision("hv-stimer-direct")
    assert direct is not None and direct.reason == "QEMU 3.1.0 lacks it (QEMU 4.1)"
    win7 = plan("win7", "intel-nested", Goals())
    avic = win7.decision("hv-avic")
    assert avic is not None and avic.reason == "Windows 7 / Server 2008 R2 does not use it"
    stimer = plan("win10", "intel-nested", Goals()).decision("hv-stimer")
    assert stimer is not None and stimer.reason.startswith("four synthetic timers per vCPU")


# --- the real programs accept what plans render ---------------------------------------


def _rendered(to: str, *, libvirt: str | None = None) -> list[str]:
    """Every plan written for `to`; with `libvirt`, only the plans for hosts
    whose libvirt is not newer (a plan uses what its host's libvirt has:
    emsr_bitmap on the trixie and sid sandboxes' 11.3 and 12.8, say)."""
    return sorted(
        {
            render(plan(g, h, goals).config, to)
            for g, h, goals in SCENARIOS
            if libvirt is None or parse_release(host(h).libvirt_version or "0") <= parse_release(libvirt)
        }
    )


@pytest.mark.qemu
@pytest.mark.parametrize("cpu", _rendered("qemu"))
def test_qemu_reads_every_plan_as_hvtune_does(qemu: QemuProbe, cpu: str) -> None:
    # `host` needs KVM; `max` has the same properties and runs under TCG
    assert_agrees(qemu, "max," + cpu.strip().partition(",")[2])


@pytest.mark.libvirt
def test_libvirt_accepts_every_plan(virsh: Virsh, tmp_path: Path) -> None:
    from support.domains import domain

    # a pinned tsc-frequency is judged by libvirt against the machine it runs on, so it is left out here
    for fragment in [f for f in _rendered("libvirt", libvirt=virsh.version) if "frequency=" not in f]:
        xml = _into_domain(domain(cpu="<cpu mode='host-passthrough'/>"), fragment)
        native = virsh.to_native(xml)
        assert native.error is None, f"{native.error}\n{fragment}"
        path = tmp_path / "plan.xml"
        path.write_text(xml)
        code = run_validate(path)
        assert code == 0, fragment


def _into_domain(base: str, fragment: str) -> str:
    from hvtune.formats.libvirt import parse_text
    from hvtune.formats.libvirt_patch import into_domain

    return into_domain(
        base, parse_text(f"<domain type='kvm'><name>x</name>{fragment}</domain>", source="plan").config, source="plan"
    )


def run_validate(path: Path) -> int:
    import subprocess

    from support.programs import require_program

    return subprocess.run([require_program("virt-xml-validate"), str(path), "domain"], capture_output=True).returncode


# --- the command ----------------------------------------------------------------------------


def test_plan_command(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "plan", "--os", "win11", "--host", "intel-nested", "--to", "json")
    assert code == 0
    assert json.loads(out) == json.loads(render(plan("win11", "intel-nested", Goals()).config, "json"))
    code, cpu, _ = run(capsys, "plan", "--os", "win11", "--host", "intel-nested")
    code, converted, _ = run(capsys, "convert", "--cpu", cpu.strip(), "--to", "qemu")
    assert converted == cpu  # the plan is canonical
    code, out, _ = run(capsys, "plan", "--os", "win2022", "--host", "amd-avic", "--nested", "--explain")
    assert code == 0 and "\nChosen:\n" in out and "\nLeft out:\n" in out
    assert "  hv-evmcs" in out and "hv-evmcs needs an Intel CPU; this host's is AMD" in " ".join(out.split())
    code, out, _ = run(capsys, "plan", "--os", "linux", "--host", "intel-nested", "--format", "json")
    document = json.loads(out)
    assert set(document) == {
        "schema", "os", "host", "goals", "tsc_frequency", "config", "rendered", "decisions", "notes",
    }  # fmt: skip
    assert document["config"] == {"model": "host"} and "kvm=off" in document["notes"][0]
    code, _, err = run(capsys, "plan", "--os", "beos", "--host", "intel-nested")
    assert code == 2
    assert_one_line_error(err, "--os 'beos': unknown guest OS")


# --- compare ---------------------------------------------------------------------------------

STACKS = ["virt-install", "proxmox", "nova", "kubevirt", "kubevirt-windows", "cloud-hypervisor", "hvtune"]


def test_compare_shows_the_known_pains(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "compare", "--os", "win11", "--host", "amd-avic", "--migratable", "--format", "json")
    assert code == 0
    stacks = {row["stack"]: row for row in json.loads(out)["stacks"]}
    assert list(stacks) == STACKS
    assert "hv-stimer" in stacks["nova"]["missing"]  # Nova never enables synthetic timers
    assert stacks["kubevirt-windows"]["verdict"] == "blocks migration"  # reenlightenment without a pinned TSC
    assert {"hv-frequencies", "hv-tlbflush"} <= set(stacks["proxmox"]["missing"])
    assert stacks["kubevirt"]["config"] == {"model": "host"}
    assert "hv-evmcs" not in stacks["virt-install"]["config"]  # virt-install gates evmcs on Intel
    assert stacks["hvtune"]["verdict"] == "ok" and stacks["hvtune"]["missing"] == []
    intel = json.loads(run(capsys, "compare", "--os", "win11", "--host", "intel-nested", "--format", "json")[1])
    rows = {row["stack"]: row for row in intel["stacks"]}
    assert rows["proxmox"]["config"].get("hv-evmcs") is True  # Windows 11 on Intel, machine 11.0+pve2
    old = json.loads(run(capsys, "compare", "--os", "win10", "--host", "old-kernel-4.19", "--format", "json")[1])
    verdicts = {row["stack"]: row["verdict"] for row in old["stacks"]}
    assert verdicts["kubevirt-windows"] == "will not start" and verdicts["hvtune"] == "ok"


@pytest.mark.parametrize("guest", GUESTS)
@pytest.mark.parametrize("host_name", HOSTS)
def test_hvtunes_row_always_starts(guest: str, host_name: str, capsys: pytest.CaptureFixture[str]) -> None:
    from hvtune.compare import compare

    comparison = compare(guest, host(host_name))
    assert comparison.rows[-1].starts and comparison.rows[-1].missing == ()


def test_compare_text(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "compare", "--os", "win10", "--host", "intel-nested")
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == "Windows 10 on host intel-nested (goals: none)"
    assert lines[2].split() == ["property", *STACKS]
    stimer = next(line for line in lines if line.startswith("hv-stimer "))
    assert stimer.split() == ["hv-stimer", "on", "on", "-", "-", "on", "on", "on"]
    assert "  OpenStack Nova: misses benefits" in lines


# --- fix --plan -----------------------------------------------------------------------------


def test_fix_plan_applies_the_plan_to_a_domain(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    source = Path(__file__).parent.parent / "examples" / "libvirt" / "win10-nova.xml"
    path = tmp_path / "nova.xml"
    path.write_text(source.read_text())
    code, out, _ = run(capsys, "fix", str(path), "--plan", "--os", "win10", "--host", "amd-avic", "--diff")
    assert code == 0 and "-      <reset state='on'/>" in out and path.read_text() == source.read_text()
    code, out, _ = run(capsys, "fix", str(path), "--plan", "--os", "win10", "--host", "amd-avic")
    assert code == 0 and out.startswith(f"{path}: applied hvtune's plan\n")
    assert run_validate(path) == 0
    code, out, _ = run(capsys, "check", str(path), "--host", "amd-avic", "--format", "json")
    assert code == 0 and json.loads(out)["findings"] == []
    code, out, _ = run(capsys, "fix", str(path), "--plan", "--os", "win10", "--host", "amd-avic")
    assert "plan     nothing: it already is the plan" in out and out.endswith("nothing to change; wrote nothing\n")


def test_fix_plan_on_a_command_line_and_without_an_os(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "vm.sh"
    path.write_text("qemu-system-x86_64 -enable-kvm -cpu host,hv_relaxed,hv_reset -m 4096\n")
    code, _, err = run(capsys, "fix", str(path), "--plan", "--host", "intel-nested")
    assert code == 2
    assert_one_line_error(err, f"{path}: names no guest OS: give --os to plan for it")
    code, _, _ = run(capsys, "fix", str(path), "--plan", "--os", "win10", "--host", "intel-nested")
    assert code == 0
    text = path.read_text()
    assert "hv_reset" not in text and " -m 4096\n" in text
    cpu = text.split("-cpu ")[1].split()[0]
    # the new tokens follow the line's own spelling
    assert {name for name in cpu.split(",") if "stimer" in name} == {"hv_stimer", "hv_stimer_direct"}


# --- doctor ---------------------------------------------------------------------------------


def test_doctor_names_what_a_vm_misses(capsys: pytest.CaptureFixture[str]) -> None:
    examples = Path(__file__).parent.parent / "examples" / "libvirt"
    _, out, _ = run(
        capsys, "doctor", str(examples / "win11-virt-install.xml"), "--host", "intel-nested", "--format", "json"
    )
    ((vm,),) = [host["vms"] for host in json.loads(out)["hosts"]]
    (missed,) = [f for f in vm["findings"] if f["code"] == "missing-benefit"]
    assert missed["severity"] == "warning" and missed["impact"] == "speed"
    assert missed["fix"] == {"hv-stimer-direct": True, "hv-stimer": True} or missed["fix"] == {"hv-stimer-direct": True}
    _, out, _ = run(
        capsys, "doctor", str(examples / "win11-risky-passthrough.xml"), "--host", "intel-nested", "--format", "json"
    )
    assert "missing-benefit" not in out  # passthrough gets what the host has


def test_a_tsc_frequency_the_host_cannot_run_is_not_pinned() -> None:
    """The sandbox's KVM cannot scale the TSC and runs it at its own
    frequency: the goal's 2.5 GHz would stop the guest, so the plan leaves
    it out and says why; the host's own frequency is pinned."""
    sandbox = host("sandbox-bookworm")
    assert sandbox.kvm.tsc_khz is not None
    refused = plan("win11", "sandbox-bookworm", Goals(migratable=True, tsc_frequency=2_500_000_000))
    decision = refused.decision("tsc-frequency")
    assert "tsc-frequency" not in refused.config.values and decision is not None and decision.basis == "host"
    assert "does not run at 2500000000 Hz" in decision.reason
    own = sandbox.kvm.tsc_khz * 1000
    assert (
        plan("win11", "sandbox-bookworm", Goals(migratable=True, tsc_frequency=own)).config.get("tsc-frequency") == own
    )


def test_an_empty_plan_says_why(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "plan", "--os", "win11", "--host", "no-hyperv")
    assert (code, out) == (0, "host\n")  # standard output stays the -cpu value
    assert err.count("\n") == 1 and err.startswith("hvtune: note: no enlightenment planned for Windows 11")
    assert "Hyper-V emulation not available" in err
    code, out, err = run(capsys, "plan", "--os", "linux", "--host", "intel-nested")
    assert out == "host\n" and "A Linux guest ignores Hyper-V enlightenments while it can see KVM" in err
    code, out, err = run(capsys, "plan", "--os", "win11", "--host", "intel-nested")
    assert "hv-stimer=on" in out and err == ""


# What -cpu tsc-freq= is given, as people write frequencies (QEMU 7.2 reads
# 2.6G, 2.6g, 2600M, 1.5k, 0x9af8da00 and refuses 2.6GHz, 2.6, 2.6B, 2.6e9).
FREQUENCIES = st.from_regex(r"\A(0x[0-9a-f]{1,8}|[0-9]{1,4}(\.[0-9]{1,3})?([kKmMgGtTbB]|[GM]Hz|Hz|e9)?)\Z")


@pytest.mark.qemu
@settings(max_examples=40, deadline=None)
@example(frequency="2.6G")
@example(frequency="2.6GHz")
@example(frequency="2600m")
@example(frequency="2.6")
@given(frequency=FREQUENCIES)
def test_tsc_frequency_is_read_as_qemu_reads_tsc_freq(qemu: QemuProbe, frequency: str) -> None:
    seen = qemu.run(f"qemu64,tsc-freq={frequency}", ["tsc-frequency"])
    argv = ["plan", "--os", "win11", "--host", "intel-nested", "--tsc-frequency", frequency, "--format", "json"]
    output = io.StringIO()
    with contextlib.redirect_stdout(output), contextlib.redirect_stderr(io.StringIO()):
        code = main(argv)
    if seen.accepted and seen.values["tsc-frequency"] > 0:
        assert code == 0, (frequency, seen)
        hertz = json.loads(output.getvalue())["tsc_frequency"]
        assert hertz // 1000 * 1000 == seen.values["tsc-frequency"]  # QEMU keeps kHz
    else:  # refused, or below 1 kHz (which QEMU reads as unset)
        assert code == 2 or json.loads(output.getvalue())["tsc_frequency"] < 1000, (frequency, seen)
