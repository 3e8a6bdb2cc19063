"""hvtune's compiled dependency for the stack's Python: Debian releases
ship lxml but not msgspec, so its wheel for that Python version is fetched
from the package index once (pip download) and unpacked beside hvtune in
the L1 guest."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path

from hvtune.bench.build import cache_folder
from hvtune.errors import InputError

WHEELS = ("msgspec",)


def _folder(python: str) -> Path:
    return cache_folder() / "sandbox" / "wheels" / f"cp{python.replace('.', '')}"


def fetch_wheels(python: str) -> list[Path]:
    """The wheels for CPython `python` (``3.11``), downloaded when missing."""
    folder = _folder(python)
    found = sorted(folder.glob("*.whl"))
    if len(found) >= len(WHEELS):
        return found
    command = [
        sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:",
        "--implementation", "cp", "--python-version", python, "--platform", "manylinux_2_17_x86_64",
        "--dest", str(folder), *WHEELS,
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, timeout=600)
    found = sorted(folder.glob("*.whl"))
    if done.returncode != 0 or len(found) < len(WHEELS):
        said = (done.stderr.strip() or done.stdout.strip()).splitlines()
        problem = said[-1] if said else f"pip exit {done.returncode}"
        raise InputError("hvtune sandbox", None, f"cannot fetch {', '.join(WHEELS)} for Python {python}: {problem}")
    return found


def wheel_files(python: str) -> Iterator[tuple[str, bytes]]:
    """Every file of the wheels, by its path under site-packages."""
    for wheel in fetch_wheels(python):
        with zipfile.ZipFile(wheel) as archive:
            for info in archive.infolist():
                if not info.is_dir():
                    yield info.filename, archive.read(info)
