"""The CPUID payload: a 64 KiB firmware image that shows what CPUID a guest
really sees, with no operating system at all.

QEMU loads it with ``-bios`` in place of SeaBIOS; the CPU starts in real
mode at the reset vector (offset 0xFFF0 of the image), which jumps to the
code at offset 0. The code runs CPUID on every leaf of `PAYLOAD_LEAVES`
(ECX = 0), prints each on COM1 as ``L <leaf>: <eax> <ebx> <ecx> <edx>`` (eight
lowercase hex digits each) between the console markers of `MARKER`, and ends
QEMU through its isa-debug-exit device, whose exit status is then
`EXIT_STATUS`. It needs no memory but a stack in low RAM and no data but
the immediates of its instructions.

The machine code is written here byte by byte, each instruction with its
mnemonic beside it, so nothing but Python is needed to build it and the
image is the same on every machine (`payload_image`).
"""

from __future__ import annotations

import re
import struct
from functools import cache
from pathlib import Path

from hvtune.cpuid import OBSERVED_LEAVES, Leaves, Registers
from hvtune.vm.console import Console, markers

# The payload reads what hvtune guest reads from a running guest.
PAYLOAD_LEAVES = OBSERVED_LEAVES
MARKER = "CPUID"  # the console's markers: hvtune.vm.console.markers(MARKER)

IMAGE_SIZE = 0x10000
RESET_VECTOR = 0xFFF0
EXIT_PORT = 0xF4  # isa-debug-exit's I/O port
EXIT_VALUE = 0x10
EXIT_STATUS = EXIT_VALUE << 1 | 1  # QEMU exits with (value << 1) | 1 = 33
_COM1 = 0x3F8  # transmit register; +3 line control, +5 line status
_LSR_THR_EMPTY = 0x20
_STACK_TOP = 0x7000  # 0000:7000, in the RAM every PC has


def payload_argv(image: Path) -> tuple[str, ...]:
    """The QEMU arguments that run the payload from `image` (a file holding
    `payload_image()`): as firmware, with the exit device, COM1 on QEMU's
    stdout, and nothing else (no display, monitor, default devices or
    option ROMs). The accelerator, machine and -cpu are the caller's."""
    return (
        "-bios", str(image),
        "-device", f"isa-debug-exit,iobase={EXIT_PORT:#x},iosize=4",
        "-nodefaults", "-display", "none", "-monitor", "none", "-serial", "stdio", "-no-reboot",
    )  # fmt: skip


_LINE = re.compile(r"L ([0-9a-f]{8}):((?: [0-9a-f]{8}){4})")


def read_payload_output(console: str) -> Leaves | None:
    """The leaves the payload printed on `console` (QEMU's stdout), or None
    when the console does not hold the payload's whole report: both
    markers, and between them one line per leaf of `PAYLOAD_LEAVES`, in
    order, as the payload writes them."""
    lines = Console.read(console).between(*markers(MARKER))
    if lines is None or len(lines) != len(PAYLOAD_LEAVES):
        return None
    leaves: dict[int, Registers] = {}
    for expected, line in zip(PAYLOAD_LEAVES, lines, strict=True):
        match = _LINE.fullmatch(line)
        if match is None or int(match[1], 16) != expected:
            return None
        eax, ebx, ecx, edx = (int(word, 16) for word in match[2].split())
        leaves[expected] = (eax, ebx, ecx, edx)
    return leaves


class _Assembler:
    """Just enough of a 16-bit assembler for this payload: bytes as given,
    labels, and 8- or 16-bit relative jumps and calls to them."""

    def __init__(self) -> None:
        self.code = bytearray()
        self.labels: dict[str, int] = {}
        self.fixups: list[tuple[int, str, int]] = []  # where, to which label, how many bytes

    def emit(self, *parts: int | bytes) -> None:
        for part in parts:
            self.code += bytes([part]) if isinstance(part, int) else part

    def label(self, name: str) -> None:
        self.labels[name] = len(self.code)

    def relative(self, opcode: bytes, label: str, size: int) -> None:
        """An instruction whose operand is the distance from its end to
        `label` (jcc/jmp rel8, call/jmp rel16)."""
        self.emit(opcode)
        self.fixups.append((len(self.code), label, size))
        self.emit(bytes(size))

    def link(self) -> bytes:
        for where, label, size in self.fixups:
            distance = self.labels[label] - (where + size)
            if size == 1 and not -128 <= distance < 128:
                raise ValueError(f"short jump to {label} is {distance} bytes")
            self.code[where : where + size] = (distance & (1 << 8 * size) - 1).to_bytes(size, "little")
        return bytes(self.code)


def _imm16(value: int) -> bytes:
    return struct.pack("<H", value)


def _imm32(value: int) -> bytes:
    return struct.pack("<I", value)


def _call(asm: _Assembler, label: str) -> None:
    asm.relative(b"\xe8", label, 2)  # call rel16


def _print(asm: _Assembler, text: str) -> None:
    for char in text.encode("ascii"):
        asm.emit(0xB0, char)  # mov al, char
        _call(asm, "putc")


