"""The lab guest's whole world: an initramfs holding a static busybox, the
static measuring core and an init script that reports what the guest saw,
measures, and powers off. Without the core (verify --boot) the guest only
reports what it saw."""

from __future__ import annotations

import shlex
from collections.abc import Sequence
from pathlib import Path

from hvtune.vm.console import markers
from hvtune.vm.initramfs import EXECUTABLE, write_initramfs

CONTEXT_BEGIN, CONTEXT_END = markers("CONTEXT")
JSON_BEGIN, JSON_END = markers("JSON")

_INIT = """#!/bin/busybox sh
/bin/busybox mkdir -p /proc /sys /dev /tmp /sbin /usr/bin /usr/sbin
/bin/busybox --install -s
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t tmpfs tmpfs /tmp
echo {context_begin}
dmesg | grep -E 'Hypervisor detected|Hyper-V|clocksource|kvm-clock|tsc:'
echo "clocksource=$(cat /sys/devices/system/clocksource/clocksource0/current_clocksource)"
echo "kernel=$(uname -r)"
echo {context_end}
{measure}poweroff -f
"""
_MEASURE = """echo {json_begin}
/bin/hvtune-bench {arguments}
echo {json_end}
"""


def build_initramfs(target: Path, *, busybox: Path, bench: Path | None, arguments: Sequence[str] = ()) -> Path:
    """Write the guest's initramfs to `target`: with `bench` (the static
    core) the guest measures with `arguments`, without it it only reports."""
    measure = _MEASURE.format(json_begin=JSON_BEGIN, json_end=JSON_END, arguments=shlex.join(arguments))
    init = _INIT.format(context_begin=CONTEXT_BEGIN, context_end=CONTEXT_END, measure=measure if bench else "")
    core = [("bin/hvtune-bench", EXECUTABLE, bench.read_bytes())] if bench else []
    return write_initramfs(
        target, [("bin/busybox", EXECUTABLE, busybox.read_bytes()), *core, ("init", EXECUTABLE, init.encode())]
    )
