"""Where the local engine keeps its state: the directory, its SQLite database and its sub-directories."""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

from modelbuild.errors import StateError

HOME_ENV = "MODELBUILD_HOME"
DEFAULT_DIR = ".modelbuild"
DB_NAME = "state.sqlite3"
LOCK_WAIT_SECONDS = 30  # longest wait for another process's write lock (said after the first second)
_BUSY_SLICE = 1.0  # SQLite's own busy wait per try, between our retries
T = TypeVar("T")
log = logging.getLogger(__name__)

# Version 1: the schema as first released (state dirs made before `user_version` was set are at 0 and
# get it by the idempotent script below). Each later version is one entry of _MIGRATIONS, applied in
# order, in one transaction with the new `user_version`: Django's numbered migrations, in SQL.
_SCHEMA_V1 = """
CREATE TABLE IF NOT EXISTS executions (
    id TEXT PRIMARY KEY, pipeline_name TEXT NOT NULL, status TEXT NOT NULL, parameters TEXT NOT NULL,
    definition TEXT NOT NULL, started REAL NOT NULL, ended REAL, failure_reason TEXT,
    pid INTEGER, host TEXT, source_execution TEXT);
CREATE TABLE IF NOT EXISTS steps (
    execution_id TEXT NOT NULL, name TEXT NOT NULL, type TEXT NOT NULL, status TEXT NOT NULL,
    started REAL, ended REAL, attempts INTEGER NOT NULL DEFAULT 0, failure_reason TEXT, log_path TEXT,
    properties TEXT, cache_key TEXT, cached_from TEXT, PRIMARY KEY (execution_id, name));
CREATE INDEX IF NOT EXISTS steps_cache ON steps (cache_key, status, ended);
CREATE TABLE IF NOT EXISTS model_packages (
    group_name TEXT NOT NULL, version INTEGER NOT NULL, arn TEXT NOT NULL, status TEXT NOT NULL,
    inference_specification TEXT, model_metrics TEXT, description TEXT, created REAL NOT NULL,
    updated REAL, execution_id TEXT, step_name TEXT, PRIMARY KEY (group_name, version));
CREATE TABLE IF NOT EXISTS model_package_groups (name TEXT PRIMARY KEY, created REAL NOT NULL);
CREATE TABLE IF NOT EXISTS models (
    name TEXT PRIMARY KEY, arn TEXT NOT NULL, image TEXT, model_data_url TEXT, environment TEXT,
    execution_id TEXT, created REAL NOT NULL);
CREATE TABLE IF NOT EXISTS file_digests (
    path TEXT PRIMARY KEY, stat_key TEXT NOT NULL, sha256 TEXT NOT NULL, recorded REAL NOT NULL);
"""
_MIGRATIONS = {
    # 2: what a step ran with (to reuse it only for the same arguments) and the digests of what it wrote
    2: ["ALTER TABLE steps ADD COLUMN arguments_digest TEXT", "ALTER TABLE steps ADD COLUMN outputs TEXT"],
    # 3: each definition text once, however many executions ran it (a 50 MB definition grew the DB per run)
    3: ["CREATE TABLE definitions (sha256 TEXT PRIMARY KEY, text TEXT NOT NULL)",
        "ALTER TABLE executions ADD COLUMN definition_sha256 TEXT"],
}
SCHEMA_VERSION = max(_MIGRATIONS)


def resolve_state_dir(state_dir: str | os.PathLike[str] | None = None) -> Path:
    """The state directory: `state_dir` if given, else $MODELBUILD_HOME, else ./.modelbuild."""
    chosen = state_dir or os.environ.get(HOME_ENV) or DEFAULT_DIR
    return Path(chosen).expanduser().absolute()


