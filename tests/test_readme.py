"""The README tells the truth: its sessions are real output, its catalog
table is the catalog, its first commands are what CI runs."""

from __future__ import annotations

import contextlib
import io
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from hvtune.catalog import load_catalog
from hvtune.cli import main
from hvtune.report.catalog import list_markdown

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()


def _blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", README, flags=re.S)


def _sessions() -> list[tuple[str, str]]:
    """(command, expected output) for every `$ hvtune ...` in a console block."""
    sessions = []
    for block in _blocks("console"):
        for chunk in re.split(r"^\$ ", block, flags=re.M)[1:]:
            command, _, output = chunk.partition("\n")
            sessions.append((command, output))
    return sessions


def _without_host_reason(output: str) -> str:
    """doctor's first line says why it found no VMs on this host (no libvirt,
    no daemon, no domains): true on each machine, different between them."""
    return re.sub(r"found no VMs to check: .*?\.\nShowing", "found no VMs to check: ...\nShowing", output, flags=re.S)


@pytest.mark.parametrize(("command", "expected"), _sessions(), ids=[c for c, _ in _sessions()])
def test_sessions_show_real_output(
    command: str, expected: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(ROOT)
    argv = shlex.split(command)
    assert argv[0] == "hvtune"
    main(argv[1:])
    out, err = capsys.readouterr()
    assert _without_host_reason(out + err) == _without_host_reason(expected)


def test_catalog_table_is_generated_from_the_catalog() -> None:
    table = README.split("<!-- catalog:start -->\n")[1].split("<!-- catalog:end -->")[0]
    assert table == list_markdown(load_catalog())


def test_the_readme_starts_with_the_two_commands_and_ci_runs_the_second() -> None:
    first = _blocks("sh")[0]
    commands = [line for line in first.splitlines() if line and not line.startswith("#")]
    assert commands == ["scripts/install.sh && .venv/bin/hvtune doctor", "scripts/test.sh"]
    assert README.index("scripts/install.sh") < README.index("## Why")
    ci = (ROOT / ".ci" / "run").read_text()
    assert [line for line in ci.splitlines() if line.startswith("exec ")] == ["exec scripts/test.sh"]
    for script in ("scripts/install.sh", "scripts/test.sh", ".ci/run"):
        assert os.access(ROOT / script, os.X_OK), script


def test_the_python_examples_run(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    qemu, libvirt = _blocks("python")
    printed = []
    for snippet in (qemu, libvirt):
        output = io.StringIO()
        with contextlib.redirect_stdout(output):
            exec(compile(snippet, "README.md", "exec"), {})
        printed.append(output.getvalue())
    assert "missing-dependency" in printed[0]
    assert printed[0].endswith("hv-stimer=on\n")
    assert printed[1].startswith("Icelake-Server,") and "['libvirt-dependency'] ()" in printed[1]
    assert printed[1].endswith(
        "+    <timer name='hypervclock' present='yes'/>\n   </clock>\n   <devices>\n     <emulator>/usr/bin/qemu-system-x86_64</emulator>\n"
    )


def _link(target: Path, bin_dir: Path) -> str:
    """scripts/install.sh's last step, link_command, on `target`: what it said."""
    done = subprocess.run(
        ["sh", "-c", '. scripts/common.sh && link_command "$1"', "sh", str(target)],
        cwd=ROOT, env={**os.environ, "HVTUNE_BIN_DIR": str(bin_dir)}, capture_output=True, text=True, check=True,
    )  # fmt: skip
    return done.stdout


def test_after_the_install_a_new_shell_finds_hvtune(tmp_path: Path) -> None:
    assert 'link_command "$PWD/.venv/bin/hvtune"' in (ROOT / "scripts/install.sh").read_text()
    installed = Path(sys.executable).parent / "hvtune"  # the entry point pip wrote, as install.sh's .venv has it
    bin_dir = tmp_path / "bin"
    said = _link(installed, bin_dir)
    assert f"linked {bin_dir}/hvtune -> {installed}\n" in said
    assert f'export PATH="{bin_dir}:$PATH"' in said  # the folder is not on this PATH: the line to run
    assert _link(installed, bin_dir) == said  # a second install changes nothing
    fresh = subprocess.run(
        ["env", "-i", f"PATH={bin_dir}:/usr/bin:/bin", "sh", "-c", "hvtune --version"],
        capture_output=True, text=True,
    )  # fmt: skip
    assert fresh.returncode == 0 and fresh.stdout.startswith("hvtune, version ")
    own = tmp_path / "own"
    own.mkdir()
    (own / "hvtune").write_text("someone else's\n")
    assert "is not a link: left alone" in _link(installed, own)
    assert (own / "hvtune").read_text() == "someone else's\n"
