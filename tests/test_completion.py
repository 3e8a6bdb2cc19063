"""Shell completion: click's bash protocol answered by the real entry point
(python -m hvtune in a subprocess), and the script `hvtune completion bash`
prints, run by a real bash."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from hvtune.catalog import load_catalog
from hvtune.formats import format_names
from hvtune.host.profile_json import bundled_profile_names

from support.programs import require_program


def _complete(line: str) -> list[tuple[str, str]]:
    """(type, value) pairs hvtune answers for the line's last word (the
    line ends in a space: a new, empty word)."""
    words = line.split()
    current = len(words) if line.endswith(" ") else len(words) - 1
    env = {**os.environ, "COMP_WORDS": line, "COMP_CWORD": str(current), "_HVTUNE_COMPLETE": "bash_complete"}
    done = subprocess.run(
        [sys.executable, "-m", "hvtune"], env=env, capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stderr == ""
    return [tuple(item.split(",", 1)) for item in done.stdout.splitlines()]  # type: ignore[misc]


def _plain(line: str) -> list[str]:
    return [value for kind, value in _complete(line) if kind == "plain"]


def test_commands_complete() -> None:
    assert _plain("hvtune c") == ["check", "compare", "completion", "convert", "cpuid"]


@pytest.mark.parametrize("command", ["check", "doctor", "fix", "plan", "compare"])
def test_os_completes_the_catalogs_guests(command: str) -> None:
    guests = [guest.name for guest in load_catalog().guests]
    assert _plain(f"hvtune {command} --os ") == guests
    assert _plain(f"hvtune {command} --os win20") == [name for name in guests if name.startswith("win20")]


def test_host_completes_profiles_keywords_and_files() -> None:
    profiles = bundled_profile_names()
    # check and doctor judge on none as well; plan needs a host
    for command in ("check", "doctor"):
        assert _complete(f"hvtune {command} --host ") == [
            ("file", ""),
            *[("plain", name) for name in [*profiles, "this", "none"]],
        ]
    assert _plain("hvtune plan --os win11 --host ") == [*profiles, "this"]
    assert _plain("hvtune host --host ") == profiles
    assert _complete("hvtune fix --host ./my") == [("file", "./my")]
    assert _plain("hvtune doctor --host sandbox-b") == ["sandbox-bookworm", "sandbox-bullseye"]


def test_explain_completes_every_spelling() -> None:
    catalog = load_catalog()
    offered = _plain("hvtune explain ")
    assert offered == list(catalog.spellings)
    assert all(catalog.lookup(spelling) is not None for spelling in offered)
    assert {"hv-stimer", "stimer", "synictimer", "hypervclock", "tlbflush.direct"} <= set(offered)
    assert _plain("hvtune explain HV-STIMER") == ["hv-stimer", "hv-stimer-direct"]


def test_choices_complete() -> None:
    assert _plain("hvtune convert --to ") == list(format_names())
    assert _plain("hvtune check --format ") == ["text", "json", "sarif"]
    assert _plain("hvtune plan --format ") == ["text", "json"]
    assert _plain("hvtune completion ") == ["bash", "zsh", "fish"]


def test_the_bash_script_completes_in_a_real_bash(tmp_path: Path) -> None:
    """The script from `hvtune completion bash`, sourced by bash, runs the
    hvtune on PATH (here a wrapper of this Python) and fills COMPREPLY."""
    bash = require_program("bash")
    command = tmp_path / "hvtune"
    command.write_text(f'#!/bin/sh\nexec {shlex.quote(sys.executable)} -m hvtune "$@"\n')
    command.chmod(0o755)
    env = {**os.environ, "PATH": f"{tmp_path}{os.pathsep}{os.environ['PATH']}"}
    script = subprocess.run(
        ["hvtune", "completion", "bash"], env=env, capture_output=True, text=True, check=True, timeout=60
    ).stdout
    probe = (
        script
        + 'COMP_WORDS=(hvtune check --os win1); COMP_CWORD=3; _hvtune_completion hvtune\nprintf "%s\\n" "${COMPREPLY[@]}"\n'
    )
    done = subprocess.run([bash, "--norc", "-c", probe], env=env, capture_output=True, text=True, timeout=60)
    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout.split() == ["win10", "win11"]


@pytest.mark.parametrize(
    ("shell", "marker"), [("zsh", "#compdef hvtune"), ("fish", "complete --no-files --command hvtune")]
)
def test_other_shells_get_their_script(shell: str, marker: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "hvtune", "completion", shell], capture_output=True, text=True, check=True, timeout=60
    )
    assert marker in done.stdout
    assert "_HVTUNE_COMPLETE" in done.stdout
