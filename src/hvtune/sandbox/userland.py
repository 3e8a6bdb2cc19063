"""A stack's programs run on this host without booting it: its root image
mounted read-only under a throw-away overlay, in private mount, PID,
network, UTS and IPC namespaces, where the agent runs on the stack's own
Python and starts the stack's libvirtd.

Only what starts no domain runs here: `virsh domxml-to-native` (libvirt's
translation and its refusals) and QEMU under TCG (how it reads a -cpu
value). A libvirtd in a chroot that started a domain would enter the
domain's mount namespace, whose root is the host's real / (seen: it
re-grouped the host's /dev/kvm and replaced /dev/ptmx); domains start in
the L1 guest (hvtune.sandbox.places). Needs root, a loop device and
overlayfs."""

from __future__ import annotations

import json
import subprocess
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from hvtune.errors import InputError
from hvtune.sandbox.agent import AgentOutcome, last_words, printed_outcome
from hvtune.sandbox.l1 import package_files
from hvtune.sandbox.stack import Stack

USERLAND_SECONDS = 900.0  # a whole batch, at most

# $1: the stack's image, $2: a work folder holding agent/ (bound on /opt/hvtune).
_SCRIPT = r"""
set -eu
image=$1 work=$2 root=$2/root
mkdir -p "$work/lower" "$work/rw" "$root"
mount -o loop,ro -t ext4 "$image" "$work/lower"
mount -t tmpfs tmpfs "$work/rw"
mkdir -p "$work/rw/upper" "$work/rw/work"
mount -t overlay overlay -o "lowerdir=$work/lower,upperdir=$work/rw/upper,workdir=$work/rw/work" "$root"
mount -t proc proc "$root/proc"
mount --rbind /sys "$root/sys"
mount --make-rslave "$root/sys"
mount -t tmpfs -o mode=755 tmpfs "$root/dev"
for node in "null c 1 3" "zero c 1 5" "full c 1 7" "random c 1 8" "urandom c 1 9" "tty c 5 0"; do
  set -- $node
  mknod -m 666 "$root/dev/$1" "$2" "$3" "$4"
done
# libvirt offers the kvm domain type only with a /dev/kvm; nothing here opens it
kvm_gid=$(chroot "$root" getent group kvm | cut -d: -f3)
mknod -m 660 "$root/dev/kvm" c 10 232
chown "0:${kvm_gid:-0}" "$root/dev/kvm"
mkdir -p "$root/dev/pts" "$root/dev/shm"
mount -t devpts -o newinstance,ptmxmode=0666 devpts "$root/dev/pts"
ln -s pts/ptmx "$root/dev/ptmx"
mount -t tmpfs tmpfs "$root/dev/shm"
mount -t tmpfs tmpfs "$root/run"
mount -t tmpfs tmpfs "$root/tmp"
mkdir -p "$root/opt/hvtune"
mount --bind "$work/agent" "$root/opt/hvtune"
# not exec'd: with the agent as the namespace's PID 1 the batch took 80 s longer
chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 \
  PYTHONPATH=/opt/hvtune/lib python3 -m hvtune.sandbox.agent /opt/hvtune/request.json
"""


def run_userland(stack: Stack, request: dict[str, Any], extra: Mapping[str, bytes] | None = None) -> AgentOutcome:
    """Run the batch `request` on the stack's programs, on this host."""
    with tempfile.TemporaryDirectory(prefix="hvtune-userland-") as folder:
        agent = Path(folder) / "agent"
        files = {"request.json": json.dumps(request).encode(), **dict(package_files()), **(extra or {})}
        for name, data in files.items():
            (agent / name).parent.mkdir(parents=True, exist_ok=True)
            (agent / name).write_bytes(data)
        argv = ["unshare", "--mount", "--pid", "--fork", "--net", "--uts", "--ipc", "--propagation", "private"]
        start = time.monotonic()
        try:
            done = subprocess.run(
                [*argv, "sh", "-c", _SCRIPT, "userland", str(stack.image), folder],
                capture_output=True,
                text=True,
                timeout=USERLAND_SECONDS,
            )
        except subprocess.TimeoutExpired:
            raise InputError("hvtune sandbox", None, f"the {stack.release} userland did not finish in time") from None
    outcome = printed_outcome(done, time.monotonic() - start)
    if outcome is None:
        problem = f"the {stack.release} userland printed no results ({last_words(done)})"
        raise InputError("hvtune sandbox", None, problem)
    return outcome
