"""Content digests of store files, remembered between runs so that unchanged inputs are not read again.

A cache key needs the SHA-256 of every input; reading a gigabyte on every run to learn that it did not
change is the cost this module removes. A file's digest is remembered with its stat tuple (device,
inode, size, mtime in ns) and reused while the file still has that tuple, as git, make and rsync trust
a file's stat. Why that is safe here:

- Every write modelbuild makes to the store (staged code and data, job outputs) replaces the file by a
  rename, so a rewritten object has a new inode; an ordinary edit in place changes its mtime.
- The "racy git" case: a file written again within the filesystem's timestamp granularity of the moment
  it was read may keep the mtime it had. So a digest is remembered only when the file's mtime is
  earlier than the filesystem's own clock, read (by touching a stamp file in the store) just before
  hashing; any later write then gets a later mtime. A file that was too fresh is simply hashed again on
  the next run. Reading the filesystem's clock rather than the wall clock makes this hold whatever the
  filesystem's granularity (ns on ext4, 2 s on FAT) and for a network filesystem's server clock.
- ctime is deliberately left out: the engine hard-links inputs into job directories, and every link and
  unlink changes the inode's ctime, which would make every input look changed after each run.

What it trusts: that nothing rewrites a store file in place *and* resets its mtime to the same
nanosecond. A file is hashed again whenever its inode, size or mtime differ.
"""

from __future__ import annotations

import hashlib
import os
import time
from pathlib import Path
from typing import Any

CLOCK_FILE = ".digest-clock"
_BLOCK = 1 << 20


def sha256_file(path: Path) -> str:
    """The SHA-256 of a file's content, read in blocks (hashlib releases the GIL on each block)."""
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(_BLOCK), b""):
            digest.update(block)
    return digest.hexdigest()


def stat_key(stat: os.stat_result) -> str:
    """What must be unchanged for a remembered digest to hold: device, inode, size, mtime in ns."""
    return f"{stat.st_dev}:{stat.st_ino}:{stat.st_size}:{stat.st_mtime_ns}"


class DigestMemo:
    """The SHA-256 of files below `store_root`, remembered in the state database (table file_digests)."""

    def __init__(self, state: Any, store_root: Path) -> None:
        self.state = state  # a StateDir: its query() and transaction() are thread-safe
        self.store_root = store_root

    def sha256(self, path: Path) -> str:
        """The file's SHA-256: remembered while its stat tuple is unchanged, else read and remembered."""
        name = self._name(path)
        before = path.stat()
        rows = self.state.query("SELECT sha256 FROM file_digests WHERE path = ? AND stat_key = ?",
                                (name, stat_key(before)))
        if rows:
            return rows[0]["sha256"]
        clock = self._filesystem_now()
        digest = sha256_file(path)
        after = path.stat()
        # Unchanged while read, and last written before the clock reading: any later write moves mtime.
        if clock is not None and stat_key(after) == stat_key(before) and before.st_mtime_ns < clock:
            with self.state.transaction() as db:
                db.execute("INSERT OR REPLACE INTO file_digests (path, stat_key, sha256, recorded) VALUES (?, ?, ?, ?)",
                           (name, stat_key(before), digest, time.time()))
        return digest

    def _name(self, path: Path) -> str:
        """The row's key: the path below the store (so a moved state directory keeps its rows)."""
        try:
            return path.relative_to(self.store_root).as_posix()
        except ValueError:
            return str(path.absolute())

    def _filesystem_now(self) -> int | None:
        """The store filesystem's current time in ns (the mtime it gives a file touched now), or None."""
        stamp = self.store_root / CLOCK_FILE
        try:
            stamp.touch()
            return stamp.stat().st_mtime_ns
        except OSError:  # a read-only store: nothing is remembered, every digest is read
            return None