class StateDir:
    """The engine's state directory and its one SQLite database (executions, steps, model registry).

    One connection per StateDir, guarded by a lock: the scheduler's worker threads share it. Several
    processes may share the directory; SQLite's WAL mode serialises their writes, and a writer waits at
    most LOCK_WAIT_SECONDS for another's lock, saying so after the first second.

    Raises:
        StateError: (from every method) the directory or its database cannot be used; the message names
            the file and the hint the fix.
    """

    def __init__(self, root: str | os.PathLike[str] | None = None) -> None:
        self.root = resolve_state_dir(root)
        self.db_path = self.root / DB_NAME
        _check_directory(self.root)
        self._lock = threading.RLock()
        with self._translated():
            self._db = sqlite3.connect(self.db_path, timeout=_BUSY_SLICE, isolation_level=None,
                                       check_same_thread=False)
        try:
            with self._translated():
                self._db.row_factory = sqlite3.Row
                self._waiting(lambda: self._db.execute("PRAGMA journal_mode=WAL"))
                self._db.execute("PRAGMA synchronous=NORMAL")
                self._migrate()
        except BaseException:
            self._db.close()
            raise

    @contextmanager
    def _translated(self) -> Iterator[None]:
        """SQLite's and the filesystem's errors as one StateError naming the database and the fix."""
        try:
            yield
        except sqlite3.Error as exc:
            raise database_error(self.db_path, exc) from exc

    def _waiting(self, statement: Callable[[], T]) -> T:
        """Run `statement`, retrying while another process holds the write lock, up to LOCK_WAIT_SECONDS."""
        deadline, said = time.monotonic() + LOCK_WAIT_SECONDS, False
        while True:
            try:
                return statement()
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() > deadline:
                    raise
                if not said:
                    log.warning("Waiting for %s: another process holds its write lock (giving up after %d s)",
                                self.db_path, LOCK_WAIT_SECONDS)
                    said = True

    def _migrate(self) -> None:
        """Bring the database to SCHEMA_VERSION (a new database is created at version 1 first)."""
        version = self._db.execute("PRAGMA user_version").fetchone()[0]
        if version == SCHEMA_VERSION:
            return
        if version > SCHEMA_VERSION:
            raise StateError(
                f"{self.db_path} has schema version {version}, newer than this modelbuild "
                f"knows ({SCHEMA_VERSION})", hint="Upgrade modelbuild, or use another --state-dir.")
        with self.transaction() as db:
            version = db.execute("PRAGMA user_version").fetchone()[0]  # another process may have migrated
            if version == 0:
                for statement in filter(str.strip, _SCHEMA_V1.split(";")):
                    db.execute(statement)
                version = 1
            for target in sorted(v for v in _MIGRATIONS if v > version):
                for statement in _MIGRATIONS[target]:
                    db.execute(statement)
                version = target
            db.execute(f"PRAGMA user_version = {int(version)}")

    @property
    def store_dir(self) -> Path:
        """Root of the local "S3" store."""
        return self.root / "s3"

    @property
    def jobs_dir(self) -> Path:
        """Root of the per-step job directories (emulated containers)."""
        return self.root / "jobs"

    @property
    def logs_dir(self) -> Path:
        """Root of the per-step logs."""
        return self.root / "logs"

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """A write transaction taken immediately, so concurrent writers queue instead of failing."""
        with self._lock, self._translated():
            self._waiting(lambda: self._db.execute("BEGIN IMMEDIATE"))
            try:
                yield self._db
            except BaseException:
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def query(self, sql: str, args: tuple = ()) -> list[sqlite3.Row]:
        """Rows of a read-only query."""
        with self._lock, self._translated():
            return self._waiting(lambda: self._db.execute(sql, args).fetchall())

    def close(self) -> None:
        """Close the database connection."""
        with self._lock:
            self._db.close()


def _check_directory(root: Path) -> None:
    """The state directory exists (created if need be) and is a writable directory."""
    if root.exists() and not root.is_dir():
        raise StateError(f"the state directory {root} is a file, not a directory",
                         hint="Pass --state-dir (or set MODELBUILD_HOME) to a directory, or move the file away.")
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StateError(f"cannot create the state directory {root}: {exc.strerror}",
                         hint="Pass --state-dir (or set MODELBUILD_HOME) to a directory you can write.") from exc
    if not os.access(root, os.W_OK | os.X_OK):
        raise StateError(f"the state directory {root} is read-only",
                         hint=f"Make it writable (chmod u+w {root}), or pass another --state-dir.")


def database_error(path: Path, exc: sqlite3.Error) -> StateError:
    """The StateError for a failure of SQLite on the database at `path`."""
    text = str(exc)
    if path.is_dir():
        return StateError(f"{path} is a directory, not the state database",
                          hint=f"Move it aside (mv {path} {path}.bak), and run again to start a new one.")
    if "not a database" in text or "malformed" in text:
        return StateError(f"{path} is corrupt (SQLite: {text})",
                          hint=f"Move it aside to start a new one: mv {path} {path}.corrupt "
                          "(the executions and models recorded in it will no longer be listed).")
    if "locked" in text:
        return StateError(f"{path} stayed locked by another process for {LOCK_WAIT_SECONDS:g} s",
                          hint="Let the other modelbuild command (or sqlite3 shell) finish, then run again.")
    if "readonly" in text or "unable to open" in text:
        return StateError(f"cannot write the state database {path} ({text})",
                          hint=f"Make {path.parent} and {path.name} writable, or pass another --state-dir.")
    if "full" in text:
        return StateError(f"the disk holding {path} is full ({text})",
                          hint=f"Free space on that disk (df -h {path.parent}), then run again.")
    return StateError(f"the state database {path} failed: {text}", hint="Run with --debug for the traceback.")


@contextmanager
def open_state(state_dir: str | os.PathLike[str] | None = None) -> Iterator[StateDir]:
    """A `StateDir` for the duration of a block."""
    state = StateDir(state_dir)
    try:
        yield state
    finally:
        state.close()
