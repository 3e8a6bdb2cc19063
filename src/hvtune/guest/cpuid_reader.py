"""Reading CPUID in the running machine, two ways.

The instruction itself: a few bytes of x86-64 machine code copied into a
page of its own, made executable and called through ctypes. On Linux (and
other POSIX systems) the page is mapped read-write and then switched to
read-execute with mprotect, so it is never writable and executable at once;
on Windows it comes from VirtualAlloc. The code takes the buffer to fill in
RCX: Windows passes the first argument there, System V the fourth, and the
caller passes the buffer as all four, so one code serves both conventions.

Linux's ``/dev/cpu/N/cpuid`` (the cpuid module, root): a 16-byte pread at
offset ``leaf | subleaf << 32`` returns EAX, EBX, ECX, EDX. Used when the
system refuses to execute new code (SELinux's execmem, a W^X policy).
"""

from __future__ import annotations

import ctypes
import os
import platform
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from hvtune.cpuid import OBSERVED_LEAVES, REGISTERS_SIZE, Leaves, Registers, unpack_registers
from hvtune.errors import InputError

INSTRUCTION = "instruction"  # CpuidReading.method when the instruction was run
_X86_64 = ("x86_64", "amd64")

# The buffer is four 32-bit words: leaf, 0, subleaf, 0 on the way in; EAX,
# EBX, ECX, EDX on the way out.
_CODE = bytes(
    (
        0x53,  # push rbx (callee-saved in both conventions)
        0x49, 0x89, 0xC9,  # mov r9, rcx (the buffer)
        0x41, 0x8B, 0x01,  # mov eax, [r9]
        0x41, 0x8B, 0x49, 0x08,  # mov ecx, [r9+8]
        0x0F, 0xA2,  # cpuid
        0x41, 0x89, 0x01,  # mov [r9], eax
        0x41, 0x89, 0x59, 0x04,  # mov [r9+4], ebx
        0x41, 0x89, 0x49, 0x08,  # mov [r9+8], ecx
        0x41, 0x89, 0x51, 0x0C,  # mov [r9+12], edx
        0x5B,  # pop rbx
        0xC3,  # ret
    )
)  # fmt: skip
_PAGE = 4096
_CALL = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p)


class CpuidUnavailable(Exception):
    """One way of reading CPUID does not work here; the message says why."""


@dataclass(frozen=True)
class CpuidReading:
    """The leaves read, the way they were read (`INSTRUCTION`, or the path
    of the device read), and why the instruction was not used when it was
    not."""

    leaves: Leaves
    method: str
    refused: str | None = None


def check_x86_64() -> None:
    """Refuse, in one line, a machine that has no CPUID to read."""
    machine = platform.machine()
    if machine.lower() not in _X86_64:
        problem = f"not x86-64 ({machine or 'unknown'}): hvtune guest reads CPUID with x86-64 code"
        raise InputError("this machine", None, problem)
    if sys.maxsize <= 2**32:
        raise InputError("this Python", None, "32-bit: it cannot run the 64-bit cpuid code; use a 64-bit Python")


def _libc_function(name: str, restype: object, *argtypes: object) -> Any:
    """A C library function, typed for ctypes, that keeps errno."""
    function = getattr(ctypes.CDLL(None, use_errno=True), name)
    function.restype = restype
    function.argtypes = argtypes
    return function


def _refused(what: str) -> CpuidUnavailable:
    error = ctypes.get_errno()
    return CpuidUnavailable(f"{what} refused: {os.strerror(error)}")


