"""Versions of the virtualization programs installed on this host."""

from __future__ import annotations

import re
import shutil
import subprocess
from functools import cache

QEMU_BINARY = "qemu-system-x86_64"


def _version_of(program: str, pattern: str) -> str | None:
    """The version `program --version` prints, found with `pattern`, or None
    when the program is missing or says something else."""
    path = shutil.which(program)
    if path is None:
        return None
    try:
        done = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return None
    match = re.search(pattern, done.stdout)
    return match.group(1) if done.returncode == 0 and match else None


@cache
def local_libvirt_version() -> str | None:
    """The version of the libvirt installed here (`virsh --version`, which
    needs no daemon), or None when there is none."""
    return _version_of("virsh", r"^(\d+\.\d+\.\d+)\s*$")


@cache
def local_qemu_version() -> str | None:
    """The version of qemu-system-x86_64 here ("QEMU emulator version 7.2.22
    (Debian ...)"), or None when there is none."""
    return _version_of(QEMU_BINARY, r"QEMU emulator version (\d+\.\d+(?:\.\d+)?)")
