"""hvtune's Python for an L2 guest's initramfs: only what given hvtune
command lines import, found by running them here (sandbox.in_guest
--record) and collecting the files of the modules they loaded, plus
hvtune's own package; the interpreter and the shared libraries it and its
extension modules link come from sandbox.runtime's staging, as for L1.

An initramfs is unpacked into the guest's memory and read at every boot
under nested TCG, so it is kept small: modules are packed compiled and
without their source (a sourceless ``.pyc`` is imported without checking a
source's time, which the archive does not keep), and the ELF files
without their debugging sections (``strip``, binutils, which the C
compiler the lab needs brings)."""

from __future__ import annotations

import json
import os
import py_compile
import shlex
import subprocess
import sys
import sysconfig
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

import hvtune
from hvtune.errors import InputError
from hvtune.sandbox.l1 import package_files
from hvtune.sandbox.runtime import LOADER, python_argv, stage_python
from hvtune.sandbox.stack import run_tool
from hvtune.vm.initramfs import EXECUTABLE, FILE

HOME = "opt/hvtune-python"  # in the guest's root: the interpreter, its modules and libraries
PACKAGE_ROOT = "opt/hvtune"  # in the guest's root: hvtune's package under lib/, as in L1
RECORD_SECONDS = 120.0
_NEEDED_BY = "hvtune verify --run-in-guest"


def guest_python_argv() -> list[str]:
    """The command the guest's init runs: hvtune.sandbox.in_guest on the
    packed Python, which runs the kernel command line's hvtune command."""
    return python_argv("hvtune.sandbox.in_guest", home=f"/{HOME}", path=f"/{PACKAGE_ROOT}/lib")


def _recorded(argv: Sequence[str]) -> list[Path]:
    """The files of the modules `argv` imports when run as the guest runs
    it (under the C locale, as the guest's init has no other)."""
    with tempfile.TemporaryDirectory(prefix="hvtune-modules-") as folder:
        target = Path(folder) / "modules.json"
        command = [sys.executable, "-m", "hvtune.sandbox.in_guest", "--record", str(target), json.dumps(list(argv))]
        environment = {**os.environ, "LC_ALL": "C", "PYTHONDONTWRITEBYTECODE": "1"}
        try:
            subprocess.run(
                command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                env=environment, timeout=RECORD_SECONDS, check=False,
            )  # fmt: skip
        except subprocess.TimeoutExpired:
            problem = f"hvtune {shlex.join(argv)} ran here for over {RECORD_SECONDS:g} s"
            raise InputError(_NEEDED_BY, None, problem) from None
        if not target.is_file():
            problem = f"hvtune {shlex.join(argv)} could not be run here to find its modules"
            raise InputError(_NEEDED_BY, None, problem)
        return [Path(each) for each in json.loads(target.read_text())]


def _placed(path: Path, roots: Sequence[tuple[Path, str]]) -> str | None:
    """Where a module's file goes in the packed Python, by the first root
    it lies under (None: under none, as hvtune's own files)."""
    for root, place in roots:
        if path.is_relative_to(root):
            return f"{place}/{path.relative_to(root).as_posix()}"
    return None


def module_files(commands: Iterable[Sequence[str]]) -> list[tuple[str, Path]]:
    """(path in the packed Python, path here) of the interpreter and every
    module file any of `commands` imports, hvtune's own package aside."""
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    version = stdlib.name  # python3.11
    package = Path(hvtune.__file__).parent
    roots = [
        (Path(sysconfig.get_paths()["purelib"]), f"lib/{version}/site-packages"),
        (Path(sysconfig.get_paths()["platlib"]), f"lib/{version}/site-packages"),
        (stdlib, f"lib/{version}"),
    ]
    found = {path.resolve() for argv in commands for path in _recorded(argv)}
    files = {
        placed: path
        for path in sorted(found)
        if not path.is_relative_to(package) and path.is_file() and (placed := _placed(path, roots))
    }
    return [("bin/python3", Path(os.path.realpath(sys.executable))), *sorted(files.items())]


def _compiled(source: Path, shown: str, work: Path) -> bytes:
    """A module's code as a sourceless .pyc (tracebacks name `shown`)."""
    target = work / "module.pyc"
    py_compile.compile(
        str(source), cfile=str(target), dfile=shown, doraise=True,
        invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH,
    )  # fmt: skip
    return target.read_bytes()


def _entries(tree: Path, place: str, work: Path) -> Iterator[tuple[str, int, bytes]]:
    """The initramfs entries of a staged folder put at `place`: sources
    compiled, ELF files stripped (libraries and the loader executable,
    as the loader runs them)."""
    for path in sorted(tree.rglob("*")):
        if not path.is_file() or "__pycache__" in path.parts or path.suffix == ".pyc":
            continue
        name = f"{place}/{path.relative_to(tree).as_posix()}"
        if path.suffix == ".py":
            yield name.removesuffix(".py") + ".pyc", FILE, _compiled(path, f"/{name}", work)
        elif path.read_bytes()[:4] == b"\x7fELF":
            run_tool(["strip", "--strip-debug", str(path)], "making hvtune's Python small for the guest")
            yield name, EXECUTABLE, path.read_bytes()
        else:
            yield name, FILE, path.read_bytes()


def guest_python_files(commands: Iterable[Sequence[str]]) -> list[tuple[str, int, bytes]]:
    """The initramfs entries of hvtune's Python for `commands` (each
    hvtune's arguments): the interpreter, the modules they import with the
    libraries those link, and hvtune's package."""
    files = module_files(commands)
    with tempfile.TemporaryDirectory(prefix="hvtune-guest-python-") as folder:
        work = Path(folder)
        tree = stage_python(work / "python", files)
        if not (tree / "libs" / LOADER).is_file():
            raise InputError(_NEEDED_BY, None, f"no {LOADER} was staged for hvtune's Python")
        package = work / "package"
        for name, data in package_files():  # lib/hvtune/...
            target = package / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        return [*_entries(tree, HOME, work), *_entries(package, PACKAGE_ROOT, work)]
