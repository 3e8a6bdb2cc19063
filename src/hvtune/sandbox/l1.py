"""The L1 guest: a stack's kernel booted under TCG with ``-cpu max`` (whose
emulated AMD SVM lets the stack's kvm_amd give a /dev/kvm with Hyper-V
emulation), its root file system a throw-away snapshot of the stack's
image, and hvtune's agent running a batch there on the stack's Python.

The first root (an initramfs) holds a static busybox, the modules the
kernel needs to reach the disk, hvtune's own package and the batch; it
mounts the disk, copies hvtune into it and hands over to a second init
there, which mounts the image of hvtune's Python (a second disk, when
given), loads kvm_amd with the stack's own modprobe, runs the agent and
powers off. From its start it prints ALIVE every BEAT_SECONDS: now and
then the L1 guest under TCG stops for good (its QEMU idle), and a console
silent for SILENCE_SECONDS tells so; that boot is killed and the batch
booted once more."""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import hvtune
from hvtune.errors import InputError
from hvtune.sandbox.agent import BEGIN, END, AgentOutcome, read_records
from hvtune.sandbox.runtime import MOUNT as PYTHON_MOUNT
from hvtune.sandbox.stack import Stack
from hvtune.vm.console import Console, kernel_message
from hvtune.vm.initramfs import EXECUTABLE, FILE, find_busybox, write_initramfs
from hvtune.vm.run import VmRun, run_vm_again_if_stalled
from hvtune.vm.spec import VmSpec

L1_MEMORY = 2048  # MiB: the stack's QEMU and libvirt, and their L2 guests
BASE_SECONDS = 300.0  # booting L1 and starting the agent, at most
AGENT_FOLDER = Path("/opt/hvtune")  # where the agent runs, with run_l1's `extra` files
CASE_SECONDS = 120.0  # each configuration, at most (unless the case says its own timeout)
ALIVE = "HVTUNE-L1-ALIVE"
BEAT_SECONDS = 10
SILENCE_SECONDS = 150.0  # the kernel's boot, before the first ALIVE, is the longest silence

_FIRST_INIT = """#!/bin/busybox sh
B=/bin/busybox
$B mkdir -p /proc /dev /newroot
$B mount -t proc proc /proc
$B mount -t devtmpfs devtmpfs /dev
for module in /modules/*.ko; do $B insmod "$module"; done
tries=0
while [ ! -b /dev/vda ] && [ $tries -lt 200 ]; do $B usleep 50000; tries=$((tries + 1)); done
if ! $B mount -t ext4 /dev/vda /newroot; then
  echo "HVTUNE-L1-FAILED: the stack's disk did not appear"
  $B poweroff -f
fi
$B rm -rf /newroot/opt/hvtune
$B cp -a /hvtune /newroot/opt/hvtune
$B cp /bin/busybox /newroot/opt/hvtune/busybox
$B umount /proc
$B mount --move /dev /newroot/dev
exec $B switch_root /newroot /opt/hvtune/init
"""

_SECOND_INIT = f"""#!/opt/hvtune/busybox sh
B=/opt/hvtune/busybox
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8
$B mount -t proc proc /proc
$B mount -t sysfs sysfs /sys
$B mkdir -p /dev/pts /dev/shm
$B mount -t devpts devpts /dev/pts
$B mount -t tmpfs tmpfs /dev/shm
$B mount -t tmpfs tmpfs /run
$B mount -t tmpfs tmpfs /tmp
(while :; do echo {ALIVE}; $B sleep {BEAT_SECONDS}; done) &
if [ -b /dev/vdb ]; then $B mkdir -p {PYTHON_MOUNT} && $B mount -t ext4 -o ro /dev/vdb {PYTHON_MOUNT}; fi
modprobe kvm_amd 2>&1 | $B sed 's/^/HVTUNE-L1-MODPROBE: /'
# what udev does for /dev/kvm, so that libvirt's QEMU (not root) may open it
$B chgrp kvm /dev/kvm 2>/dev/null && $B chmod 0660 /dev/kvm
cd /opt/hvtune && PYTHONPATH=/opt/hvtune/lib python3 -m hvtune.sandbox.agent /opt/hvtune/request.json
$B sync
$B poweroff -f
"""


