"""Live libvirt: audit a real daemon's domains, fix their persistent
definitions, and never touch a running domain's live state."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from hvtune.fixing import Fixing, FixOutcome

from support.cli import assert_one_line_error, run
from support.domains import daemon_domain, hyperv
from support.libvirt import URI, Virsh, ensure_virtlogd
from support.schemas import assert_valid

pytestmark = pytest.mark.libvirt

PREFIX = "hvtune-test-"
BROKEN = PREFIX + "broken"  # QEMU would refuse to start it: stimer without what it needs
GOOD = PREFIX + "good"
RUNNING = PREFIX + "running"  # started under TCG, passthrough with children libvirt ignores

# what a plan for Windows 10 has (doctor finds it OK)
COMPLETE = hyperv(
    "relaxed",
    "vapic",
    "spinlocks retries='8191'",
    "vpindex",
    "runtime",
    "synic",
    "<stimer state='on'><direct state='on'/></stimer>",
    "frequencies",
    "tlbflush",
    "ipi",
    "avic",
)


def _remove_test_domains(virsh: Virsh) -> None:
    names = virsh.run("list", "--all", "--name").stdout.split()
    for name in (n for n in names if n.startswith(PREFIX)):
        virsh.run("destroy", name, check=False)
        virsh.run("undefine", name, check=False)


@pytest.fixture
def domains(virsh: Virsh, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Virsh]:
    """Three domains defined on the real daemon, removed afterwards."""
    _remove_test_domains(virsh)
    folder = tmp_path_factory.mktemp("domains")
    definitions = {
        BROKEN: daemon_domain(BROKEN, hyperv("relaxed", "vpindex", "synic", "stimer")),
        GOOD: daemon_domain(GOOD, COMPLETE, "<timer name='hypervclock' present='yes'/>"),
        RUNNING: daemon_domain(RUNNING, hyperv("relaxed", "synic", mode="passthrough"), kind="qemu"),
    }
    for name, xml in definitions.items():
        path = folder / f"{name}.xml"
        path.write_text(xml)
        virsh.run("define", str(path))
    yield virsh
    _remove_test_domains(virsh)


@pytest.fixture(autouse=True)
def state(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """Where fix --connect --yes saves the definitions it replaces."""
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    return tmp_path / "state" / "hvtune" / "backups"


def inactive(virsh: Virsh, name: str) -> str:
    return virsh.run("dumpxml", "--inactive", name).stdout


def test_check_audits_the_named_domains(capsys: pytest.CaptureFixture[str], domains: Virsh) -> None:
    code, out, _ = run(capsys, "check", "--connect", URI, BROKEN, GOOD, "--format", "json")
    assert code == 1
    document = assert_valid(out)
    assert [s["source"] for s in document["sources"]] == [BROKEN, GOOD]
    broken = [f for f in document["findings"] if f["source"] == BROKEN]
    assert broken[0] == {
        "source": BROKEN,
        "code": "missing-dependency",
        "severity": "error",
        "feature": "hv-stimer",
        "message": "Hyper-V synthetic timers (hv-stimer) requires Hyper-V clocksources (hv-time)",
        "fix": {"hv-time": True},
        "refused_by": "qemu",
        "impact": "start",
        "host": None,
    }
    assert not [f for f in document["findings"] if f["source"] == GOOD]


def test_check_without_names_audits_every_domain(capsys: pytest.CaptureFixture[str], domains: Virsh) -> None:
    _, out, _ = run(capsys, "check", "--connect", URI, "--format", "json")
    sources = [s["source"] for s in json.loads(out)["sources"]]
    assert [s for s in sources if s.startswith(PREFIX)] == [BROKEN, GOOD, RUNNING]


def test_an_unknown_domain_or_daemon_is_one_line(capsys: pytest.CaptureFixture[str], domains: Virsh) -> None:
    code, _, err = run(capsys, "check", "--connect", URI, PREFIX + "missing")
    assert code == 2
    assert_one_line_error(err, URI, "no domain named 'hvtune-test-missing'")
    code, _, err = run(capsys, "doctor", "--connect", "qemu+unix:///system?socket=/nonexistent/sock")
    assert code == 2
    assert_one_line_error(err, "no libvirt daemon answers")


def test_fix_shows_and_only_with_yes_redefines(capsys: pytest.CaptureFixture[str], domains: Virsh, state: Path) -> None:
    before = inactive(domains, BROKEN)
    code, out, _ = run(capsys, "fix", "--connect", URI, BROKEN)
    assert code == 0
    assert out.startswith(f"{BROKEN}: would fix 1 finding\n  would fix  hv-stimer: ")
    assert "fixed" not in out and "redefined" not in out
    assert f"+++ b/{BROKEN}.xml" in out and "+    <timer name='hypervclock' present='yes'/>" in out
    assert out.endswith("nothing changed: run again with --yes to redefine\n")
    assert inactive(domains, BROKEN) == before
    assert not state.exists()

    code, out, _ = run(capsys, "fix", "--connect", URI, BROKEN, "--yes")
    assert code == 0 and out.startswith(f"{BROKEN}: fixed 1 finding\n  fixed    hv-stimer: ")
    (saved,) = state.iterdir()
    # the definition replaced, as libvirt gave it (virsh adds a line break)
    assert saved.name.startswith(f"{BROKEN}-") and saved.read_text() + "\n" == before
    assert out.endswith(
        f"saved the definition it replaces as {saved}\n"
        f"redefined {BROKEN} at {URI}; the change applies when the domain next starts\n"
    )
    after = inactive(domains, BROKEN)
    assert "<timer name='hypervclock' present='yes'/>" in after

    code, out, _ = run(capsys, "check", "--connect", URI, BROKEN)
    assert code == 0 and out == f"{BROKEN}: no findings\n"
    code, out, _ = run(capsys, "fix", "--connect", URI, BROKEN, "--yes")
    assert code == 0 and out.endswith("the definition needs no change\n")
    assert inactive(domains, BROKEN) == after


def test_a_running_domain_keeps_its_live_state(capsys: pytest.CaptureFixture[str], domains: Virsh) -> None:
    ensure_virtlogd()
    domains.run("start", RUNNING)
    live_before = domains.run("dumpxml", RUNNING).stdout
    code, out, _ = run(capsys, "check", "--connect", URI, RUNNING, "--format", "json")
    # QEMU started it under TCG, which checks no Hyper-V dependency: only warnings
    assert code == 0
    codes = [f["code"] for f in json.loads(out)["findings"]]
    assert codes == ["passthrough-not-migratable", "hyperv-without-kvm", "libvirt-passthrough-children"]
    persistent_before = inactive(domains, RUNNING)
    code, out, _ = run(capsys, "fix", "--connect", URI, RUNNING, "--all", "--yes", "--format", "json")
    document = assert_valid(out)
    assert code == 0 and document["redefined"] is True and document["running"] is True
    assert Path(document["backup"]).read_text() + "\n" == persistent_before
    assert domains.run("domstate", RUNNING).stdout.strip() == "running"
    assert domains.run("dumpxml", RUNNING).stdout == live_before
    assert "<synic" in live_before and "<synic" not in inactive(domains, RUNNING)
    code, out, _ = run(capsys, "fix", "--connect", URI, RUNNING, "--all")
    assert out.endswith("the definition needs no change\n")
    # the next boot takes the fixed definition: libvirt accepts it and QEMU starts it
    domains.run("destroy", RUNNING)
    domains.run("start", RUNNING)
    assert "<synic" not in domains.run("dumpxml", RUNNING).stdout


def test_a_running_domain_is_told_next_boot(capsys: pytest.CaptureFixture[str], domains: Virsh) -> None:
    ensure_virtlogd()
    domains.run("start", RUNNING)
    _, out, _ = run(capsys, "fix", "--connect", URI, RUNNING, "--all", "--yes")
    assert out.splitlines()[-1] == (
        f"redefined {RUNNING} at {URI}; the change applies at the next boot "
        "(the domain is running; its live state was not touched)"
    )


def test_doctor_audits_the_daemon(capsys: pytest.CaptureFixture[str], domains: Virsh) -> None:
    code, out, _ = run(capsys, "doctor", "--connect", URI, "--host", "intel-nested", "--format", "json")
    (document,) = assert_valid(out)["hosts"]
    assert code == 1 and document["origin"] == "libvirt" and document["uri"] == URI
    assert document["note"].startswith("checked the ") and f"defined at {URI} (libvirt " in document["note"]
    verdicts = {vm["source"]: vm["verdict"] for vm in document["vms"] if vm["source"].startswith(PREFIX)}
    # the TCG domain starts but gets no enlightenment, and lacks synthetic timers: slow
    assert verdicts == {BROKEN: "will-not-start", RUNNING: "slow", GOOD: "ok"}
    ours = [vm["source"] for vm in document["vms"] if vm["source"].startswith(PREFIX)]
    assert ours == [BROKEN, RUNNING, GOOD]  # most urgent first


def test_fix_applies_a_plan_to_a_domain(capsys: pytest.CaptureFixture[str], domains: Virsh) -> None:
    code, out, _ = run(
        capsys, "fix", "--connect", URI, BROKEN, "--plan", "--os", "win10", "--host", "intel-nested", "--yes"
    )
    assert code == 0 and out.startswith(f"{BROKEN}: applied hvtune's plan\n")
    code, out, _ = run(capsys, "check", "--connect", URI, BROKEN, "--host", "intel-nested", "--format", "json")
    assert code == 0 and json.loads(out)["findings"] == []
    persistent = inactive(domains, BROKEN)
    assert "<stimer state='on'>" in persistent and "<timer name='hypervclock' present='yes'/>" in persistent


def test_a_definition_changed_while_hvtune_works_is_not_replaced(
    capsys: pytest.CaptureFixture[str], domains: Virsh, state: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Someone redefines the domain (virsh define) between hvtune's read and
    its redefinition: hvtune changes nothing and says so."""
    theirs = tmp_path / "theirs.xml"
    theirs.write_text(inactive(domains, BROKEN).replace("</name>", "</name><description>theirs</description>", 1))
    outcome = Fixing.outcome

    def meanwhile(self: Fixing, text: str, source: str, connected: str | None = None) -> FixOutcome:
        result = outcome(self, text, source, connected)
        domains.run("define", str(theirs))
        return result

    monkeypatch.setattr(Fixing, "outcome", meanwhile)
    code, out, err = run(capsys, "fix", "--connect", URI, BROKEN, "--yes")
    assert code == 2 and out == ""
    assert_one_line_error(err, URI, f"domain '{BROKEN}' was redefined while hvtune was working; nothing changed")
    now = inactive(domains, BROKEN)
    assert "<description>theirs</description>" in now and "hypervclock" not in now
    assert not state.exists()


