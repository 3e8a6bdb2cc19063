"""Read QEMU's kvm_hyperv_properties[] table out of the qemu-system-x86_64
binary itself.

QEMU runs its Hyper-V dependency checks only under KVM with Hyper-V
emulation, which test machines lack; but the table those checks use is
compiled into the binary. Each entry is ``{const char *desc; {u32 func;
int reg; u32 bits} flags[2]; u64 dependencies; [bool skip_passthrough]}``:
40 bytes in QEMU 7.x, 48 once skip_passthrough was added. The table is found
by its first two entries (hv-relaxed and hv-vapic, whose CPUID bits never
changed); desc pointers are resolved through the binary's RELATIVE
relocations.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

REGISTERS = {0: "eax", 1: "ecx", 2: "edx", 3: "ebx"}
_RELAXED = struct.pack("<IiI", 0x40000004, 0, 1 << 5)
_VAPIC = struct.pack("<IiI", 0x40000003, 0, 1 << 4)


@dataclass(frozen=True)
class TableEntry:
    bit: int
    desc: str
    flags: tuple[tuple[int, str, int], ...]  # (leaf, register, bits mask)
    dependencies: int
    skip_passthrough: bool | None


class _Elf:
    def __init__(self, data: bytes):
        self.data = data
        (phoff,) = struct.unpack_from("<Q", data, 0x20)
        phentsize, phnum = struct.unpack_from("<HH", data, 0x36)
        self.loads = []
        dynamic = None
        for index in range(phnum):
            kind, _, offset, vaddr, _, filesz, _, _ = struct.unpack_from("<IIQQQQQQ", data, phoff + index * phentsize)
            if kind == 1:
                self.loads.append((offset, vaddr, filesz))
            elif kind == 2:
                dynamic = (offset, filesz)
        assert dynamic, "no dynamic segment"
        tags: dict[int, int] = {}
        for index in range(dynamic[1] // 16):
            tag, value = struct.unpack_from("<qQ", data, dynamic[0] + 16 * index)
            if tag == 0:
                break
            tags.setdefault(tag, value)
        rela = self.file_offset(tags[7])  # DT_RELA, DT_RELASZ
        self.relative: dict[int, int] = {}
        for index in range(tags[8] // 24):
            where, info, addend = struct.unpack_from("<QQq", data, rela + 24 * index)
            if info & 0xFFFFFFFF == 8:  # R_X86_64_RELATIVE
                self.relative[where] = addend

    def file_offset(self, vaddr: int) -> int:
        for offset, start, size in self.loads:
            if start <= vaddr < start + size:
                return offset + vaddr - start
        raise ValueError(hex(vaddr))

    def vaddr(self, offset: int) -> int:
        for start_offset, start, size in self.loads:
            if start_offset <= offset < start_offset + size:
                return start + offset - start_offset
        raise ValueError(hex(offset))

    def string_at(self, vaddr: int) -> str:
        offset = self.file_offset(vaddr)
        return self.data[offset : self.data.index(b"\0", offset)].decode()


def read_table(binary: str) -> list[TableEntry]:
    with open(binary, "rb") as handle:
        data = handle.read()
    elf = _Elf(data)
    found = []
    position = data.find(_RELAXED)
    while position >= 0:
        found += [
            (position - 8, stride) for stride in (40, 48) if data[position + stride : position + stride + 12] == _VAPIC
        ]
        position = data.find(_RELAXED, position + 1)
    assert len(found) == 1, f"expected one kvm_hyperv_properties table, found {len(found)}"
    base, stride = found[0]
    entries = []
    for bit in range(64):
        start = base + stride * bit
        desc_vaddr = elf.relative.get(elf.vaddr(start))
        if not desc_vaddr:
            break
        raw = [struct.unpack_from("<IiI", data, start + 8 + 12 * i) for i in range(2)]
        flags = tuple((leaf, REGISTERS[reg], bits) for leaf, reg, bits in raw if leaf)
        (dependencies,) = struct.unpack_from("<Q", data, start + 32)
        skip = bool(data[start + 40]) if stride == 48 else None
        entries.append(TableEntry(bit, elf.string_at(desc_vaddr), flags, dependencies, skip))
    return entries
