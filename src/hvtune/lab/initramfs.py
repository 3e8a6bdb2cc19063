"""The lab guest's whole world: an initramfs holding a static busybox, the
static measuring core and an init script that reports what the guest saw,
measures, and powers off. Without the core (verify --boot) the guest only
reports what it saw.

With hvtune's Python packed in (`python`: its entries, and `run`: the
command that starts sandbox.in_guest on it), a guest whose kernel command
line carries an hvtune command line (``hvtune.run=``) also runs it, and
reports its standard output, its standard error and its exit status."""

from __future__ import annotations

import shlex
from collections.abc import Sequence
from pathlib import Path

from hvtune.sandbox.in_guest import PARAMETER
from hvtune.vm.console import markers
from hvtune.vm.initramfs import EXECUTABLE, write_initramfs

CONTEXT_BEGIN, CONTEXT_END = markers("CONTEXT")
JSON_BEGIN, JSON_END = markers("JSON")
RUN_BEGIN, RUN_END = markers("RUN")
RUN_ERRORS_BEGIN, RUN_ERRORS_END = markers("RUN-STDERR")
RUN_STATUS = "HVTUNE-RUN-STATUS="

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
echo "cmdline=$(cat /proc/cmdline)"
echo {context_end}
{run}{measure}poweroff -f
"""
_RUN = """if grep -q ' {parameter}=' /proc/cmdline; then
  {command} >/tmp/run.out 2>/tmp/run.err
  status=$?
  echo {run_begin}
  cat /tmp/run.out
  echo
  echo {run_end}
  echo {errors_begin}
  cat /tmp/run.err
  echo
  echo {errors_end}
  echo "{status}$status"
fi
"""
_MEASURE = """echo {json_begin}
/bin/hvtune-bench {arguments}
echo {json_end}
"""


def _run(command: Sequence[str]) -> str:
    return _RUN.format(
        parameter=PARAMETER, command=shlex.join(command), run_begin=RUN_BEGIN, run_end=RUN_END,
        errors_begin=RUN_ERRORS_BEGIN, errors_end=RUN_ERRORS_END, status=RUN_STATUS,
    )  # fmt: skip


def build_initramfs(
    target: Path,
    *,
    busybox: Path,
    bench: Path | None,
    arguments: Sequence[str] = (),
    python: Sequence[tuple[str, int, bytes]] = (),
    run: Sequence[str] = (),
) -> Path:
    """Write the guest's initramfs to `target`: with `bench` (the static
    core) the guest measures with `arguments`, without it it only reports;
    with `python` (hvtune's Python, as initramfs entries) and `run` (the
    command that starts sandbox.in_guest on it), a guest asked to on its
    kernel command line runs an hvtune command line first."""
    measure = _MEASURE.format(json_begin=JSON_BEGIN, json_end=JSON_END, arguments=shlex.join(arguments))
    init = _INIT.format(
        context_begin=CONTEXT_BEGIN,
        context_end=CONTEXT_END,
        run=_run(run) if run else "",
        measure=measure if bench else "",
    )
    core = [("bin/hvtune-bench", EXECUTABLE, bench.read_bytes())] if bench else []
    return write_initramfs(
        target,
        [("bin/busybox", EXECUTABLE, busybox.read_bytes()), *core, *python, ("init", EXECUTABLE, init.encode())],
    )
