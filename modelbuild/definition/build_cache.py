"""The definition cache: reuse the last build of a pipeline when nothing it depends on changed.

A build imports the SageMaker SDK and runs `get_pipeline`: seconds, paid again by every command even
when nothing changed. `build_or_reuse` keeps each build in a cache directory (the CLI passes
`<state dir>/definitions`), with what it depended on, and returns it again, without importing the
SDK, while all of these are unchanged:

- the request: the project directory, the working directory, the module, the kwargs, and the
  defaults modelbuild fills in (region, placeholder role, bucket);
- Python's version, `sys.path`, and the version of every installed distribution (sagemaker,
  sagemaker-core, -train, -serve, -mlops, botocore, boto3, modelbuild, ...);
- files: every file below the module's package directory (data included; a file added or removed
  counts), the parent packages' `__init__.py`, modelbuild's definition layer (a checkout's edits
  count), every file the build opened and every module file imported, outside the standard library
  and site-packages (see `modelbuild.definition.reads`);
- the environment: every variable the build looked up, and every AWS_* and SAGEMAKER_* variable
  (except the credentials, which an offline build never uses).

Files are compared by content: a file whose (size, mtime, inode) is as recorded, and was not modified
within `RACY_NS` of the build, is taken as unchanged without reading it (as git does). An entry that
cannot be read, or was written by another format, is a miss: the definition is built again.

The cache is bounded: keeping a build removes the least recently used entries (a reuse counts as a
use) beyond `MAX_ENTRIES` entries or `MAX_BYTES` bytes in all, never the entry just written.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import logging
import os
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from modelbuild._utils import atomic_write
from modelbuild.definition import build, reads
from modelbuild.definition.build import BuiltDefinition, shown_path
from modelbuild.definition.offline import PLACEHOLDER_ROLE, placeholder_bucket, resolve_region
from modelbuild.definition.project import Project, find_project

log = logging.getLogger(__name__)

FORMAT = 1
"""Version of the entry layout: an entry of another format is a miss."""
RACY_NS = 2_000_000_000
"""A file modified this close to (or after) the start of the build it was recorded in is always read
and hashed: a second edit within the file system's timestamp granularity could leave its stat as is."""
ENVIRONMENT_PREFIXES = ("AWS_", "SAGEMAKER_")
CREDENTIALS = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN")
CREDENTIAL_PREFIXES = ("AWS_BEARER_TOKEN_",)
_DEFINITION_LAYER = Path(__file__).resolve().parent
MAX_ENTRIES = 32
"""Most builds kept: one per request (project, working directory, module, kwargs) used lately."""
MAX_BYTES = 256 * 2**20
"""Most bytes kept in all (entries carry their uploads: step code and bundled data)."""


def build_or_reuse(module_name: str | None = None, kwargs: Mapping[str, Any] | None = None,
                   project: Project | None = None, *, cache_dir: str | os.PathLike[str],
                   rebuild: bool = False) -> BuiltDefinition:
    """`build_definition(module_name, kwargs, project)`, or its last result when nothing it depends on changed.

    Logs which file was built ("Building X from FILE") or reused ("Reusing the build of X from FILE
    (unchanged)") at INFO on the modules' loggers.

    Args:
        module_name, kwargs, project: as for `modelbuild.definition.build.build_definition`.
        cache_dir: where builds are kept: one JSON file per request (project and working directories,
            module, kwargs), the uploads inside.
        rebuild: build even when the last build could be reused (and keep the new one).

    Raises:
        As `build_definition`. A cache entry that cannot be read or written is never an error.
    """
    kwargs = dict(kwargs or {})
    project = project or find_project()
    module_name = module_name or project.default_module()
    request = _request(project, module_name, kwargs)
    entry = Path(cache_dir) / f"{hashlib.sha256(request.encode()).hexdigest()[:32]}.json"
    if not rebuild:
        built = _reuse(entry, request, kwargs)
        if built is not None:
            log.info("Reusing the build of %s from %s (unchanged)", built.module, shown_path(built.module_file))
            _mark_used(entry)
            if not Path(built.module_file).is_relative_to(project.root):
                log.warning("%s was found outside the project directory %s", built.module_file, project.root)
            return built
    with reads.recording() as recorded:
        built = build.build_definition(module_name, kwargs, project)  # looked up at call time: replaceable
    if _keep(entry, request, kwargs, built, recorded):
        prune(entry.parent, keep=entry)
    return built


