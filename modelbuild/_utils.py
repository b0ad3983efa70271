"""Small helpers every layer may use. Nothing here imports beyond the standard library."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO

# Read once, at import: os.umask can only be read by setting it, which would race with other threads.
_UMASK = os.umask(0o022)
os.umask(_UMASK)


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike[str], mode: str = "w") -> Iterator[IO]:
    """Open a temp file beside `path` for writing; on success rename it over `path`.

    Nobody ever sees a half-written file: if the block raises (or the process dies), `path`
    keeps its old content and the temp file is removed (or, after a kill, left as an ignorable
    `.name.*.tmp`).

    Args:
        path: the file to write.
        mode: "w" for text, "wb" for bytes.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        # mkstemp creates the file 0600; give it the mode a plain open() would (or the old file's).
        os.chmod(tmp_name, _mode_for(target))
        with os.fdopen(fd, mode, **({} if "b" in mode else {"encoding": "utf-8"})) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp_name, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp_name)
        raise


def _mode_for(target: Path) -> int:
    try:
        return target.stat().st_mode & 0o7777
    except FileNotFoundError:
        return 0o666 & ~_UMASK


def write_text_atomic(path: str | os.PathLike[str], text: str) -> None:
    """Write `text` to `path` through `atomic_write`."""
    with atomic_write(path) as handle:
        handle.write(text)
