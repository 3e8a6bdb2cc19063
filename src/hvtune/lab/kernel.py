"""The guest kernel: --kernel, the host's own, or Debian's cloud kernel
fetched with apt into the cache."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from hvtune.bench.build import cache_folder
from hvtune.errors import InputError

METAPACKAGE = "linux-image-cloud-amd64"
FETCH_HINT = (
    "give --kernel PATH, or fetch Debian's cloud kernel with `hvtune lab --fetch-kernel` "
    f"(apt-get download of the package {METAPACKAGE} depends on, unpacked into ~/.cache/hvtune/kernel)"
)


def _kernel_folder() -> Path:
    return cache_folder() / "kernel"


def _cached() -> Path | None:
    found = sorted(_kernel_folder().glob("*/boot/vmlinuz-*"))
    return found[-1] if found else None


def find_kernel(option: str | None) -> Path:
    """The kernel to boot: --kernel, else /boot/vmlinuz-$(uname -r), else a fetched one."""
    if option:
        path = Path(option)
        if not path.is_file():
            raise InputError(option, None, "no such kernel image")
        return path
    own = Path(f"/boot/vmlinuz-{os.uname().release}")
    if own.is_file() and os.access(own, os.R_OK):
        return own
    cached = _cached()
    if cached is not None:
        return cached
    raise InputError("hvtune lab", None, f"no kernel to boot: {FETCH_HINT}")


def _run(command: list[str], cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=900)


def _package() -> str | None:
    """The versioned kernel package the cloud metapackage depends on."""
    done = _run(["apt-cache", "depends", METAPACKAGE])
    for line in done.stdout.splitlines():
        name = line.strip().removeprefix("Depends: ")
        if name.startswith("linux-image-") and name != METAPACKAGE:
            return name
    return None


def fetch_kernel() -> Path:
    """Download and unpack Debian's cloud kernel into the cache (once)."""
    cached = _cached()
    if cached is not None:
        return cached
    if not (shutil.which("apt-get") and shutil.which("apt-cache") and shutil.which("dpkg-deb")):
        raise InputError("hvtune lab --fetch-kernel", None, "needs Debian's apt-get and dpkg-deb; give --kernel PATH")
    package = _package()
    if package is None and os.geteuid() == 0:
        _run(["apt-get", "update", "-qq"])  # the package lists may be missing on a fresh machine
        package = _package()
    if package is None:
        raise InputError("hvtune lab --fetch-kernel", None, f"apt knows no {METAPACKAGE} (run apt-get update)")
    folder = _kernel_folder()
    folder.mkdir(parents=True, exist_ok=True)
    done = _run(["apt-get", "download", package], cwd=folder)
    debs = sorted(folder.glob(f"{package}_*.deb"))
    if not debs:
        raise InputError("hvtune lab --fetch-kernel", None, f"apt-get download {package} failed: {done.stderr.strip()}")
    unpacked = folder / package
    unpacked_done = _run(["dpkg-deb", "-x", str(debs[-1]), str(unpacked)])
    kernel = _cached()
    if unpacked_done.returncode != 0 or kernel is None:
        raise InputError(
            "hvtune lab --fetch-kernel", None, f"cannot unpack {debs[-1].name}: {unpacked_done.stderr.strip()}"
        )
    debs[-1].unlink()
    return kernel
