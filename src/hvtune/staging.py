"""Temporary files beside the file being written, and the moments in which
they exist.

A temporary is named ``.NAME.hvtune-PID-RANDOM.tmp`` (NAME is the file it
will replace, PID the writer's process), made exclusively in the target's
folder and locked (flock) by its writer for as long as it exists. A
`Staging` removes every temporary it made on the way out, whatever ends it:
an exception, or SIGINT, SIGTERM or SIGHUP, which it turns into an
exception for the while (only where they would otherwise end the process or
raise KeyboardInterrupt) and delivers again once the temporaries are gone.
A temporary left by a writer that was killed outright (SIGKILL, a crash)
is removed by `sweep`: its process is gone and its lock is free.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import secrets
import signal
import stat
import threading
from collections.abc import Callable
from types import FrameType, TracebackType
from typing import Any

from hvtune.errors import InputError

_Handler = Callable[[int, FrameType | None], Any] | int | signal.Handlers | None
_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
# Handlers under which a signal would end hvtune without its finally
# clauses (SIG_DFL) or raise anywhere, even while a temporary is removed.
_REPLACEABLE = (signal.SIG_DFL, signal.default_int_handler)
# Room for the rest of the temporary's name within NAME_MAX (255 bytes).
_STEM_BYTES = 200
_SUFFIX = re.compile(r"\.hvtune-(\d+)-[0-9a-f]+\.tmp")


class _Stopped(BaseException):
    """A termination signal arrived while temporaries existed."""


def _stem(name: str) -> str:
    return os.fsdecode(os.fsencode(name)[:_STEM_BYTES])


def temporary_name(name: str) -> str:
    """A fresh name for a temporary that will replace `name`."""
    return f".{_stem(name)}.hvtune-{os.getpid()}-{secrets.token_hex(6)}.tmp"


def _writer(entry: str, names: tuple[str, ...]) -> int | None:
    """The writer's process id when `entry` is a temporary for one of `names`."""
    for name in names:
        prefix = f".{_stem(name)}"
        if entry.startswith(prefix) and (found := _SUFFIX.fullmatch(entry, len(prefix))):
            return int(found.group(1))
    return None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def sweep(folder: int, *names: str) -> None:
    """Remove from `folder` the temporaries for `names` whose writer is gone:
    its process no longer exists and nothing holds the temporary's lock (a
    process of another PID namespace still holds it). Best effort: a
    temporary that cannot be removed is left, and never stops a write."""
    try:
        entries = os.listdir(folder)
    except OSError:
        return
    for entry in entries:
        pid = _writer(entry, names)
        if pid is None or _alive(pid):
            continue
        with contextlib.suppress(OSError):
            _remove_if_unlocked(folder, entry)


def _remove_if_unlocked(folder: int, entry: str) -> None:
    descriptor = os.open(entry, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, dir_fd=folder)
    try:
        opened = os.fstat(descriptor)
        if not stat.S_ISREG(opened.st_mode):
            return
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        named = os.stat(entry, dir_fd=folder, follow_symlinks=False)
        if (named.st_dev, named.st_ino) == (opened.st_dev, opened.st_ino):
            os.unlink(entry, dir_fd=folder)
    finally:
        os.close(descriptor)


class Staging:
    """The temporaries of one write, removed on the way out (see the module)."""

    def __init__(self, source: str):
        self._source = source
        self._names: list[tuple[int, str]] = []
        self._descriptors: list[int] = []
        self._previous: dict[int, _Handler] = {}
        self._signal: int | None = None
        self._closing = False

    def __enter__(self) -> Staging:
        if threading.current_thread() is threading.main_thread():
            for number in _SIGNALS:
                handler = signal.getsignal(number)
                if handler in _REPLACEABLE:
                    self._previous[number] = handler
                    signal.signal(number, self._stop)
        return self

    def _stop(self, number: int, frame: FrameType | None) -> None:
        first = self._signal is None
        if first:
            self._signal = number
        if first and not self._closing:
            raise _Stopped

    def temporary(self, folder: int, name: str, data: bytes, like: os.stat_result | None) -> str:
        """A temporary in `folder` for `name`, holding `data`, flushed to
        disk, with the owner, group and mode of `like` (None: a new file's
        0666 less the umask). Returns its name."""
        temporary = temporary_name(name)
        mode = 0o600 if like is not None else 0o666
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
        self._names.append((folder, temporary))  # before it exists: a signal may come at any moment
        descriptor = os.open(temporary, flags, mode, dir_fd=folder)
        self._descriptors.append(descriptor)
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        with os.fdopen(descriptor, "wb", closefd=False) as handle:
            handle.write(data)
        if like is not None:
            self._take_owner_and_mode(descriptor, like)
        os.fsync(descriptor)
        return temporary

    def _take_owner_and_mode(self, descriptor: int, like: os.stat_result) -> None:
        made = os.fstat(descriptor)
        if (made.st_uid, made.st_gid) != (like.st_uid, like.st_gid):
            try:
                os.fchown(descriptor, like.st_uid, like.st_gid)
            except PermissionError:
                problem = (
                    f"belongs to uid {like.st_uid}, gid {like.st_gid}, which hvtune cannot give its replacement "
                    "(run it as that user or as root); nothing written"
                )
                raise InputError(self._source, None, problem) from None
        os.fchmod(descriptor, stat.S_IMODE(like.st_mode))  # after fchown, which clears set-id bits

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self._closing = True  # a signal now only waits for the temporaries to go
        for folder, temporary in self._names:
            with contextlib.suppress(OSError):
                os.unlink(temporary, dir_fd=folder)  # after a rename, or if never made, the name is free
        for descriptor in self._descriptors:
            os.close(descriptor)
        for number, handler in self._previous.items():
            signal.signal(number, handler)
        if self._signal is not None:
            signal.raise_signal(self._signal)  # SIG_DFL ends the process; SIGINT's handler raises KeyboardInterrupt
            raise InputError(self._source, None, f"interrupted by {signal.Signals(self._signal).name}")
