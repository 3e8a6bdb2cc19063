"""hvtune's own Python for the L1 guest: the interpreter hvtune runs on
here, its standard library, the installed distributions hvtune needs, and
every shared library they link (glibc and its loader included), on a
read-only ext4 image the L1 guest mounts as its second disk.

One way for every release: a stack's python3 may be too old for hvtune
(bullseye has 3.9) and no release ships msgspec, but this interpreter runs
hvtune already. It is started through its own loader
(``ld-linux-x86-64.so.2 --library-path LIBS``), so the stack's glibc does
not matter; the agent itself stays on the stack's python3. The image is
built once per interpreter and set of files, then kept in the cache."""

from __future__ import annotations

import hashlib
import importlib.metadata
import os
import re
import shutil
import sys
import sysconfig
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

from hvtune.bench.build import cache_folder
from hvtune.errors import InputError
from hvtune.sandbox.stack import make_image, run_tool

MOUNT = "/opt/hvtune-python"  # where the L1 guest mounts the image
LOADER = "ld-linux-x86-64.so.2"
# Parts of the standard library a probe never imports (tests, GUIs, tools).
_UNUSED = re.compile(
    r"^(test|idlelib|tkinter|turtledemo|ensurepip|lib2to3|site-packages|config-[^/]*|"
    r"unittest/test|distutils/tests|lib-dynload/(_test\w*|_ctypes_test|_tkinter|_curses\w*|readline|xx\w*))(/|\.|$)"
)
# What hvtune's probe imports beyond the standard library (pyproject's
# dependencies but click, which only the command line needs); none needs more.
DISTRIBUTIONS = ("lxml", "msgspec", "packaging")
_NEEDED = re.compile(r"^\s*(?:\S+ => )?(/\S+) \(0x[0-9a-f]+\)$")


def _stdlib() -> Path:
    return Path(sysconfig.get_paths()["stdlib"])


def _python_files() -> Iterator[tuple[str, Path]]:
    """(path in the image, path here) of the interpreter, the standard
    library (compiled files included: nothing is compiled in the guest) and
    the distributions."""
    yield "bin/python3", Path(os.path.realpath(sys.executable))
    stdlib = _stdlib()
    version = stdlib.name  # python3.11
    for folder, subfolders, names in os.walk(stdlib):
        here = Path(folder)
        subfolders[:] = sorted(name for name in subfolders if not _UNUSED.match(f"{here.relative_to(stdlib) / name}/"))
        for name in sorted(names):
            relative = (here / name).relative_to(stdlib).as_posix()
            if not _UNUSED.match(relative) and ".opt-" not in name:
                yield f"lib/{version}/{relative}", here / name
    for name in DISTRIBUTIONS:
        distribution = importlib.metadata.distribution(name)
        for file in distribution.files or ():
            path = Path(str(distribution.locate_file(file)))
            if path.is_file() and ".opt-" not in path.name and ".dist-info" not in str(file):
                yield f"lib/{version}/site-packages/{file}", path


def _shared_libraries(binaries: list[Path]) -> dict[str, Path]:
    """Every shared library `binaries` link, by file name (the loader as
    LOADER), as ``ldd`` resolves them here."""
    done = run_tool(["ldd", *map(str, binaries)], "finding the libraries of hvtune's Python")
    found: dict[str, Path] = {}
    for line in done.stdout.splitlines():
        matched = _NEEDED.match(line)
        if matched:
            path = Path(matched.group(1))
            name = LOADER if path.name.startswith("ld-linux") else path.name
            found[name] = Path(os.path.realpath(path))
    if LOADER not in found:
        raise InputError("hvtune sandbox", None, f"ldd found no {LOADER} for {binaries[0]}: {done.stderr.strip()}")
    return found


def _key(files: list[tuple[str, Path]]) -> str:
    digest = hashlib.sha256()
    for name, path in files:
        state = path.stat()
        digest.update(f"{name}\0{path}\0{state.st_size}\0{state.st_mtime_ns}\n".encode())
    return digest.hexdigest()[:16]


def stage_python(tree: Path, files: list[tuple[str, Path]] | None = None) -> Path:
    """Copy hvtune's Python (`files`, by default all of it) and the shared
    libraries it links into the folder `tree`, as the image holds them."""
    files = list(_python_files()) if files is None else files
    binaries = [path for name, path in files if name == "bin/python3" or name.endswith(".so")]
    libraries = [(f"libs/{name}", path) for name, path in _shared_libraries(binaries).items()]
    for name, path in [*files, *libraries]:
        target = tree / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, target)
    return tree


def runtime_image(*, say: Callable[[str], None] = lambda _: None) -> Path:
    """The image of hvtune's Python, built when the cache has none for the
    files it holds today."""
    files = list(_python_files())
    folder = cache_folder() / "sandbox" / "python"
    image = folder / f"{_key(files)}.ext4"
    if image.is_file():
        return image
    say(f"making the image of hvtune's Python for the sandbox ({sys.version.split()[0]})")
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".python-", dir=folder) as work:
        tree = stage_python(Path(work) / "tree", files)
        staged = Path(work) / "python.ext4"
        make_image(tree, staged, room=16 << 20)
        for old in folder.glob("*.ext4"):
            old.unlink()
        staged.rename(image)
    return image


def python_argv(module: str, home: str = MOUNT, path: str = "/opt/hvtune/lib") -> list[str]:
    """The command that runs `module` on hvtune's Python at `home` (in the
    L1 guest: MOUNT), with `path` (hvtune's package there) on its path."""
    return [
        "env",
        f"PYTHONHOME={home}",
        f"PYTHONPATH={path}",
        "PYTHONDONTWRITEBYTECODE=1",
        f"{home}/libs/{LOADER}",
        "--library-path",
        f"{home}/libs",
        f"{home}/bin/python3",
        "-m",
        module,
    ]
