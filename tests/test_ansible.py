"""The Ansible collection hvtune.kvm, run by the real ansible-core: its
example playbook against the test libvirtd (localhost, connection local),
its role installing hvtune into a new environment, its documentation as
ansible-doc renders it, and the sanity tests ansible-test runs offline."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import hvtune

from support.domains import daemon_domain, hyperv
from support.libvirt import Virsh
from support.programs import require_module, require_program

ROOT = Path(__file__).resolve().parent.parent
COLLECTIONS = ROOT / "ansible"
COLLECTION = COLLECTIONS / "ansible_collections" / "hvtune" / "kvm"
EXAMPLE = COLLECTION / "playbooks" / "audit_and_fix.yml"
PLAYBOOKS = Path(__file__).parent / "data" / "ansible"
DOMAIN = "hvtune-ansible-broken"  # a name of its own: other tests share the daemon
TIMER = "<timer name='hypervclock' present='yes'/>"


@pytest.fixture
def ansible(tmp_path: Path) -> dict[str, str]:
    """The environment ansible-core runs in: the collection found in the
    repository, its state and temporary files under tmp_path, hvtune's
    backups too, no colours."""
    require_module("ansible")
    # modules run in a folder of their own: this checkout's src must stay first on an absolute path
    paths = [os.path.abspath(p) for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    return {
        **os.environ,
        **({"PYTHONPATH": os.pathsep.join(paths)} if paths else {}),
        "LC_ALL": "C.UTF-8",  # ansible-core refuses any locale that is not UTF-8
        "ANSIBLE_COLLECTIONS_PATH": str(COLLECTIONS),
        "ANSIBLE_HOME": str(tmp_path / "ansible-home"),
        "ANSIBLE_LOCAL_TEMP": str(tmp_path / "ansible-tmp"),
        "ANSIBLE_PIPELINING": "true",
        "ANSIBLE_NOCOLOR": "true",
        "ANSIBLE_RETRY_FILES_ENABLED": "false",
        "XDG_STATE_HOME": str(tmp_path / "state"),
    }


@pytest.fixture
def inventory(tmp_path: Path) -> Path:
    """This machine as the one host of kvm_hosts, its modules run by this Python."""
    path = tmp_path / "inventory"
    path.write_text(f"[kvm_hosts]\nlocalhost ansible_connection=local ansible_python_interpreter={sys.executable}\n")
    return path


def playbook(env: dict[str, str], inventory: Path, path: Path, *options: str) -> str:
    """What ansible-playbook printed; it must succeed."""
    command = [sys.executable, "-m", "ansible", "playbook", "-i", str(inventory), str(path), *options]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


@pytest.fixture
def broken(virsh: Virsh, tmp_path: Path) -> Iterator[Virsh]:
    """A domain QEMU would refuse to start (synthetic timers without the
    clocksource they need), defined on the test daemon and removed after."""
    virsh.run("undefine", DOMAIN, check=False)
    path = tmp_path / f"{DOMAIN}.xml"
    path.write_text(daemon_domain(DOMAIN, hyperv("relaxed", "vpindex", "synic", "stimer")))
    virsh.run("define", str(path))
    yield virsh
    virsh.run("undefine", DOMAIN, check=False)


def _inactive(virsh: Virsh) -> str:
    return virsh.run("dumpxml", "--inactive", DOMAIN).stdout


def _run_example(env: dict[str, str], inventory: Path, tmp_path: Path, *options: str) -> tuple[str, dict[str, Any]]:
    """The example playbook and the test's plays after it: its output and every result."""
    results = tmp_path / "results.json"
    extra = {
        "hvtune_domains": [DOMAIN],
        "hvtune_command": [sys.executable, "-m", "hvtune"],  # this checkout's hvtune (PYTHONPATH)
        "results_path": str(results),
    }
    out = playbook(env, inventory, PLAYBOOKS / "audit_and_fix.yml", "-e", json.dumps(extra), *options)
    return out, json.loads(results.read_text())


