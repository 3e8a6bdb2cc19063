"""`hvtune man`: a roff page written from click's help, which groff and
man-db render without a warning, naming every command and option."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import click
import pytest

from hvtune.cli.app import cli
from hvtune.cli.manpage import roff_text

from support.programs import require_program


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> Path:
    done = subprocess.run(
        [sys.executable, "-m", "hvtune", "man"], capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stderr == ""
    path = tmp_path_factory.mktemp("man") / "hvtune.1"
    path.write_text(done.stdout)
    return path


def _commands(group: click.Group, path: str) -> Iterator[tuple[str, click.Command]]:
    for name, command in group.commands.items():
        yield f"{path} {name}", command
        if isinstance(command, click.Group):
            yield from _commands(command, f"{path} {name}")


def test_groff_renders_it_without_a_warning(page: Path) -> None:
    groff = require_program("groff")
    done = subprocess.run([groff, "-man", "-Tutf8", "-ww", "-z", str(page)], capture_output=True, text=True, timeout=60)
    assert (done.returncode, done.stderr) == (0, "")


def test_man_renders_it_without_a_warning(page: Path) -> None:
    man = require_program("man")
    env = {**os.environ, "MANWIDTH": "80", "MANPAGER": "cat", "LC_ALL": "C.UTF-8"}
    done = subprocess.run([man, "--warnings", "-l", str(page)], capture_output=True, text=True, timeout=60, env=env)
    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout.startswith("HVTUNE(1)")
    assert "hvtune doctor [OPTIONS] [FILES]..." in done.stdout


def test_every_command_and_option_is_on_the_page(page: Path) -> None:
    text = page.read_text().replace("\\-", "-")
    commands = list(_commands(cli, "hvtune"))
    assert len(commands) >= 15
    for path, command in commands:
        assert f'.SS "{path} ' in text, path
        for param in command.params:
            if isinstance(param, click.Option):
                for spelling in [*param.opts, *param.secondary_opts]:
                    assert spelling in text, f"{path} {spelling}"
        assert roff_text(" ".join((command.help or "").split()[:8])) in text, path


def test_roff_control_characters_are_escaped() -> None:
    assert roff_text(".TH not a macro\n'also not\nback\\slash") == "\\&.TH not a macro\n\\&'also not\nback\\eslash"
