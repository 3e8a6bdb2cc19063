"""Compile the benchmark core (core.c, shipped in the package) with the
system's C compiler into a cache folder, once per source and compiler.

Static when the C library allows it (the lab copies the binary into a guest
with nothing else); dynamic otherwise, which is enough for `hvtune bench`.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path

from hvtune.errors import InputError

_FLAGS = ("-O2", "-pthread", "-Wall")


@dataclass(frozen=True)
class Binary:
    path: Path
    static: bool


def cache_folder() -> Path:
    """Where hvtune keeps what it builds and fetches ($XDG_CACHE_HOME/hvtune)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "hvtune"


def _compiler() -> str:
    for name in (os.environ.get("CC"), "cc", "gcc", "clang"):
        if name and (path := shutil.which(name)):
            return path
    raise InputError(
        "hvtune bench", None, "needs a C compiler to build its measuring core: apt-get install gcc libc6-dev"
    )


def _compile(compiler: str, source: Path, target: Path, static: bool) -> str | None:
    """Compile; None on success, else the compiler's complaint."""
    command = [compiler, *_FLAGS, *(["-static"] if static else []), "-o", str(target), str(source)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300)
    return None if done.returncode == 0 else (done.stderr.strip().splitlines() or ["failed"])[-1]


def build_core(*, static_only: bool = False) -> Binary:
    """The compiled core, built now if the cache lacks it."""
    source_text = files("hvtune.bench").joinpath("core.c").read_bytes()
    compiler = _compiler()
    digest = hashlib.sha256(source_text + compiler.encode()).hexdigest()[:16]
    folder = cache_folder() / "bench"
    folder.mkdir(parents=True, exist_ok=True)
    variants = (True,) if static_only else (True, False)
    for static in variants:
        target = folder / f"hvtune-bench-{digest}{'-static' if static else ''}"
        if target.exists():
            return Binary(target, static)
    source = folder / f"core-{digest}.c"
    source.write_bytes(source_text)
    problems = []
    for static in variants:
        target = folder / f"hvtune-bench-{digest}{'-static' if static else ''}"
        partial = target.with_suffix(".partial")
        problem = _compile(compiler, source, partial, static)
        if problem is None:
            partial.replace(target)
            return Binary(target, static)
        problems.append(problem)
    need = "a static C library (apt-get install libc6-dev)" if static_only else "a working C compiler"
    raise InputError("hvtune bench", None, f"cannot build its measuring core: {problems[-1]} (needs {need})")
