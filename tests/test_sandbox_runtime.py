"""hvtune's Python for the L1 guest, staged as its image holds it and run
here through its own loader, with an empty environment and nothing of
this machine's Python on its path: it imports hvtune's probe and the
compiled dependencies from the staged tree. (In L1 the same tree runs on
each release's kernel and glibc: tests/test_sandbox.py records every
stack's profile with it.)"""

from __future__ import annotations

import subprocess
from pathlib import Path

from hvtune.sandbox.runtime import DISTRIBUTIONS, LOADER, python_argv, stage_python

SOURCE = Path(__file__).resolve().parent.parent / "src"


def test_the_staged_python_runs_the_probe_through_its_own_loader(tmp_path: Path) -> None:
    tree = stage_python(tmp_path / "python")
    assert (tree / "libs" / LOADER).is_file()
    modules = ["hvtune.sandbox.probe", "lxml.etree", *DISTRIBUTIONS]
    (tmp_path / "imports.py").write_text(
        f"import sys, {', '.join(modules)}\n"
        f"print(sys.prefix)\n"
        f"for name in {DISTRIBUTIONS!r}: print(sys.modules[name].__file__)\n"
    )
    argv = python_argv("imports", home=str(tree), path=f"{SOURCE}:{tmp_path}")
    done = subprocess.run(argv, capture_output=True, text=True, env={}, timeout=60)
    assert done.returncode == 0, done.stderr
    prefix, *places = done.stdout.split()
    assert prefix == str(tree)
    assert len(places) == len(DISTRIBUTIONS)
    assert all(Path(place).is_relative_to(tree / "lib") for place in places)
