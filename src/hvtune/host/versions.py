"""Versions of the virtualization programs installed on this host."""

from __future__ import annotations

import re
import shutil
import subprocess
from functools import cache


@cache
def local_libvirt_version() -> str | None:
    """The version of the libvirt installed here (`virsh --version`, which
    needs no daemon), or None when there is none."""
    virsh = shutil.which("virsh")
    if virsh is None:
        return None
    try:
        done = subprocess.run([virsh, "--version"], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return None
    match = re.fullmatch(r"(\d+\.\d+\.\d+)", done.stdout.strip())
    return match.group(1) if done.returncode == 0 and match else None
