"""Reading input, with the same rules for every source: a regular file
(never a FIFO, device, socket or directory, which could block or never end),
at most MAX_INPUT_BYTES, UTF-8 text. Standard input gets the size and
encoding rules (it is a pipe by nature)."""

from __future__ import annotations

import os
import stat
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from hvtune.errors import InputError

# Larger inputs are not configurations; refusing them early keeps hostile
# files from costing time or memory.
MAX_INPUT_BYTES = 16 * 1024 * 1024
STDIN = "<stdin>"

_KINDS = (
    (stat.S_ISDIR, "is a directory"),
    (stat.S_ISFIFO, "is a FIFO"),
    (stat.S_ISSOCK, "is a socket"),
    (stat.S_ISCHR, "is a character device"),
    (stat.S_ISBLK, "is a block device"),
)
_BOMS = (
    (b"\xff\xfe\x00\x00", "UTF-32"),
    (b"\x00\x00\xfe\xff", "UTF-32"),
    (b"\xff\xfe", "UTF-16"),
    (b"\xfe\xff", "UTF-16"),
)


@dataclass(frozen=True)
class Loaded:
    """What was read from one source: exactly the bytes, and their text."""

    source: str
    data: bytes
    text: str


def not_regular(mode: int) -> str | None:
    """Why a file of this mode is not a plain file hvtune reads or replaces,
    or None when it is one."""
    return next(
        (problem for test, problem in _KINDS if test(mode)), None if stat.S_ISREG(mode) else "is not a regular file"
    )


def decode(data: bytes, source: str) -> str:
    """UTF-8 text (a byte-order mark is kept and ignored later); anything
    else is an InputError naming the first bad byte."""
    if len(data) > MAX_INPUT_BYTES:
        raise InputError(source, None, f"larger than {MAX_INPUT_BYTES // (1024 * 1024)} MiB; not a VM configuration")
    encoding = next((name for bom, name in _BOMS if data.startswith(bom)), None)
    if encoding:
        raise InputError(source, None, f"{encoding} text; hvtune reads UTF-8 only")
    nul = data.find(b"\0")
    if nul >= 0:  # no format hvtune reads has one; UTF-16 without a byte-order mark has many
        raise InputError(source, f"byte {nul}", "a NUL byte: not UTF-8 text (UTF-16 or a binary file?)")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise InputError(source, f"byte {error.start}", "not UTF-8 text") from None


def _read_limited(handle: BinaryIO) -> bytes:
    return handle.read(MAX_INPUT_BYTES + 1)


def load_file(path: str | Path) -> Loaded:
    """A regular file's bytes and text. The file is opened without blocking
    (a FIFO would otherwise wait for a writer forever) and refused unless it
    is a regular file; symbolic links are followed."""
    name = str(path)
    try:
        descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC)
    except OSError as error:
        raise InputError(name, None, error.strerror or str(error)) from None
    except ValueError as error:  # an embedded NUL in the name
        raise InputError(name, None, f"not a usable file name ({error})") from None
    try:
        return read_open(descriptor, name)
    finally:
        os.close(descriptor)


def read_open(descriptor: int, source: str) -> Loaded:
    """The bytes and text of the file open at `descriptor`, under the rules
    of load_file; the descriptor stays open (hvtune.writing holds its lock)."""
    try:
        problem = not_regular(os.fstat(descriptor).st_mode)
        if problem:
            raise InputError(source, None, f"{problem}; hvtune reads regular files")
        with os.fdopen(descriptor, "rb", closefd=False) as handle:
            data = _read_limited(handle)
    except OSError as error:
        raise InputError(source, None, error.strerror or str(error)) from None
    return Loaded(source, data, decode(data, source))


def load_text(path: str | Path) -> str:
    """The text of a regular file (see load_file)."""
    return load_file(path).text


def load_stdin() -> Loaded:
    """Standard input, under the size and encoding rules of files."""
    stream = getattr(sys.stdin, "buffer", None)
    try:
        data = _read_limited(stream) if stream is not None else sys.stdin.read(MAX_INPUT_BYTES + 1).encode("utf-8")
    except OSError as error:
        raise InputError(STDIN, None, error.strerror or str(error)) from None
    except UnicodeError as error:
        raise InputError(STDIN, None, f"not UTF-8 text ({error})") from None
    return Loaded(STDIN, data, decode(data, STDIN))
