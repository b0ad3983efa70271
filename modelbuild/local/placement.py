"""Putting a store object into a job directory, and a job's output into the store, without copying
bytes where that is safe.

The store's object must never change because of a job, whatever the job does to its input files:

1. A reflink (Linux FICLONE: btrfs, XFS, bcachefs, ...) is tried first for every input. The job gets
   its own inode sharing the store's blocks copy-on-write, so a write, a truncation or a deletion in
   the job directory cannot reach the store, and it costs no copy.
2. A hard link only when the caller knows the job only reads its inputs: the engine's own algorithm
   emulations (built-in XGBoost training and batch transform), which open them read-only. A hard link
   *is* the store's inode, so a job that writes to it writes to the store; no permission bit prevents
   that (jobs here often run as root, which ignores them, and chmod on a link changes the store's file
   too). So user code (Processing, script mode, a custom entrypoint) never gets one.
3. A copy otherwise: across filesystems, or on one without reflinks (ext4, tmpfs) for user code.

Outputs go the other way (`publish`): a job's output file becomes a store object by a hard link when
the job directory and the store share a filesystem, the engine removing the job directory once the
step succeeded; a copy otherwise. Only a regular file that has no other name is linked: a symlink or
a file already linked elsewhere (a job may link its output to any file it can reach) is copied, so
no file outside the job directory ever becomes a store object. The store replaces objects by rename
and never writes into one, so a linked object changes only if its job directory's file is written
in the moment between publication and removal (by nothing the engine starts: the job has ended).
"""

from __future__ import annotations

import os
import shutil
import stat
import sys
from pathlib import Path

REFLINK, HARD_LINK, COPY = "reflink", "hard link", "copy"
FICLONE = 0x40049409  # _IOW(0x94, 9, int) from linux/fs.h
_NO_REFLINK: set[tuple[int, int]] = set()  # (source device, target device) pairs where FICLONE failed


def place(source: Path, target: Path, *, may_share: bool = False) -> str:
    """Put `source`'s content at `target`, replacing what is there; returns how: REFLINK, HARD_LINK or COPY.

    Args:
        source: the store's object.
        target: its path in the job directory (its folder must exist).
        may_share: the job only reads the file, so a hard link to the store's object is safe.
    """
    # A file already at `target` may be a hard link to another store object: writing into it (as a
    # copy over it would) would change that object, so it is removed first.
    target.unlink(missing_ok=True)
    if _reflink(source, target):
        return REFLINK
    if may_share and _hard_link(source, target):
        return HARD_LINK
    shutil.copyfile(source, target)  # in-kernel on Linux (sendfile), so no bytes pass through Python
    return COPY


def _reflink(source: Path, target: Path) -> bool:
    """Clone `source` to a new file `target` sharing its blocks copy-on-write; False where unsupported."""
    if not sys.platform.startswith("linux"):
        return False
    import fcntl

    devices = (source.stat().st_dev, target.parent.stat().st_dev)
    if devices in _NO_REFLINK:
        return False
    with source.open("rb") as src, target.open("wb") as dst:
        try:
            fcntl.ioctl(dst.fileno(), FICLONE, src.fileno())
            return True
        except OSError:  # EOPNOTSUPP (ext4, tmpfs), EXDEV (two filesystems), EINVAL, ...
            _NO_REFLINK.add(devices)
    target.unlink()
    return False


def _hard_link(source: Path, target: Path) -> bool:
    """Link `target` to `source`'s inode; False where the filesystem will not (another device, no links)."""
    try:
        os.link(source, target)
        return True
    except OSError:
        return False


def publish(source: str | os.PathLike[str], target: str | os.PathLike[str]) -> str:
    """Make `target` (a new name in the store, on which the caller renames) hold `source`'s content, a
    job's output file; returns how: HARD_LINK (same filesystem, a file with no other name) or COPY.

    Matches `shutil.copytree`'s `copy_function` signature, so a whole output directory publishes with it.
    """
    try:
        st = os.lstat(source)
        if stat.S_ISREG(st.st_mode) and st.st_nlink == 1:
            os.link(source, target, follow_symlinks=False)
            return HARD_LINK
    except OSError:  # EXDEV (another filesystem), EPERM, EMLINK, ...: copy instead
        pass
    shutil.copy2(source, target)  # with its mode and times, as a link would show them
    return COPY
