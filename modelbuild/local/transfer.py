"""`modelbuild s3 cp | ls | rm`: putting data into the local store as users put it into S3 with the AWS CLI.

The local store (`modelbuild.local.store`) is where a local run finds what its definition reads from S3:
the step code a build staged, and the data the pipeline's parameters point at (the seed's
`InputDataUrl`, say). These functions copy files in and out of it, list it and remove from it, with
the AWS CLI's meaning of each argument:

- `copy("data.csv", "s3://bucket/key")` puts one object; a destination ending in "/" is a prefix the
  file's name is added to; `recursive=True` copies every file below a directory (or prefix);
- `copy("s3://bucket/key", "here/")` takes objects out again, and s3 -> s3 copies inside the store;
- `list_store()` lists the buckets, `list_store("s3://bucket/prefix/")` the objects and prefixes
  directly below it (all objects below it with `recursive=True`);
- `remove("s3://bucket/key")` removes one object, `recursive=True` everything below a prefix.

Writes are atomic (see `ObjectStore`); nothing here prints.
"""

from __future__ import annotations

import datetime
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from modelbuild.errors import UsageError
from modelbuild.local.state import resolve_state_dir
from modelbuild.local.store import ObjectStore, StorePathError

STORE_SUBDIR = "s3"  # as StateDir.store_dir, without opening the state database


@dataclass(frozen=True)
class Listed:
    """One line of `ls`: a bucket, a prefix (`is_prefix`) or an object with its size and time."""

    name: str
    is_prefix: bool = False
    size: int | None = None
    modified: datetime.datetime | None = None

    def to_json(self) -> dict:
        """The entry as JSON-ready data."""
        return {"name": self.name, "prefix": self.is_prefix, "size": self.size,
                "modified": self.modified.isoformat() if self.modified else None}


def open_store(state_dir: str | os.PathLike[str] | None = None) -> ObjectStore:
    """The local store of `state_dir` (default: $MODELBUILD_HOME, else ./.modelbuild)."""
    return ObjectStore(resolve_state_dir(state_dir) / STORE_SUBDIR)


def _is_s3(location: str) -> bool:
    return location.startswith("s3://")


def copy(source: str, destination: str, recursive: bool = False,
         state_dir: str | os.PathLike[str] | None = None) -> list[tuple[str, str]]:
    """Copy files into, out of, or within the local store; returns the (from, to) pairs copied.

    Raises:
        UsageError: neither or both sides are local paths, the source is missing, or a directory
            (or prefix) was given without `recursive`.
        StorePathError: an S3 URI is malformed.
    """
    if not (_is_s3(source) or _is_s3(destination)):
        raise UsageError(f"cp needs an s3:// URI on at least one side, got {source!r} and {destination!r}",
                         hint="e.g. modelbuild s3 cp data.csv s3://my-bucket/data/data.csv")
    store = open_store(state_dir)
    pairs = [(src, _target(destination, name, recursive)) for src, name in _sources(store, source, recursive)]
    for src, dst in pairs:
        if _is_s3(dst):
            store.upload_file(store.path(src) if _is_s3(src) else Path(src), dst)
        else:
            Path(dst).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(store.path(src), dst)
    return pairs


def _sources(store: ObjectStore, source: str, recursive: bool) -> list[tuple[str, str]]:
    """(source file or URI, name relative to what was named) of everything `source` names."""
    if _is_s3(source):
        path = store.path(source)
        if path.is_file() and not recursive:
            return [(source, path.name)]
        if recursive and path.is_dir():
            return [(f"{source.rstrip('/')}/{name}", name) for name, _ in store.files(source)]
        if path.is_dir():
            raise UsageError(f"{source} is a prefix, not an object", hint="Add --recursive to copy what is below it.")
        raise StorePathError(f"nothing is stored at {source} (local store path {path})",
                             hint="List what is there with `modelbuild s3 ls`.")
    path = Path(source)
    if path.is_file() and not recursive:
        return [(str(path), path.name)]
    if path.is_dir() and recursive:
        return [(str(file), file.relative_to(path).as_posix()) for file in sorted(path.rglob("*")) if file.is_file()]
    if path.is_dir():
        raise UsageError(f"{source} is a directory", hint="Add --recursive to copy every file below it.")
    raise UsageError(f"no such file: {source}")


def _target(destination: str, name: str, recursive: bool) -> str:
    """Where `name` lands: below `destination` when copying recursively or when `destination` is a
    prefix (ends with "/", or names a bucket only) or an existing directory; else `destination` itself."""
    if _is_s3(destination):
        if recursive or destination.endswith("/") or "/" not in destination[5:]:
            return f"{destination.rstrip('/')}/{name}"
        return destination
    if recursive or destination.endswith(os.sep) or Path(destination).is_dir():
        return str(Path(destination) / name)
    return destination


def list_store(uri: str | None = None, recursive: bool = False,
               state_dir: str | os.PathLike[str] | None = None) -> list[Listed]:
    """The buckets (no `uri`), or what is stored directly below `uri` (everything below, `recursive`).

    Raises:
        StorePathError: `uri` is malformed.
    """
    store = open_store(state_dir)
    if not uri:
        return [Listed(entry.name + "/", modified=_mtime(entry)) for entry in sorted(store.root.iterdir())
                if entry.is_dir() and not entry.name.startswith(".")]
    path = store.path(uri if "/" in uri[5:] else uri + "/")
    if path.is_file():
        return [_object(path.name, path)]
    if recursive:  # as the AWS CLI: whole keys
        base = uri[5:].partition("/")[2].rstrip("/")
        return [_object(f"{base}/{name}" if base else name, file) for name, file in store.files(uri)]
    if not path.is_dir():
        return []
    entries = []
    for entry in sorted(path.iterdir()):
        if entry.name.startswith("."):
            continue
        entries.append(Listed(entry.name + "/", is_prefix=True) if entry.is_dir() else _object(entry.name, entry))
    return entries


def _object(name: str, path: Path) -> Listed:
    return Listed(name, size=path.stat().st_size, modified=_mtime(path))


def _mtime(path: Path) -> datetime.datetime:
    return datetime.datetime.fromtimestamp(path.stat().st_mtime).replace(microsecond=0)


def remove(uri: str, recursive: bool = False, state_dir: str | os.PathLike[str] | None = None) -> list[str]:
    """Remove one object, or (`recursive`) every object below a prefix; returns the URIs removed.

    Raises:
        UsageError: `uri` is a prefix and `recursive` is not set.
        StorePathError: `uri` is malformed or nothing is stored there.
    """
    store = open_store(state_dir)
    path = store.path(uri)
    if path.is_dir() and not recursive:
        raise UsageError(f"{uri} is a prefix, not an object", hint="Add --recursive to remove everything below it.")
    if path.is_file():
        removed = [uri]
        path.unlink()
    elif path.is_dir():
        removed = [f"{uri.rstrip('/')}/{name}" for name, _ in store.files(uri)]
        shutil.rmtree(path)
    else:
        raise StorePathError(f"nothing is stored at {uri} (local store path {path})",
                             hint="List what is there with `modelbuild s3 ls`.")
    _prune_empty_parents(path.parent, store.root)
    return removed


def _prune_empty_parents(directory: Path, root: Path) -> None:
    """Remove the now empty directories between `directory` and its bucket, as S3 has no empty prefixes."""
    while directory != root and directory.parent != root:
        try:
            directory.rmdir()
        except OSError:  # not empty (or gone): stop
            return
        directory = directory.parent