def prune(cache_dir: Path, keep: Path | None = None) -> list[Path]:
    """Remove the least recently used entries beyond MAX_ENTRIES or MAX_BYTES (never `keep`); returns them.

    Use is the entry's mtime: written by a build, touched by a reuse. Files that are not entries (an
    interrupted write's temporary file) are left alone, as are entries another process removed first.
    """
    entries = []
    for path in cache_dir.glob("*.json"):
        try:
            st = path.stat()
        except OSError:
            continue
        entries.append((path != keep, -st.st_mtime_ns, st.st_size, path))
    entries.sort()  # `keep` first, then the most recently used
    removed, count, size = [], 0, 0
    for _, _, entry_size, path in entries:
        count, size = count + 1, size + entry_size
        if path != keep and (count > MAX_ENTRIES or size > MAX_BYTES):
            with contextlib.suppress(OSError):
                path.unlink()
                removed.append(path)
    return removed


def _mark_used(entry: Path) -> None:
    """Stamp an entry with the time of its use, so pruning keeps the entries used lately (a read-only
    cache is no error). The stamp is the precise clock's: a file's own mtime comes from the kernel's
    coarse clock (a few ms steps), so two uses in one step would tie and pruning could drop the wrong one."""
    now = time.time_ns()
    with contextlib.suppress(OSError):
        os.utime(entry, ns=(now, now))


def installed_distributions() -> dict[str, str]:
    """name -> version of every distribution on sys.path (the first of a name wins, as for imports).

    Read from the names of the `*.dist-info` / `*.egg-info` directories: one listing per sys.path
    directory, far cheaper than importlib.metadata, and an install, upgrade or removal renames them.
    """
    found: dict[str, str] = {}
    for entry in sys.path:
        try:
            names = os.listdir(entry or ".")
        except OSError:  # a zip file or a missing directory
            continue
        for name in sorted(names):
            stem, dot, kind = name.rpartition(".")
            if dot and kind in ("dist-info", "egg-info"):
                distribution, _, version = stem.partition("-")
                found.setdefault(distribution.lower().replace("-", "_"), version)
    return found


def _request(project: Project, module_name: str, kwargs: Mapping[str, Any]) -> str:
    """What was asked for, as text: names the entry. repr, not JSON, so (1, 2) and [1, 2] differ."""
    return repr((FORMAT, str(project.root), os.getcwd(), module_name, sorted(kwargs.items())))


def _environment_names(recorded: set[str] | list[str]) -> list[str]:
    """The variables the key covers: those looked up, and every AWS_* / SAGEMAKER_* one set now."""
    names = set(recorded) | {name for name in os.environ if name.startswith(ENVIRONMENT_PREFIXES)}
    return sorted(name for name in names if name not in CREDENTIALS and not name.startswith(CREDENTIAL_PREFIXES))


def _digest(value: Any) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True).encode()).hexdigest()


def _context(kwargs: Mapping[str, Any], environment_names: list[str], environment: Mapping[str, str]) -> dict:
    """Everything besides files that the build depends on. Environment values are kept as a digest only."""
    region = resolve_region(kwargs)
    return {
        "defaults": {"region": region, "role": PLACEHOLDER_ROLE,
                     "default_bucket": kwargs.get("default_bucket") or placeholder_bucket(region)},
        "python": sys.version,
        "sys_path": list(sys.path),
        "distributions": installed_distributions(),
        "environment": _digest({name: environment.get(name) for name in environment_names}),
    }


def _file_digest(path: str) -> str | None:
    sha256 = hashlib.sha256()
    try:
        with open(path, "rb") as handle:
            while chunk := handle.read(1 << 20):
                sha256.update(chunk)
    except OSError:
        return None
    return sha256.hexdigest()


def _tree(directory: Path) -> list[str]:
    """Every file below `directory` (relative, sorted), `__pycache__` left out."""
    files = []
    for root, dirs, names in os.walk(directory):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        files += [os.path.relpath(os.path.join(root, name), directory) for name in names]
    return sorted(files)


def _package(built: BuiltDefinition) -> tuple[Path | None, list[Path]]:
    """The directory of the package the module is in (None for a top-level module) and the parent
    packages' `__init__.py` files."""
    file = Path(built.module_file)
    parts = built.module.split(".")
    depth = len(parts) if file.name == "__init__.py" else len(parts) - 1
    return (file.parent if depth else None), [file.parents[level] / "__init__.py" for level in range(1, depth)]


