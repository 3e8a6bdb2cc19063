"""A guest's initramfs: a gzip'd cpio "newc" archive the kernel unpacks
as its first root, and the static busybox such a root runs on."""

from __future__ import annotations

import gzip
import stat
import struct
from collections.abc import Iterable
from pathlib import Path

from hvtune.errors import InputError

BUSYBOX_PLACES = ("/bin/busybox", "/usr/bin/busybox", "/usr/lib/initramfs-tools/bin/busybox")
EXECUTABLE = stat.S_IFREG | 0o755
FILE = stat.S_IFREG | 0o644
FOLDER = stat.S_IFDIR | 0o755


def is_static(path: Path) -> bool:
    """Whether an ELF executable needs no dynamic loader (no PT_INTERP)."""
    data = path.read_bytes()
    if data[:4] != b"\x7fELF" or data[4] != 2:  # 64-bit ELF only
        return False
    (phoff,) = struct.unpack_from("<Q", data, 0x20)
    entry_size, count = struct.unpack_from("<HH", data, 0x36)
    return all(struct.unpack_from("<I", data, phoff + i * entry_size)[0] != 3 for i in range(count))


def find_busybox(needed_by: str) -> Path:
    """A static busybox of this machine, for a guest's initramfs."""
    for place in BUSYBOX_PLACES:
        path = Path(place)
        if path.is_file() and is_static(path):
            return path
    raise InputError(needed_by, None, "needs a static busybox for the guest: apt-get install busybox-static")


def _entry(name: str, mode: int, data: bytes, inode: int) -> bytes:
    encoded = name.encode() + b"\0"
    fields = (inode, mode, 0, 0, 1, 0, len(data), 0, 0, 0, 0, len(encoded), 0)
    header = b"070701" + "".join(f"{field:08X}" for field in fields).encode() + encoded
    return header + b"\0" * (-len(header) % 4) + data + b"\0" * (-len(data) % 4)


def cpio_newc(files: Iterable[tuple[str, int, bytes]]) -> bytes:
    """A cpio archive in the "newc" format the kernel unpacks: (name, mode, data)."""
    parts = [_entry(name, mode, data, inode) for inode, (name, mode, data) in enumerate(files, start=1)]
    return b"".join([*parts, _entry("TRAILER!!!", 0, b"", 0)])


def write_initramfs(target: Path, files: Iterable[tuple[str, int, bytes]]) -> Path:
    """Write an initramfs of `files` (name, mode, data) to `target`, after
    an entry for every folder they are in that they do not name (the kernel
    makes no folder the archive does not name)."""
    entries = list(files)
    named = {name for name, _, _ in entries}
    parents = {str(parent) for name in named for parent in Path(name).parents if str(parent) != "."}
    folders = [(folder, FOLDER, b"") for folder in sorted(parents - named)]
    target.write_bytes(gzip.compress(cpio_newc([*folders, *entries]), compresslevel=1))
    return target