@pytest.mark.libvirt
def test_the_example_audits_and_fixes_a_domain(
    ansible: dict[str, str], inventory: Path, broken: Virsh, tmp_path: Path
) -> None:
    before = _inactive(broken)
    out, seen = _run_example(ansible, inventory, tmp_path, "--check", "--diff")
    (vm,) = seen["audit"]["vms"]
    assert seen["audit"]["changed"] is False and seen["audit"]["verdicts"] == {DOMAIN: "will-not-start"}
    assert vm["source"] == DOMAIN and [f["code"] for f in vm["findings"]] == ["missing-dependency"]
    assert vm["findings"][0]["fix"] == {"hv-time": True} and vm["findings"][0]["refused_by"] == "qemu"
    # check mode: the fix would change the definition, Ansible shows the diff, nothing changes
    (fix,) = seen["fixed"]["results"]
    assert fix["changed"] is True and fix["redefined"] is False and fix["backup"] is None
    assert f"+    {TIMER}" in fix["diff"]["prepared"] and f"+    {TIMER}" in out
    assert seen["verified"]["skipped"] is True
    assert seen["gate"]["failed"] is True and seen["gate"]["failing"] == [DOMAIN]
    assert seen["gate"]["msg"] == f"1 domain(s) at or beyond will-not-start: {DOMAIN}"
    assert seen["unknown"]["failed"] is True
    assert seen["unknown"]["msg"] == f"qemu:///system: no domain named '{DOMAIN}-missing'"
    # an error whose fix needs a decision stays, with a warning; the task does not fail
    undecided = seen["undecided"]
    assert [f["code"] for f in undecided["applied"]] == ["missing-dependency"] and not undecided["failed"]
    assert [(f["code"], f["fix"]) for f in undecided["remaining"]] == [("libvirt-machine-type", None)]
    assert undecided["warnings"] == [f"{DOMAIN}: errors left that need a decision: libvirt-machine-type"]
    assert _inactive(broken) == before
    assert not (tmp_path / "state").exists()

    _, seen = _run_example(ansible, inventory, tmp_path)
    (fix,) = seen["fixed"]["results"]
    assert fix["changed"] is True and fix["redefined"] is True and fix["running"] is False
    assert [f["feature"] for f in fix["applied"]] == ["hv-stimer"] and fix["remaining"] == []
    assert Path(fix["backup"]).read_text() + "\n" == before  # virsh adds a line break
    assert TIMER in _inactive(broken)
    # the example's last audit, with fail_on, passes; a second fix finds nothing to do
    assert seen["verified"]["verdicts"] == {DOMAIN: "ok"} and seen["verified"]["failing"] == []
    assert seen["verified"]["failed"] is False
    assert seen["again"]["changed"] is False and "diff" not in seen["again"]
    assert seen["again"]["backup"] is None and seen["again"]["applied"] == []


def test_the_readme_shows_the_example() -> None:
    readme = (ROOT / "README.md").read_text()
    block = readme.split("```yaml\n# ansible/ansible_collections/hvtune/kvm/playbooks/audit_and_fix.yml\n")[1]
    assert block.split("```")[0] == EXAMPLE.read_text().removeprefix("---\n")


def _plays(out: str) -> dict[str, str]:
    """ansible-playbook's output, by play name."""
    return dict(re.findall(r"^PLAY \[(.*?)\] \**\n(.*?)(?=^PLAY )", out, flags=re.S | re.M))


def test_the_role_installs_hvtune_once(ansible: dict[str, str], inventory: Path, tmp_path: Path) -> None:
    require_program("git")  # the source is this checkout, known by its commit
    venv, link = tmp_path / "venv", tmp_path / "bin" / "hvtune"
    link.parent.mkdir()
    extra = {"hvtune_source": str(ROOT), "hvtune_venv": str(venv), "hvtune_link": str(link)}
    out = playbook(ansible, inventory, PLAYBOOKS / "install_twice.yml", "-e", json.dumps(extra))
    plays = _plays(out)
    assert "changed: [localhost]" in plays["Install"]
    assert "changed:" not in plays["Install again"], plays["Install again"]
    assert link.resolve() == (venv / "bin" / "hvtune").resolve()
    clean = {k: v for k, v in ansible.items() if k != "PYTHONPATH"}
    version = subprocess.run([str(link), "--version"], env=clean, capture_output=True, text=True, check=True)
    assert version.stdout == f"hvtune, version {hvtune.__version__}\n"
    # the libvirt extra that the modules need came with it
    subprocess.run([str(venv / "bin" / "python"), "-c", "import libvirt"], env=clean, check=True)


