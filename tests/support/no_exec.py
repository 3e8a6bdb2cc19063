"""Make the kernel refuse executable memory to this process, as SELinux's
execmem denial or a W^X policy (systemd's MemoryDenyWriteExecute=) would:
a seccomp filter that fails mprotect with PROT_EXEC (EACCES). For x86-64
Linux; it lasts for the process and its children."""

from __future__ import annotations

import ctypes
import errno
import mmap

_PR_SET_NO_NEW_PRIVS = 38
_PR_SET_SECCOMP = 22
_SECCOMP_MODE_FILTER = 2
_MPROTECT = 10  # x86-64 system call number
_ARGS = 16  # offsetof(struct seccomp_data, args)
_RET_ALLOW = 0x7FFF0000
_RET_ERRNO = 0x00050000


class _Filter(ctypes.Structure):
    _fields_ = [("code", ctypes.c_ushort), ("jt", ctypes.c_ubyte), ("jf", ctypes.c_ubyte), ("k", ctypes.c_uint32)]


class _Program(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.POINTER(_Filter))]


def refuse_executable_memory() -> None:
    load_word, jump_equal, jump_set, ret = 0x20, 0x15, 0x45, 0x06  # BPF_LD|W|ABS, BPF_JMP|JEQ|K, JSET|K, RET|K
    steps = (
        (load_word, 0, 0, 0),  # the system call's number
        (jump_equal, 0, 3, _MPROTECT),
        (load_word, 0, 0, _ARGS + 2 * 8),  # mprotect's third argument, its low word
        (jump_set, 0, 1, mmap.PROT_EXEC),
        (ret, 0, 0, _RET_ERRNO | errno.EACCES),
        (ret, 0, 0, _RET_ALLOW),
    )
    filters = (_Filter * len(steps))(*(_Filter(*step) for step in steps))
    program = _Program(len(steps), filters)
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) or libc.prctl(
        _PR_SET_SECCOMP, _SECCOMP_MODE_FILTER, ctypes.byref(program), 0, 0
    ):
        raise OSError(ctypes.get_errno(), "cannot install the seccomp filter")
