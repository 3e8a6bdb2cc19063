"""The guest's whole world: an initramfs (cpio "newc", gzip) holding a
static busybox, the static measuring core and an init script that reports
what the guest saw, measures, and powers off."""

from __future__ import annotations

import gzip
import shlex
import stat
import struct
from collections.abc import Iterable
from pathlib import Path

from hvtune.errors import InputError
from hvtune.vm.console import markers

BUSYBOX_PLACES = ("/bin/busybox", "/usr/bin/busybox", "/usr/lib/initramfs-tools/bin/busybox")
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
echo {json_begin}
/bin/hvtune-bench {arguments}
echo {json_end}
poweroff -f
"""


def is_static(path: Path) -> bool:
    """Whether an ELF executable needs no dynamic loader (no PT_INTERP)."""
    data = path.read_bytes()
    if data[:4] != b"\x7fELF" or data[4] != 2:  # 64-bit ELF only
        return False
    (phoff,) = struct.unpack_from("<Q", data, 0x20)
    entry_size, count = struct.unpack_from("<HH", data, 0x36)
    return all(struct.unpack_from("<I", data, phoff + i * entry_size)[0] != 3 for i in range(count))


def find_busybox() -> Path:
    for place in BUSYBOX_PLACES:
        path = Path(place)
        if path.is_file() and is_static(path):
            return path
    raise InputError("hvtune lab", None, "needs a static busybox for the guest: apt-get install busybox-static")


def _entry(name: str, mode: int, data: bytes, inode: int) -> bytes:
    encoded = name.encode() + b"\0"
    fields = (inode, mode, 0, 0, 1, 0, len(data), 0, 0, 0, 0, len(encoded), 0)
    header = b"070701" + "".join(f"{field:08X}" for field in fields).encode() + encoded
    return header + b"\0" * (-len(header) % 4) + data + b"\0" * (-len(data) % 4)


def cpio_newc(files: Iterable[tuple[str, int, bytes]]) -> bytes:
    """A cpio archive in the "newc" format the kernel unpacks: (name, mode, data)."""
    parts = [_entry(name, mode, data, inode) for inode, (name, mode, data) in enumerate(files, start=1)]
    return b"".join([*parts, _entry("TRAILER!!!", 0, b"", 0)])


def build_initramfs(target: Path, *, busybox: Path, bench: Path, arguments: list[str]) -> Path:
    """Write the guest's initramfs to `target`."""
    init = _INIT.format(
        context_begin=CONTEXT_BEGIN,
        context_end=CONTEXT_END,
        json_begin=JSON_BEGIN,
        json_end=JSON_END,
        arguments=shlex.join(arguments),
    )
    executable = stat.S_IFREG | 0o755
    archive = cpio_newc(
        [
            ("bin", stat.S_IFDIR | 0o755, b""),
            ("bin/busybox", executable, busybox.read_bytes()),
            ("bin/hvtune-bench", executable, bench.read_bytes()),
            ("init", executable, init.encode()),
        ]
    )
    target.write_bytes(gzip.compress(archive, compresslevel=1))
    return target
