"""Writing files all or nothing, with the original kept."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from hvtune.errors import InputError


def _new_file_mode() -> int:
    """What open() would give a new file: 0666 less the umask."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def write_atomically(path: str | Path, content: str | bytes, *, backup: bool) -> Path | None:
    """Replace `path` with `content` (text is written as UTF-8) in one step
    (a temporary file in the same folder, flushed to disk, then renamed over
    it), keeping the original's permissions, or giving a new file the
    umask's. With `backup`, the original is first copied to PATH.bak.
    Returns the backup's path. Nothing is written when anything fails."""
    target = Path(path)
    folder = target.parent
    data = content.encode("utf-8") if isinstance(content, str) else content
    saved: Path | None = None
    try:
        mode = target.stat().st_mode & 0o7777 if target.exists() else _new_file_mode()
        if backup and target.exists():
            saved = target.with_name(target.name + ".bak")
            _copy_atomically(target, saved)
        descriptor, temporary = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".hvtune", dir=folder)
        try:
            with os.fdopen(descriptor, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.chmod(temporary, mode)
            os.replace(temporary, target)
        except BaseException:
            os.unlink(temporary)
            raise
    except OSError as error:
        raise InputError(str(path), None, f"cannot write: {error.strerror or error}") from None
    return saved


def _copy_atomically(source: Path, destination: Path) -> None:
    descriptor, temporary = tempfile.mkstemp(prefix=f".{destination.name}.", dir=destination.parent)
    os.close(descriptor)
    try:
        shutil.copy2(source, temporary)
        os.replace(temporary, destination)
    except BaseException:
        os.unlink(temporary)
        raise