def _keep(entry: Path, request: str, kwargs: Mapping[str, Any], built: BuiltDefinition, recorded: reads.Reads) -> bool:
    """Write the cache entry for `built`, unless a file it read changed while it was being built; True if written."""
    package, inits = _package(built)
    tree = _tree(package) if package else []
    opened = recorded.files()
    paths = set(opened) | {built.module_file} | {str(path) for path in inits}
    paths |= {str(package / name) for name in tree} if package else set()
    paths |= {str(path) for path in _DEFINITION_LAYER.glob("*.py")}
    paths |= _imported_files()
    files: dict[str, list | None] = {}
    for path in sorted(paths):
        signature = reads.stat_signature(path)
        if path in opened and opened[path] != signature:
            log.debug("Not keeping the build of %s: %s changed while it was built", built.module, path)
            return False
        files[path] = None if signature is None else [*signature, _file_digest(path)]
    names = _environment_names(recorded.environment)
    kept = {
        "text": built.text, "pipeline_name": built.pipeline_name, "region": built.region,
        "module": built.module, "module_file": built.module_file,
        "uploads": {uri: base64.b64encode(content).decode("ascii") for uri, content in built.uploads.items()},
    }
    data = {
        "format": FORMAT,
        "request": request,
        "started_ns": recorded.started_ns,
        "context": _context(kwargs, names, recorded.environment_before),
        "environment_read": [name for name in names if name in recorded.environment],
        "trees": {str(package): _digest(tree)} if package else {},
        "files": files,
        "built": kept,
        "built_digest": _digest(kept),  # a damaged entry is a miss, not a wrong definition
    }
    try:
        with atomic_write(entry) as handle:
            json.dump(data, handle)
        _mark_used(entry)
    except OSError as exc:
        log.warning("Could not keep this build for reuse in %s: %s", entry.parent, exc.strerror or exc)
        return False
    return True


def _imported_files() -> set[str]:
    """The files of the modules imported so far from outside the standard library and site-packages:
    a module imported before the build (by an earlier build) is not opened again, yet is used."""
    found = set()
    for module in list(sys.modules.values()):
        file = getattr(module, "__file__", None)
        if isinstance(file, str) and not reads.excluded(path := os.path.abspath(file)):
            found.add(path)
    return found


def _reuse(entry: Path, request: str, kwargs: Mapping[str, Any]) -> BuiltDefinition | None:
    """The build kept in `entry` when it is for `request` and nothing it depends on changed, else None."""
    # Anything wrong with an entry (unreadable, damaged, another layout) means: build again.
    try:
        data = json.loads(entry.read_text(encoding="utf-8"))
        change = _change(data, request, kwargs)
        if change:
            log.debug("Building again: %s", change)
            return None
        built = data["built"]
        if _digest(built) != data["built_digest"]:
            raise ValueError("its content does not match its digest")
        text = built["text"]
        return BuiltDefinition(
            text=text, definition=json.loads(text),
            uploads={uri: base64.b64decode(content, validate=True) for uri, content in built["uploads"].items()},
            pipeline_name=built["pipeline_name"], region=built["region"], module=built["module"],
            module_file=built["module_file"],
        )
    except FileNotFoundError:
        return None
    except Exception as exc:  # see above: never an error
        log.debug("Building again: cache entry %s is unusable (%s: %s)", entry, type(exc).__name__, exc)
        return None


def _change(data: dict, request: str, kwargs: Mapping[str, Any]) -> str | None:
    """What changed since the build in `data` (cheapest checks first), or None."""
    if data.get("format") != FORMAT or data.get("request") != request:
        return "the cache entry is for another request"
    names = _environment_names(data["environment_read"])
    context = _context(kwargs, names, os.environ)
    for key, value in context.items():
        if data["context"].get(key) != value:
            return f"{key} changed"
    for directory, digest in data["trees"].items():
        if _digest(_tree(Path(directory))) != digest:
            return f"files were added to or removed from {directory}"
    racy_after = data["started_ns"] - RACY_NS
    for path, recorded in data["files"].items():
        if not _unchanged(path, recorded, racy_after):
            return f"{path} changed"
    return None


def _unchanged(path: str, recorded: list | None, racy_after: int) -> bool:
    signature = reads.stat_signature(path)
    if recorded is None or signature is None:
        return recorded is None and signature is None
    size, mtime_ns, inode, digest = recorded
    if signature == (size, mtime_ns, inode) and mtime_ns < racy_after:
        return True
    return signature[0] == size and _file_digest(path) == digest
