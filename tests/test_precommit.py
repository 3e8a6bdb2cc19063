"""The pre-commit hook (.pre-commit-hooks.yaml), run by the real pre-commit
from this repository as a user's repository would (``pre-commit
try-repo``): it installs hvtune into its own environment and fails a
commit that adds a VM definition QEMU would refuse to start, and passes a
good one."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import hvtune

from support.programs import require_program

REPOSITORY = Path(__file__).resolve().parent.parent
EXAMPLES = Path(hvtune.__file__).parent / "examples" / "libvirt"


@pytest.fixture(scope="module")
def user_repository(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A repository holding a broken and a good domain."""
    require_program("git")
    folder = tmp_path_factory.mktemp("vms")
    (folder / "broken.xml").write_bytes((EXAMPLES / "win2022-broken-stimer-without-timer.xml").read_bytes())
    (folder / "good.xml").write_bytes((EXAMPLES / "win2022-good.xml").read_bytes())
    subprocess.run(["git", "init", "-q"], cwd=folder, check=True)
    subprocess.run(["git", "add", "."], cwd=folder, check=True)
    return folder


def _hook(repository: Path, home: Path, name: str) -> subprocess.CompletedProcess[str]:
    argv = [sys.executable, "-m", "pre_commit", "try-repo", str(REPOSITORY), "hvtune-check", "--files", name]
    environment = {**os.environ, "PRE_COMMIT_HOME": str(home)}
    return subprocess.run(argv, cwd=repository, env=environment, capture_output=True, text=True, timeout=600)


def test_the_hook_fails_a_broken_definition_and_passes_a_good_one(
    user_repository: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    home = tmp_path_factory.mktemp("pre-commit-home")
    broken = _hook(user_repository, home, "broken.xml")
    assert broken.returncode == 1, broken.stdout + broken.stderr
    assert "broken.xml: 1 error" in broken.stdout
    assert "hv-stimer: Hyper-V synthetic timers (hv-stimer) requires Hyper-V clocksources (hv-time)" in broken.stdout
    good = _hook(user_repository, home, "good.xml")
    assert good.returncode == 0, good.stdout + good.stderr
    assert "hvtune check" in good.stdout and "Passed" in good.stdout