def test_ansible_doc_renders_every_plugin(ansible: dict[str, str]) -> None:
    command = [sys.executable, "-m", "ansible", "doc", "--json"]
    modules = ["hvtune.kvm.domain_audit", "hvtune.kvm.domain_fix"]
    done = subprocess.run([*command, *modules], env=ansible, capture_output=True, text=True, check=True)
    docs = json.loads(done.stdout)
    for name in modules:
        assert docs[name]["doc"]["options"]["uri"]["default"] == "qemu:///system"  # the shared fragment
        assert docs[name]["examples"] and docs[name]["return"]
    assert docs["hvtune.kvm.domain_fix"]["doc"]["attributes"]["diff_mode"]["support"] == "full"
    done = subprocess.run([*command, "-t", "role", "hvtune.kvm.install"], env=ansible, capture_output=True, text=True)
    role = json.loads(done.stdout)["hvtune.kvm.install"]["entry_points"]["main"]
    assert set(role["options"]) == {"hvtune_source", "hvtune_extras", "hvtune_venv", "hvtune_python", "hvtune_link"}
    text = subprocess.run([*command[:-1], *modules], env=ansible, capture_output=True, text=True, check=True).stdout
    assert "RETURN VALUES" in text and "EXAMPLES" in text


# ansible-test's sanity tests that need no Python packages of their own: the
# others (validate-modules, ansible-doc, pep8, pylint, yamllint, import,
# runtime-metadata) install them into virtual environments bootstrapped with a
# pip script fetched from ci-files.testing.ansible.com, or run in docker;
# validate-modules is run below without ansible-test
OFFLINE_SANITY = [
    "action-plugin-docs",
    "compile",
    "empty-init",
    "ignores",
    "line-endings",
    "no-assert",
    "no-get-exception",
    "no-illegal-filenames",
    "no-smart-quotes",
    "replace-urlopen",
    "shebang",
    "symlinks",
    "use-argspec-type-path",
    "use-compat-six",
]


def _ansible_test() -> str:
    """ansible-test, installed beside this Python (the test extra) or on PATH."""
    beside = Path(sys.executable).with_name("ansible-test")
    return str(beside) if beside.exists() else require_program("ansible-test")


def test_ansible_test_sanity(ansible: dict[str, str], tmp_path: Path) -> None:
    # a copy outside git, so that ansible-test reads the files as they are and writes its output there
    copy = tmp_path / "ansible_collections" / "hvtune" / "kvm"
    shutil.copytree(COLLECTION, copy, ignore=shutil.ignore_patterns("output", "__pycache__"))
    tests = [option for name in OFFLINE_SANITY for option in ("--test", name)]
    command = [
        sys.executable,
        _ansible_test(),
        "sanity",
        "--python",
        f"{sys.version_info.major}.{sys.version_info.minor}",
        *tests,
    ]
    done = subprocess.run(command, cwd=copy, env=ansible, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.count("Running sanity test") == len(OFFLINE_SANITY)


def test_the_collection_builds(ansible: dict[str, str], tmp_path: Path) -> None:
    command = [sys.executable, "-m", "ansible", "galaxy", "collection", "build", "--output-path", str(tmp_path)]
    subprocess.run([*command, str(COLLECTION)], env=ansible, capture_output=True, text=True, check=True)
    (built,) = tmp_path.glob("*.tar.gz")
    assert built.name == f"hvtune-kvm-{hvtune.__version__}.tar.gz"  # the collection keeps hvtune's version


def test_validate_modules(ansible: dict[str, str]) -> None:
    """ansible-test's validate-modules (documentation against argument_spec,
    return and examples blocks), run as ansible-test runs it but with the
    packages of the test extra; what it reports must be what the collection's
    ignore file for this ansible-core release lists, and nothing else."""
    for name in ("voluptuous", "antsibull_docs_parser"):
        require_module(name)
    import ansible_test
    from ansible.release import __version__ as release

    script = Path(ansible_test.__file__).parent / "_util/controller/sanity/validate-modules/validate.py"
    modules = sorted(str(p.relative_to(COLLECTION)) for p in (COLLECTION / "plugins" / "modules").glob("*.py"))
    collection = ["--collection", "ansible_collections/hvtune/kvm", "--collection-version", hvtune.__version__]
    command = [sys.executable, str(script), "--format", "json", "--arg-spec", *collection, *modules]
    done = subprocess.run(command, cwd=COLLECTION, env=ansible, capture_output=True, text=True)
    assert done.returncode in (0, 3) and not done.stderr, done.stdout + done.stderr
    found = {
        (path, f"validate-modules:{error['code']}")
        for path, report in json.loads(done.stdout).items()
        for error in report["errors"]
    }
    ignores = COLLECTION / "tests" / "sanity" / f"ignore-{'.'.join(release.split('.')[:2])}.txt"
    listed = {tuple(line.split("#")[0].split()) for line in ignores.read_text().splitlines()}
    assert found == listed
