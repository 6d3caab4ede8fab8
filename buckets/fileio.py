"""File primitives shared by every stage that reads or writes a user's or the store's files:
atomic writes, folder locks, and reads that refuse what is not a regular file."""

from __future__ import annotations

import os
import stat
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

LOCK_TIMEOUT_S = 60.0
"""How long a writer waits for another one to finish before giving up."""


class NotARegularFile(OSError):
    """A path names a device, FIFO, socket or folder where a regular file is expected."""


class FileTooLarge(OSError):
    """A file is larger than a reader accepts."""


class LockError(OSError):
    """A lock could not be had: ``timed_out`` when another process held it for the whole
    timeout, else the lock file could not be created or opened (``errno``/``strerror`` say why:
    a read-only folder, no permission)."""

    timed_out: bool = False


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically: temp file in the same folder, fsync, rename.

    A crash at any point leaves either the old file or the new one, never a mix; the temp file is
    removed on error. The new file keeps the old one's permission bits. A ``path`` that is a
    symbolic link stays one: its target is replaced (in the target's folder).
    """
    if path.is_symlink():
        path = Path(os.path.realpath(path))
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            os.fsync(fd)
        finally:
            os.close(fd)
        if path.exists():
            os.chmod(tmp, path.stat().st_mode & 0o7777)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def ensure_regular_file(path: Path) -> None:
    """Raise :class:`NotARegularFile` unless ``path`` (after symlinks) is a regular file, so a
    device such as ``/dev/zero`` or a FIFO is refused before anything reads it (a read of either
    never ends). ``FileNotFoundError`` when nothing is there."""
    mode = os.stat(path).st_mode
    if not stat.S_ISREG(mode):
        raise NotARegularFile(f"{_kind(mode)}, not a regular file")


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def read_regular_file(path: Path, *, max_bytes: int) -> bytes:
    """The bytes of a regular file of at most ``max_bytes``.

    The file is opened without blocking (a FIFO does not wait for a writer) and checked on the
    open descriptor, so nothing that is not a regular file is ever read: :class:`NotARegularFile`
    for devices, FIFOs, sockets and folders, :class:`FileTooLarge` past ``max_bytes``.
    """
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise NotARegularFile(f"{_kind(mode)}, not a regular file")
        chunks: list[bytes] = []
        total = 0
        while chunk := os.read(fd, 1 << 20):
            total += len(chunk)
            if total > max_bytes:
                raise FileTooLarge(f"larger than {max_bytes:,} bytes")
            chunks.append(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)


@contextmanager
def folder_lock(folder: Path, name: str, *, timeout: float = LOCK_TIMEOUT_S) -> Iterator[Path]:
    """Hold the lock file ``folder/name`` (an OS lock through ``filelock``: released when the
    process ends, however it ends) for the duration of the block; yields the lock's path.

    Raises :class:`LockError`: ``timed_out`` when another process holds it for ``timeout``
    seconds, else with the reason the lock file could not be created (read-only folder, no
    permission). Errors raised inside the block pass through unchanged.
    """
    from filelock import FileLock, Timeout

    path = folder / name
    lock = FileLock(str(path), timeout=timeout)
    try:
        lock.acquire()
    except Timeout:
        error = LockError(f"{path} is held by another process")
        error.timed_out = True
        raise error from None
    except OSError as exc:
        raise LockError(exc.errno, exc.strerror or str(exc), str(path)) from exc
    try:
        yield path
    finally:
        lock.release()