@dataclass(frozen=True)
class L1Outcome(AgentOutcome):
    """What the agent printed, and the run of the L1 guest."""

    run: VmRun


def package_files() -> Iterator[tuple[str, bytes]]:
    """hvtune's own package as it is installed here, for the agent."""
    package = Path(hvtune.__file__).parent
    for path in sorted(package.rglob("*")):
        relative = path.relative_to(package.parent)
        if "__pycache__" not in relative.parts and path.suffix != ".pyc" and path.is_file():
            yield f"lib/{relative}", path.read_bytes()


def build_first_root(target: Path, stack: Stack, request: dict[str, Any], extra: Mapping[str, bytes]) -> Path:
    """The L1 guest's initramfs: busybox, the boot modules, the two inits,
    and under /hvtune the batch, hvtune's package and `extra` files for the
    agent (by their path there: ``lib/...`` is on its Python path)."""
    agent_files = {"request.json": json.dumps(request).encode(), **dict(package_files()), **extra}
    files: list[tuple[str, int, bytes]] = [
        ("bin/busybox", EXECUTABLE, find_busybox("hvtune sandbox").read_bytes()),
        ("init", EXECUTABLE, _FIRST_INIT.encode()),
        *((f"modules/{module.name}", FILE, module.read_bytes()) for module in stack.boot_modules()),
        ("hvtune/init", EXECUTABLE, _SECOND_INIT.encode()),
        *((f"hvtune/{name}", FILE, data) for name, data in agent_files.items()),
    ]
    return write_initramfs(target, files)


def _failure(run: VmRun, stack: Stack) -> str:
    if run.stalled:
        return f"the {stack.release} sandbox stalled twice (its console silent for {SILENCE_SECONDS:.0f} s)"
    console = Console.read(run.stdout)
    said = [
        line
        for line in console.lines
        if (line.startswith("HVTUNE-L1-") and line != ALIVE) or "Traceback" in line or "Error" in line
    ]
    panic = console.panic()
    if run.timed_out:
        return f"the {stack.release} sandbox did not finish in time" + (f" (last: {said[-1]})" if said else "")
    if panic:
        return f"the {stack.release} sandbox's kernel panicked: {panic}"
    reason = said[-1] if said else kernel_message(console.lines[-1]) if console.lines else run.stderr.strip()
    return f"the {stack.release} sandbox's agent printed no results ({reason or f'QEMU exit {run.returncode}'})"


def run_l1(
    stack: Stack,
    request: dict[str, Any],
    extra: Mapping[str, bytes] | None = None,
    python: Path | None = None,
    *,
    say: Callable[[str], None] = lambda _: None,
) -> L1Outcome:
    """Boot `stack` as the L1 guest and run the batch `request` there;
    `python`, the image of hvtune's Python, is mounted at PYTHON_MOUNT.
    `say` is told when a boot stalled and is done again."""
    with tempfile.TemporaryDirectory(prefix="hvtune-l1-") as work:
        first_root = build_first_root(Path(work) / "initramfs.gz", stack, request, extra or {})
        spec = VmSpec(
            stack.vmlinuz,
            first_root,
            "max",
            accel="tcg",
            vcpus=1,
            memory=L1_MEMORY,
            append="console=ttyS0 quiet panic=-1",
            extra=(
                *("-drive", f"file={stack.image},format=raw,if=virtio,snapshot=on"),
                *(("-drive", f"file={python},format=raw,if=virtio,readonly=on") if python else ()),
            ),
            timeout=BASE_SECONDS + sum(case.get("timeout", CASE_SECONDS) for case in request.get("cases", ())),
            silence=SILENCE_SECONDS,
        )
        run = run_vm_again_if_stalled(spec, say, f"the {stack.release} sandbox")
    records = read_records(Console.read(run.stdout).between(BEGIN, END))
    if records is None:
        raise InputError("hvtune sandbox", None, _failure(run, stack))
    return L1Outcome(records, run.seconds, run)
