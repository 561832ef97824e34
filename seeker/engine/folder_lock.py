"""One Seeker per log folder: an OS lock (flock) on ``_seeker/seeker.lock`` holding the PID.

The lock belongs to the open file, so the kernel releases it when the process ends however it
ends (SIGKILL included): a stale lock file never blocks the next run, and whether a Seeker runs on
a folder is known exactly (:func:`lock_holder`), without trusting a PID that may have been
reused. The folder is also checked writable before anything is written.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from seeker.core.journal import SYSTEM_FOLDER

LOCK_FILE = Path(SYSTEM_FOLDER) / "seeker.lock"


class FolderLocked(Exception):
    """Raise when another process holds a log folder's lock."""

    def __init__(self, root: Path, pid: int | None) -> None:
        who = f"pid {pid}" if pid else "another process"
        super().__init__(f"another Seeker ({who}) is running on the log folder {root}")
        self.pid = pid


def writable_problem(root: Path) -> str | None:
    """Return why journals cannot be written under `root` (None when they can)."""
    probe = root / SYSTEM_FOLDER / f".write-probe-{os.getpid()}"
    try:
        probe.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        try:
            os.write(fd, b"seeker\n")
            os.fsync(fd)
        finally:
            os.close(fd)
        probe.unlink()
    except OSError as exc:
        where = exc.filename or probe
        return f"the log folder {root} is not writable ({where}: {exc.strerror or exc})"
    return None


def _read_pid(fd: int) -> int | None:
    os.lseek(fd, 0, os.SEEK_SET)
    text = os.read(fd, 64).decode(errors="replace").strip()
    return int(text) if text.isdigit() else None


class FolderLock:
    """The exclusive lock of one log folder, held for the life of a run."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.path = root / LOCK_FILE
        self._fd: int | None = None

    def acquire(self) -> None:
        """Take the lock and write our PID in it; raise FolderLocked naming the holder."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            pid = _read_pid(fd)
            os.close(fd)
            raise FolderLocked(self.root, pid) from None
        os.ftruncate(fd, 0)
        os.lseek(fd, 0, os.SEEK_SET)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd

    def release(self) -> None:
        """Give the lock up (the file stays; its content no longer matters)."""
        if self._fd is not None:
            fd, self._fd = self._fd, None
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)


def lock_holder(root: Path) -> int | None:
    """Return the PID of the Seeker running on `root` (0 if unknown), None when none runs."""
    path = root / LOCK_FILE
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return _read_pid(fd) or 0
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)
