"""The local "S3": a directory store where `s3://bucket/key` is the file `<root>/bucket/key`.

Writes are atomic: a file is written to a temporary name beside its target and renamed; a directory
output is staged and renamed into place, so nothing is visible half-written.

Reads into a job directory, and a job's outputs published into the store, do not copy where the
filesystem allows (see `modelbuild.local.placement`), and content digests are remembered while a file
is unchanged (see `modelbuild.local.digests`).
"""

from __future__ import annotations

import errno
import hashlib
import os
import re
import shlex
import shutil
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from modelbuild._utils import atomic_write
from modelbuild.errors import DefinitionError, StateError
from modelbuild.local.digests import sha256_file
from modelbuild.local.placement import place, publish
from modelbuild.local.state import resolve_state_dir

_BUCKET = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,254}$")


class StorePathError(DefinitionError):
    """Raised when an S3 URI is malformed or its key would escape the local store."""


class StoreWriteError(StateError):
    """Raised when an object cannot be written to the local store (disk full, read-only); nothing of it
    is left behind, half-written or staged."""


@contextmanager
def _writing(uri: str, target: Path, *leftovers: Path) -> Iterator[None]:
    """Turn an OSError while publishing `uri` into a StoreWriteError, removing `leftovers` first."""
    try:
        yield
    except OSError as exc:
        for leftover in leftovers:
            if leftover.is_dir():
                shutil.rmtree(leftover, ignore_errors=True)
            else:
                leftover.unlink(missing_ok=True)
        full = exc.errno in (errno.ENOSPC, errno.EDQUOT)
        raise StoreWriteError(
            f"cannot write {uri} to the local store ({target}): {exc.strerror or exc}",
            hint=f"Free space on the disk holding {target.parent} (df -h), then resume the execution." if full
            else f"Make {target.parent} writable, then resume the execution.",
        ) from exc


