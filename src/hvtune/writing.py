"""Writing the files hvtune changes or creates, one way for every writer:
`fix` in place and `--output`, `convert --into`, `host --save`, `lab
--plot`, and the definitions `fix --connect --yes` saves (`write_file`).

- A regular file is replaced whole, never written in place: the new bytes
  go to a temporary file beside it (hvtune.staging), are flushed to disk,
  get the file's owner, group and mode (a new file gets 0666 less the
  umask), and are renamed over it. At every moment the file holds either
  its old bytes or all of the new ones.
- A file hvtune changes (`fix`, `convert --into`) is read by
  `read_to_change`, under an exclusive advisory lock (flock) held until
  the rename; a second hvtune waits for it (at most LOCK_WAIT_SECONDS) and
  then reads what the first one wrote. FILE.bak is written the same way from
  exactly the bytes read, with the file's owner, group and mode. Right
  before the renames the file must still be the file read (the same inode)
  holding the bytes read; otherwise nothing is written, FILE.bak included.
  A program that takes no lock can still write between that check and the
  rename, a window of two system calls.
- A symbolic link is followed to the file it finally names, which is
  replaced; the link stays, and what was written is reported by that
  file's name. A dangling link makes the file it points to.
- A character device or a FIFO is written through, never replaced
  (`--output /dev/null`, a pipe); a FIFO nobody reads is refused rather
  than waited for. A block device, a socket or a directory is refused.
- A file with more than one hard link is refused: replacing it would leave
  its other names with the old bytes, and writing it in place could leave
  it half written.
- `--output` naming the file read (through a link, `./`, another hard
  link) is the change of that file: lock, check and FILE.bak.

Every problem is an InputError naming the file (exit 2), and then nothing
was written.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import stat
import time
from collections.abc import Iterator
from dataclasses import dataclass

from hvtune.errors import InputError
from hvtune.files import Loaded, not_regular, read_open
from hvtune.staging import Staging, sweep

BACKUP_SUFFIX = ".bak"
LOCK_WAIT_SECONDS = 30.0
_READ_FLAGS = os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_NOFOLLOW | os.O_CLOEXEC
# Filesystems without flock: the check before the rename still guards.
_NO_LOCKS = (errno.ENOLCK, errno.EOPNOTSUPP)


@dataclass(frozen=True)
class Written:
    """The file written (a link's target, not the link), and where the
    bytes it replaced were kept, if they were."""

    path: str
    backup: str | None = None


@dataclass(frozen=True)
class _Place:
    """A name in an open folder; `path` names it in messages."""

    path: str
    folder: int
    name: str

    def status(self) -> os.stat_result | None:
        try:
            return os.stat(self.name, dir_fd=self.folder, follow_symlinks=False)
        except FileNotFoundError:
            return None

    def sibling(self, name: str) -> _Place:
        return _Place(os.path.join(os.path.dirname(self.path), name), self.folder, name)


def _same(one: os.stat_result, other: os.stat_result | None) -> bool:
    return other is not None and (one.st_dev, one.st_ino) == (other.st_dev, other.st_ino)


@contextlib.contextmanager
def _opened(path: str) -> Iterator[_Place]:
    """Where `path` leads once its symbolic links are followed (for a
    dangling link, the file it would make), with the folder open for the
    block: every later step works in that folder, wherever its path leads by then."""
    final = os.path.realpath(path) if os.path.islink(path) else path  # a loop stays a link: ELOOP below
    folder_path, name = os.path.split(final)
    if name in ("", ".", ".."):
        raise InputError(path, None, "is a directory")
    folder = os.open(folder_path or ".", os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        yield _Place(final, folder, name)
    finally:
        os.close(folder)


def _read_from_start(descriptor: int, limit: int) -> bytes:
    chunks, size = [], 0
    while size < limit:
        chunk = os.pread(descriptor, limit - size, size)
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)


class Original:
    """A regular file read to be changed: exactly the bytes read, where it
    is, and the open descriptor that holds hvtune's lock on it."""

    def __init__(self, loaded: Loaded, place: _Place, descriptor: int):
        self.loaded = loaded
        self.place = place
        self.descriptor = descriptor
        self._status = os.fstat(descriptor)
        self._final = os.path.realpath(place.path)

    @property
    def text(self) -> str:
        return self.loaded.text

    def names(self, path: str) -> bool:
        """Whether `path` leads to this file: the same file name once links
        are followed, or the same file now."""
        if os.path.realpath(path) == self._final:
            return True
        try:
            return _same(self._status, os.stat(path))
        except OSError:
            return False

    def unchanged(self) -> bool:
        """Whether the file at its name is still the one read, holding the bytes read."""
        if not _same(self._status, self.place.status()):
            return False
        data = self.loaded.data
        return _read_from_start(self.descriptor, len(data) + 1) == data


def _locked(place: _Place, source: str) -> int:
    """A descriptor of the file at `place` under hvtune's exclusive lock.
    Whoever held the lock may have replaced the file meanwhile; then the
    lock is on a file no longer there, and the new one is opened."""
    deadline = time.monotonic() + LOCK_WAIT_SECONDS
    while True:
        descriptor = os.open(place.name, _READ_FLAGS, dir_fd=place.folder)
        try:
            _lock(descriptor, deadline, source)
            if _same(os.fstat(descriptor), place.status()):
                return descriptor
        except BaseException:
            os.close(descriptor)
            raise
        os.close(descriptor)


def _lock(descriptor: int, deadline: float, source: str) -> None:
    pause = 0.005
    while True:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            if time.monotonic() > deadline:
                problem = f"another process has held its lock for {LOCK_WAIT_SECONDS:g} s; nothing written"
                raise InputError(source, None, problem) from None
        except OSError as error:
            if error.errno in _NO_LOCKS:
                return
            raise
        time.sleep(pause)
        pause = min(pause * 2, 0.1)


@contextlib.contextmanager
def read_to_change(path: str) -> Iterator[Original]:
    """Read a regular file (by the rules of hvtune.files) to change it with
    write_file, under hvtune's lock until the block ends. Temporaries left
    by killed writers of this file are removed."""
    with contextlib.ExitStack() as stack:
        try:
            place = stack.enter_context(_opened(path))
            found = place.status()
            if found and not stat.S_ISLNK(found.st_mode) and (problem := not_regular(found.st_mode)):
                # refused unopened: opening a socket fails, opening a device may act
                raise InputError(path, None, f"{problem}; hvtune reads regular files")
            descriptor = _locked(place, path)
            stack.callback(os.close, descriptor)
            loaded = read_open(descriptor, path)
            sweep(place.folder, place.name, place.name + BACKUP_SUFFIX)
            original = Original(loaded, place, descriptor)
        except OSError as error:
            raise InputError(path, None, error.strerror or str(error)) from None
        yield original


def write_file(path: str, content: str | bytes, *, original: Original | None = None) -> Written:
    """Write `content` (text as UTF-8) to `path`, by the rules of this
    module. When `path` leads to `original` (read by read_to_change), this
    is the change of that file: FILE.bak gets the bytes read, and nothing is
    written if the file changed meanwhile. Returns what was written."""
    data = content.encode("utf-8") if isinstance(content, str) else content
    try:
        if original is not None and original.names(path):
            backup = original.place.sibling(original.place.name + BACKUP_SUFFIX)
            _replace(original.place, data, os.fstat(original.descriptor), (original, backup))
            return Written(original.place.path, backup.path)
        try:
            found: os.stat_result | None = os.stat(path)
        except FileNotFoundError:
            found = None
        if found is not None and not stat.S_ISREG(found.st_mode):
            _write_through(path, data, found.st_mode)
            return Written(path)
        with _opened(path) as place:
            _replace(place, data, place.status())
            return Written(place.path)
    except OSError as error:
        raise InputError(path, None, f"cannot write: {error.strerror or error}") from None


def _replace(
    place: _Place, data: bytes, like: os.stat_result | None, change: tuple[Original, _Place] | None = None
) -> None:
    """Rename a temporary holding `data` over `place`, with the owner and
    mode of `like` (the file there, or None). With `change`, first the bytes
    `original` read become its backup, if the file is still as read."""
    if like is not None:
        problem = not_regular(like.st_mode)
        if problem:
            raise InputError(place.path, None, f"{problem}; nothing written")
        if like.st_nlink > 1:
            problem = f"has {like.st_nlink} hard links, and replacing it would leave the others with the old bytes"
            raise InputError(place.path, None, f"{problem}; nothing written")
    if change is not None:
        _refuse_backup_kind(change[1])
    sweep(place.folder, place.name)
    with Staging(place.path) as staging:
        new = staging.temporary(place.folder, place.name, data, like)
        if change is not None:
            original, backup = change
            saved = staging.temporary(place.folder, backup.name, original.loaded.data, like)
            if not original.unchanged():
                problem = "changed while hvtune was working; nothing written (run hvtune again)"
                raise InputError(original.loaded.source, None, problem)
            os.replace(saved, backup.name, src_dir_fd=place.folder, dst_dir_fd=place.folder)
        os.replace(new, place.name, src_dir_fd=place.folder, dst_dir_fd=place.folder)
        os.fsync(place.folder)


def _refuse_backup_kind(backup: _Place) -> None:
    """FILE.bak is hvtune's: a regular file or a link there is replaced (a
    link is not followed), anything else is left alone."""
    found = backup.status()
    if found is not None and not (stat.S_ISREG(found.st_mode) or stat.S_ISLNK(found.st_mode)):
        problem = f"{not_regular(found.st_mode)}, where hvtune keeps the original; nothing written"
        raise InputError(backup.path, None, problem)


def _write_through(path: str, data: bytes, mode: int) -> None:
    """Write to a character device or a FIFO as any program would (a FIFO
    nobody reads is refused at once); anything else is refused."""
    if not (stat.S_ISCHR(mode) or stat.S_ISFIFO(mode)):
        problem = f"{not_regular(mode)}; hvtune replaces regular files and writes to character devices and FIFOs"
        raise InputError(path, None, f"{problem}; nothing written")
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC)
    except OSError as error:
        if error.errno == errno.ENXIO and stat.S_ISFIFO(mode):
            raise InputError(path, None, "is a FIFO that nobody reads; nothing written") from None
        raise
    try:
        if stat.S_IFMT(os.fstat(descriptor).st_mode) != stat.S_IFMT(mode):
            raise InputError(path, None, "changed while hvtune was working; nothing written")
        os.set_blocking(descriptor, True)
        view = memoryview(data)
        while view:
            view = view[os.write(descriptor, view) :]
    finally:
        os.close(descriptor)