@contextmanager
def _executable(code: bytes) -> Iterator[int]:
    """The address of a private page holding `code`, executable, freed on
    leaving."""
    if sys.platform == "win32":
        kernel32 = ctypes.WinDLL("kernel32", use_last_error=True)
        kernel32.VirtualAlloc.restype = ctypes.c_void_p
        kernel32.VirtualAlloc.argtypes = (ctypes.c_void_p, ctypes.c_size_t, ctypes.c_ulong, ctypes.c_ulong)
        kernel32.VirtualFree.argtypes = (ctypes.c_void_p, ctypes.c_size_t, ctypes.c_ulong)
        mem_commit_reserve, page_execute_readwrite, mem_release = 0x3000, 0x40, 0x8000
        address = kernel32.VirtualAlloc(None, _PAGE, mem_commit_reserve, page_execute_readwrite)
        if not address:
            raise CpuidUnavailable(f"VirtualAlloc refused: {ctypes.FormatError(ctypes.get_last_error())}")
        try:
            ctypes.memmove(address, code, len(code))
            yield address
        finally:
            kernel32.VirtualFree(address, 0, mem_release)
    else:
        import mmap

        pointer, size, number = ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int
        mapped = _libc_function("mmap", pointer, pointer, size, number, number, number, ctypes.c_long)
        protect = _libc_function("mprotect", number, pointer, size, number)
        unmap = _libc_function("munmap", number, pointer, size)
        flags = mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS
        address = mapped(None, _PAGE, mmap.PROT_READ | mmap.PROT_WRITE, flags, -1, 0)
        if address in (None, pointer(-1).value):
            raise _refused("mmap")
        try:
            ctypes.memmove(address, code, len(code))
            if protect(address, _PAGE, mmap.PROT_READ | mmap.PROT_EXEC) != 0:
                raise _refused("making the page executable (mprotect)")
            yield address
        finally:
            unmap(address, _PAGE)


def read_with_instruction(leaves: Iterable[int] = OBSERVED_LEAVES) -> dict[int, Registers]:
    """Each leaf (subleaf 0) as the cpuid instruction answers it on this
    CPU; CpuidUnavailable when the system refuses to run the code."""
    with _executable(_CODE) as address:
        call = _CALL(address)
        read = {}
        for leaf in leaves:
            buffer = (ctypes.c_uint32 * 4)(leaf, 0, 0, 0)
            call(buffer, buffer, buffer, buffer)
            read[leaf] = unpack_registers(bytes(buffer))
        return read


def device_path(cpu: int | None = None) -> str:
    """Linux's CPUID device of `cpu` (default: the first this process may
    run on)."""
    if cpu is None:
        cpu = min(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 0
    return f"/dev/cpu/{cpu}/cpuid"


def read_with_device(leaves: Iterable[int] = OBSERVED_LEAVES, path: str | None = None) -> dict[int, Registers]:
    """Each leaf (subleaf 0) read from Linux's CPUID device; CpuidUnavailable
    when it is missing or not readable."""
    if sys.platform == "win32":
        raise CpuidUnavailable("Windows has no CPUID device")
    path = path or device_path()
    try:
        descriptor = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        raise CpuidUnavailable(f"{path} is missing (load the cpuid module: modprobe cpuid)") from None
    except PermissionError:
        raise CpuidUnavailable(f"{path} is not readable (it needs root)") from None
    except OSError as error:
        raise CpuidUnavailable(f"{path}: {error.strerror or error}") from None
    try:
        read = {}
        for leaf in leaves:
            data = os.pread(descriptor, REGISTERS_SIZE, leaf)
            if len(data) != REGISTERS_SIZE:
                raise CpuidUnavailable(
                    f"{path} answered leaf 0x{leaf:08X} with {len(data)} bytes, not {REGISTERS_SIZE}"
                )
            read[leaf] = unpack_registers(data)
        return read
    except OSError as error:
        raise CpuidUnavailable(f"{path}: {error.strerror or error}") from None
    finally:
        os.close(descriptor)


def read_cpuid(leaves: Iterable[int] = OBSERVED_LEAVES) -> CpuidReading:
    """The leaves, by the instruction, else (on Linux) by the device; an
    InputError naming both reasons when neither works."""
    check_x86_64()
    wanted = tuple(leaves)
    try:
        return CpuidReading(read_with_instruction(wanted), INSTRUCTION)
    except CpuidUnavailable as refused:
        if not sys.platform.startswith("linux"):
            raise InputError("CPUID", None, f"cannot be read: {refused}") from None
        try:
            return CpuidReading(read_with_device(wanted), device_path(), str(refused))
        except CpuidUnavailable as missing:
            raise InputError("CPUID", None, f"cannot be read: {refused}; and {missing}") from None