def _main(asm: _Assembler) -> None:
    asm.label("start")
    asm.emit(0xFA)  # cli
    asm.emit(0x31, 0xC0)  # xor ax, ax
    asm.emit(0x8E, 0xD0)  # mov ss, ax
    asm.emit(0xBC, _imm16(_STACK_TOP))  # mov sp, STACK_TOP
    asm.emit(0xBA, _imm16(_COM1 + 3))  # mov dx, COM1 line control
    asm.emit(0xB0, 0x03)  # mov al, 3 (8 data bits, no parity, 1 stop bit)
    asm.emit(0xEE)  # out dx, al
    begin, end = markers(MARKER)
    _print(asm, begin + "\n")
    for leaf in PAYLOAD_LEAVES:
        asm.emit(0x66, 0xB8, _imm32(leaf))  # mov eax, leaf
        _call(asm, "leaf")
    _print(asm, end + "\n")
    asm.emit(0xBA, _imm16(EXIT_PORT))  # mov dx, EXIT_PORT
    asm.emit(0xB0, EXIT_VALUE)  # mov al, EXIT_VALUE
    asm.emit(0xEE)  # out dx, al: QEMU exits here
    asm.label("halt")  # without the exit device: stop for good
    asm.emit(0xF4)  # hlt
    asm.relative(b"\xeb", "halt", 1)  # jmp short halt


def _leaf_routine(asm: _Assembler) -> None:
    """leaf: CPUID leaf EAX, subleaf 0, printed as one line."""
    asm.label("leaf")
    asm.emit(0x66, 0x89, 0xC6)  # mov esi, eax
    asm.emit(0x66, 0x31, 0xC9)  # xor ecx, ecx
    asm.emit(0x0F, 0xA2)  # cpuid
    asm.emit(0x66, 0x52)  # push edx
    asm.emit(0x66, 0x51)  # push ecx
    asm.emit(0x66, 0x53)  # push ebx
    asm.emit(0x66, 0x50)  # push eax
    _print(asm, "L ")
    asm.emit(0x66, 0x89, 0xF7)  # mov edi, esi
    _call(asm, "hex32")
    _print(asm, ":")
    for _register in range(4):  # eax, ebx, ecx, edx, as pushed
        _print(asm, " ")
        asm.emit(0x66, 0x5F)  # pop edi
        _call(asm, "hex32")
    _print(asm, "\n")
    asm.emit(0xC3)  # ret


def _hex32_routine(asm: _Assembler) -> None:
    """hex32: EDI as eight lowercase hex digits, the highest first."""
    asm.label("hex32")
    asm.emit(0xB9, _imm16(8))  # mov cx, 8
    asm.label("digit")
    asm.emit(0x66, 0xC1, 0xC7, 0x04)  # rol edi, 4
    asm.emit(0x89, 0xF8)  # mov ax, di
    asm.emit(0x24, 0x0F)  # and al, 0x0f
    asm.emit(0x04, ord("0"))  # add al, '0'
    asm.emit(0x3C, ord("9"))  # cmp al, '9'
    asm.relative(b"\x76", "decimal", 1)  # jbe decimal
    asm.emit(0x04, ord("a") - ord("9") - 1)  # add al, 'a' - ('9' + 1)
    asm.label("decimal")
    _call(asm, "putc")
    asm.emit(0x49)  # dec cx
    asm.relative(b"\x75", "digit", 1)  # jnz digit
    asm.emit(0xC3)  # ret


def _putc_routine(asm: _Assembler) -> None:
    """putc: AL on COM1, once its transmit register is empty."""
    asm.label("putc")
    asm.emit(0x52)  # push dx
    asm.emit(0x50)  # push ax
    asm.emit(0xBA, _imm16(_COM1 + 5))  # mov dx, COM1 line status
    asm.label("busy")
    asm.emit(0xEC)  # in al, dx
    asm.emit(0xA8, _LSR_THR_EMPTY)  # test al, THR empty
    asm.relative(b"\x74", "busy", 1)  # jz busy
    asm.emit(0x58)  # pop ax
    asm.emit(0xBA, _imm16(_COM1))  # mov dx, COM1
    asm.emit(0xEE)  # out dx, al
    asm.emit(0x5A)  # pop dx
    asm.emit(0xC3)  # ret


@cache
def payload_image() -> bytes:
    """The 64 KiB image: the code from offset 0, and at the reset vector a
    jump to it (the CPU starts there with CS based at the image's start)."""
    asm = _Assembler()
    _main(asm)
    _leaf_routine(asm)
    _hex32_routine(asm)
    _putc_routine(asm)
    code = asm.link()
    if len(code) > RESET_VECTOR:
        raise ValueError(f"the payload's code ({len(code)} bytes) overlaps the reset vector")
    # jmp near start: IP wraps around 64 KiB, from past the jump to offset 0
    reset = b"\xe9" + _imm16(-(RESET_VECTOR + 3) & 0xFFFF)
    image = code.ljust(RESET_VECTOR, b"\0") + reset
    return image.ljust(IMAGE_SIZE, b"\0")
