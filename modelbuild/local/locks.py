"""Which process runs an execution: an exclusive `flock` on a file per execution in the state directory.

The operating system releases a lock when its holder dies, however it dies (kill -9 included), so "the
lock is free" means exactly "no process runs this execution". A pid and a hostname cannot say that: pids
are reused, and containers share hostnames. The lock is taken before the execution's row is written and
released after its end is recorded, so an Executing row without a held lock was left by a dead process.

A resume holds the resumed execution's lock for its whole run: two resumes of one execution cannot run
at once, and an execution that is still running cannot be resumed.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

LOCKS_DIR = "locks"


class ExecutionLock:
    """The lock of one execution in a state directory; `acquire` never waits."""

    def __init__(self, state_root: Path, execution_id: str) -> None:
        self.path = state_root / LOCKS_DIR / f"{execution_id}.lock"
        self._fd: int | None = None

    def acquire(self) -> bool:
        """Take the lock; False when another process (or another ExecutionLock here) holds it."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)  # not inherited by jobs (O_CLOEXEC by default)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        self._fd = fd
        return True

    def release(self) -> None:
        """Give the lock up (its file stays: removing it could split one lock into two files)."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    @property
    def held(self) -> bool:
        """True while this object holds the lock."""
        return self._fd is not None


def is_running(state_root: Path, execution_id: str) -> bool:
    """True when a process holds the execution's lock, i.e. is running it now."""
    lock = ExecutionLock(state_root, execution_id)
    if lock.acquire():
        lock.release()
        return False
    return True