def test_doctor_judges_a_fleet_each_on_its_own_host(capsys: pytest.CaptureFixture[str], domains: Virsh) -> None:
    other = "qemu+unix:///system"  # the same daemon by another name: a second site
    argv = ["doctor", "--connect", URI, "--connect", other, "--host", f"{other}=intel-nested"]
    code, out, _ = run(capsys, *argv, "--format", "json")
    first, second = assert_valid(out)["hosts"]
    assert (first["uri"], second["uri"]) == (URI, other)
    assert first["host"] is None and second["host"]["name"] == "intel-nested"  # $HVTUNE_HOST=none for the first
    verdicts = {vm["source"]: vm["verdict"] for vm in second["vms"] if vm["source"].startswith(PREFIX)}
    assert verdicts[GOOD] == "ok" and verdicts[BROKEN] == "will-not-start" and code == 1
    _, out, _ = run(capsys, *argv)
    assert f"== {URI} ==" in out and f"== {other} ==" in out
    table = out.split("\nHosts:\n")[1].splitlines()
    assert table[0].split()[:2] == ["host", "VMs"] and table[2].startswith(other)


def test_a_daemon_on_another_machine_is_judged_by_its_domcapabilities(domains: Virsh) -> None:
    from hvtune.doctor import run_doctor

    report = run_doctor(uri=URI, ask_daemon=True)
    assert report.host is not None and report.host.name == URI and report.host.libvirt_version
    assert "domcapabilities" in report.note and f"--host {URI}=FILE" in report.note
    assert any(r.source == GOOD for r in report.results)
