"""What a build read: the files it opened and the environment variables it looked up.

A definition depends on more than the pipeline module's own file: on whatever `get_pipeline`, the
modules it imports and the SDK open or look up while it runs. `recording()` notes, for the duration of
a build, every file opened through Python (`sys.addaudithook`'s "open" event: `open()`, imports,
`io.open_code`) and every variable looked up in `os.environ` by name (`os.environ[...]`, `.get`,
`in`, `os.getenv`). The definition cache (`modelbuild.definition.build_cache`) keys its entries on them.

Left out, on purpose:
- the standard library and site-packages (the Python and distribution versions cover them), the
  files of `__pycache__` or of PYTHONPYCACHEPREFIX (bytecode derives from the sources noted), and
  /proc, /sys and /dev (they change on every read, and say nothing about the pipeline);
- files the build wrote (temporary archives of step code): they are output, not input;
- scans of the whole environment (`os.environ.items()`, `.copy()`): botocore scans it for proxy
  settings on every client, and keying on every variable (PWD, SHLVL, ...) would never reuse anything.

A module imported before the build (by an earlier build in the same process) is not opened again:
the definition cache also keys on the files of every module imported (`sys.modules`). The CLI builds
once per process.
"""

from __future__ import annotations

import contextlib
import functools
import os
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

# os.open flags that make an open a write.
_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND
_VOLATILE_ROOTS = ("/proc/", "/sys/", "/dev/")

StatSignature = tuple[int, int, int]
"""(size, mtime_ns, inode) of a file: when unchanged (and not racy, see build_cache), so is its content."""


def stat_signature(path: str) -> StatSignature | None:
    """The file's (size, mtime_ns, inode), or None when there is no such file."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_size, st.st_mtime_ns, st.st_ino)


@dataclass
class Reads:
    """What a build read (see the module docstring).

    Attributes:
        opened: path -> its stat signature when it was opened for reading (None: it did not exist);
            the latest open wins, so a file changed after it was read shows a different signature.
        written: paths opened for writing.
        environment: names looked up.
        started_ns: when the recording started (time.time_ns()).
        environment_before: os.environ as the build found it (its own overrides come later).
    """

    opened: dict[str, StatSignature | None] = field(default_factory=dict)
    written: set[str] = field(default_factory=set)
    environment: set[str] = field(default_factory=set)
    started_ns: int = 0
    environment_before: dict[str, str] = field(default_factory=dict)

    def files(self) -> dict[str, StatSignature | None]:
        """The files read and never written, with their signature when opened."""
        return {path: signature for path, signature in self.opened.items() if path not in self.written}


_READS = Reads()
_recording = False
_hook_installed = False


@functools.cache
def excluded_roots() -> tuple[str, ...]:
    """Directories whose files are never noted: the standard library, site-packages, the bytecode
    cache prefix, /proc, /sys, /dev."""
    import sysconfig

    paths = sysconfig.get_paths()
    roots = {os.path.join(os.path.abspath(paths[name]), "") for name in ("stdlib", "platstdlib", "purelib", "platlib")}
    if sys.pycache_prefix:  # PYTHONPYCACHEPREFIX: `__pycache__` moved out of the source tree
        roots.add(os.path.join(os.path.abspath(sys.pycache_prefix), ""))
    return (*sorted(roots), *_VOLATILE_ROOTS)


def excluded(path: str) -> bool:
    """True for a file `recording` never notes (see `excluded_roots`, and `__pycache__`)."""
    return path.startswith(excluded_roots()) or f"{os.sep}__pycache__{os.sep}" in path


def _note_open(event: str, args: tuple) -> None:
    # An audit hook runs on every audited event in the process, forever: return at once when not
    # recording, and never raise (an exception here would fail the caller's open()).
    if not _recording or event != "open":
        return
    try:
        path, mode, flags = args
        if isinstance(path, int):  # os.fdopen: the file was opened (and noted) before
            return
        path = os.path.abspath(os.fsdecode(path))
        if excluded(path):
            return
        writes = any(letter in mode for letter in "wax+") if mode else bool((flags or 0) & _WRITE_FLAGS)
        if writes:
            _READS.written.add(path)
        else:
            _READS.opened[path] = stat_signature(path)
    except Exception:  # see above: never fail the caller's open()
        return


class _RecordingEnviron(os._Environ):
    """os.environ, noting every name looked up while a build is recorded.

    It shares the real mapping's data (and setting a variable still calls putenv), so code that
    keeps a reference to it after the build keeps working. Scans go to the real mapping unnoted.
    """

    def __init__(self, real: os._Environ) -> None:
        super().__init__(real._data, real.encodekey, real.decodekey, real.encodevalue, real.decodevalue)
        self._real = real

    def __getitem__(self, key: str) -> str:  # also behind .get(), `in` and os.getenv()
        if _recording and isinstance(key, str):  # SDK v2 (protobuf 3) also asks with bytes, which always fails
            _READS.environment.add(key)
        return super().__getitem__(key)

    def items(self):  # type: ignore[override]
        return self._real.items()

    def values(self):  # type: ignore[override]
        return self._real.values()

    def copy(self) -> dict[str, str]:
        return self._real.copy()


@contextlib.contextmanager
def recording() -> Iterator[Reads]:
    """Note what the block reads; yields its `Reads` (complete once the block has exited)."""
    global _READS, _recording, _hook_installed
    if _recording:  # nested: the outer recording notes everything already
        yield _READS
        return
    if not _hook_installed:
        excluded_roots()  # computed here, not inside the hook
        sys.addaudithook(_note_open)  # cannot be removed: it does nothing while not recording
        _hook_installed = True
    real = os.environ
    _READS = Reads(started_ns=time.time_ns(), environment_before=dict(real))
    os.environ = _RecordingEnviron(real)  # noqa: B003 - a view of the same variables, not a new environment
    _recording = True
    try:
        yield _READS
    finally:
        _recording = False
        os.environ = real  # noqa: B003 - the original object back