class ObjectStore:
    """Maps S3 URIs to paths below `root`, and copies objects in and out of job directories.

    `memo` (a `DigestMemo`) remembers file digests between runs; without one, every digest reads the files.
    """

    def __init__(self, root: Path, memo: Any = None) -> None:
        self.root = root
        self.root.mkdir(parents=True, exist_ok=True)
        self.memo = memo

    def path(self, uri: str) -> Path:
        """The local path of `uri`.

        Raises:
            StorePathError: not an s3:// URI, a bad bucket name, or a key with '..', '.' or an absolute part.
        """
        if not isinstance(uri, str) or not uri.startswith("s3://"):
            raise StorePathError(f"not an S3 URI: {uri!r}", hint="Expected s3://bucket/key")
        bucket, _, key = uri[5:].partition("/")
        if not _BUCKET.match(bucket) or bucket in (".", ".."):
            raise StorePathError(f"bad bucket name in {uri!r}")
        if key.startswith("/") or "\\" in key:
            raise StorePathError(f"the key of {uri!r} has an absolute part", hint="Remove the leading '/'.")
        parts = [part for part in key.split("/") if part]
        if any(part in (".", "..") for part in parts):
            raise StorePathError(f"the key of {uri!r} would escape the store", hint="Remove '..' from the key.")
        path = self.root.joinpath(bucket, *parts)
        if not path.resolve().is_relative_to(self.root.resolve()):
            raise StorePathError(f"the key of {uri!r} would escape the store")
        return path

    def exists(self, uri: str) -> bool:
        """True when `uri` is an object or a non-empty prefix."""
        return self.path(uri).exists()

    def put_bytes(self, uri: str, data: bytes) -> None:
        """Write one object atomically (skipped when the same bytes are already there)."""
        target = self.path(uri)
        if target.is_file() and target.stat().st_size == len(data) and target.read_bytes() == data:
            return
        with _writing(uri, target), atomic_write(target, "wb") as stream:
            stream.write(data)

    def put_all(self, objects: Mapping[str, bytes]) -> None:
        """Write every URI -> bytes of `objects`."""
        for uri, data in objects.items():
            self.put_bytes(uri, data)

    def read_bytes(self, uri: str) -> bytes:
        """The content of one object.

        Raises:
            StorePathError: there is no such object.
        """
        path = self.path(uri)
        if not path.is_file():
            raise StorePathError(f"no object at {uri} (looked for {path})")
        return path.read_bytes()

    def files(self, uri: str) -> list[tuple[str, Path]]:
        """The objects below `uri` as (name relative to the prefix, path), like S3Prefix input.

        An exact object yields its base name; a prefix yields every file below it.
        """
        path = self.path(uri)
        if path.is_file():
            return [(path.name, path)]
        if not path.is_dir():
            return []
        found = []
        for folder, dirs, names in os.walk(path):
            dirs[:] = sorted(d for d in dirs if not d.startswith(".staging-"))
            for name in sorted(names):
                if not name.startswith("."):
                    full = Path(folder, name)
                    _inside(full, self.root, f"the store object {full}")
                    found.append((full.relative_to(path).as_posix(), full))
        return found

    def download(self, uri: str, destination: Path, *, may_share: bool = False) -> int:
        """Place the objects below `uri` into `destination` (reflinked, else copied); returns how many.

        `may_share`: the job only reads them (the engine's own algorithms), so they may be hard links to
        the store's files. Never for user code: a job writing to a hard link writes to the store.

        Raises:
            StorePathError: nothing is stored at `uri`.
        """
        objects = self.files(uri)
        if not objects:
            # The message, not only the hint, names the fix: a step's failure reason carries the message.
            raise StorePathError(
                f"nothing is stored at {uri} in the local store ({self.path(uri)}); "
                f"put it there as into S3: {self.copy_command(uri)}",
                hint="Code and sample data a pipeline module uploads are stored by `modelbuild get-definition` "
                "and `modelbuild run --local`; data of your own, copy with `modelbuild s3 cp` (add --recursive "
                "for a directory).",
            )
        for name, source in objects:
            target = destination / name
            target.parent.mkdir(parents=True, exist_ok=True)
            place(source, target, may_share=may_share)
        return len(objects)

    def copy_command(self, uri: str) -> str:
        """The `modelbuild s3 cp` command that puts a local file at `uri` in this store."""
        source = Path(uri.rstrip("/")).name or "FILE"
        state = self.root.parent
        option = "" if state == resolve_state_dir() else f" --state-dir {shlex.quote(str(state))}"
        return f"modelbuild s3 cp {shlex.quote('./' + source)} {shlex.quote(uri)}{option}"

    def upload_dir(self, source: Path, uri: str) -> None:
        """Publish every file below `source` at prefix `uri`: staged first (linked where the filesystem
        allows, see `placement.publish`), then renamed into place."""
        target = self.path(uri)
        for folder, _, names in os.walk(source):  # a job's link out of its directory is not followed
            for name in names:
                _inside(Path(folder, name), source, f"the job output {Path(folder, name)}")
        staging = target.parent / f".staging-{uuid.uuid4().hex}"
        with _writing(uri, target, staging):
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copytree(source, staging, copy_function=publish)
            if not target.exists():
                try:
                    os.rename(staging, target)
                    return
                except OSError:  # another writer created it meanwhile: merge file by file below
                    pass
            for folder, _, names in os.walk(staging):
                for name in names:
                    staged = Path(folder, name)
                    final = target / staged.relative_to(staging)
                    final.parent.mkdir(parents=True, exist_ok=True)
                    os.replace(staged, final)
            shutil.rmtree(staging, ignore_errors=True)

    def upload_file(self, source: Path, uri: str) -> None:
        """Publish one file at `uri` atomically (linked where the filesystem allows, see `placement.publish`)."""
        target = self.path(uri)
        temp = target.parent / f".{target.name}.{uuid.uuid4().hex}"
        with _writing(uri, target, temp):
            target.parent.mkdir(parents=True, exist_ok=True)
            publish(source, temp)
            os.replace(temp, target)

    def digest(self, uri: str) -> str:
        """A SHA-256 over the names and content digests of the objects below `uri` ("missing" when none)."""
        objects = self.files(uri)
        if not objects:
            return "missing"
        digest = hashlib.sha256()
        for name, path in objects:
            content = self.memo.sha256(path) if self.memo is not None else sha256_file(path)
            digest.update(f"{name}\0{content}\n".encode())
        return digest.hexdigest()


def _inside(path: Path, root: Path, what: str) -> None:
    """Refuse a path that is (or goes through) a symbolic link resolving outside `root`."""
    resolved = path.resolve()
    if not resolved.is_relative_to(root.resolve()):
        raise StorePathError(f"{what} links to {resolved}, outside {root}; the local engine does not follow links "
                             "out of a job's directory or the store", hint="Copy the file in instead of linking it.")


class PublishingRecorder:
    """An ObjectStore seen through one step: notes each URI the step publishes, so that its record keeps
    the digest of every output and a later cache hit or reuse can check they are still what it wrote."""

    def __init__(self, store: ObjectStore) -> None:
        self._store = store
        self.published: list[str] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)

    def upload_dir(self, source: Path, uri: str) -> None:
        """As `ObjectStore.upload_dir`, noted."""
        self._store.upload_dir(source, uri)
        self.published.append(uri)

    def upload_file(self, source: Path, uri: str) -> None:
        """As `ObjectStore.upload_file`, noted."""
        self._store.upload_file(source, uri)
        self.published.append(uri)

    def output_digests(self) -> dict[str, str]:
        """URI -> content digest of everything published (see `ObjectStore.digest`)."""
        return {uri: self._store.digest(uri) for uri in dict.fromkeys(self.published)}


def changed_outputs(store: ObjectStore, outputs: Mapping[str, str] | None) -> str | None:
    """Why recorded outputs can no longer be served ("s3://... is missing"), or None when all are intact."""
    if outputs is None:
        return "its outputs were recorded without digests (by an older modelbuild)"
    for uri, digest in outputs.items():
        now = store.digest(uri)
        if now != digest:
            return f"its output {uri} is {'missing' if now == 'missing' else 'changed'}"
    return None
