"""Where the local engine keeps its state: the directory, its SQLite database and its sub-directories."""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from modelbuild.errors import StateError

HOME_ENV = "MODELBUILD_HOME"
DEFAULT_DIR = ".modelbuild"

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
}
SCHEMA_VERSION = max(_MIGRATIONS)


def resolve_state_dir(state_dir: str | os.PathLike[str] | None = None) -> Path:
    """The state directory: `state_dir` if given, else $MODELBUILD_HOME, else ./.modelbuild."""
    chosen = state_dir or os.environ.get(HOME_ENV) or DEFAULT_DIR
    return Path(chosen).expanduser().absolute()


class StateDir:
    """The engine's state directory and its one SQLite database (executions, steps, model registry).

    One connection per StateDir, guarded by a lock: the scheduler's worker threads share it. Several
    processes may share the directory; SQLite's WAL mode and a busy timeout serialise their writes.
    """

    def __init__(self, root: str | os.PathLike[str] | None = None) -> None:
        self.root = resolve_state_dir(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        self._db = sqlite3.connect(
            self.root / "state.sqlite3", timeout=60, isolation_level=None, check_same_thread=False
        )
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._migrate()

    def _migrate(self) -> None:
        """Bring the database to SCHEMA_VERSION (a new database is created at version 1 first)."""
        version = self._db.execute("PRAGMA user_version").fetchone()[0]
        if version == SCHEMA_VERSION:
            return
        if version > SCHEMA_VERSION:
            raise StateError(
                f"{self.root / 'state.sqlite3'} has schema version {version}, newer than this modelbuild "
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
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def query(self, sql: str, args: tuple = ()) -> list[sqlite3.Row]:
        """Rows of a read-only query."""
        with self._lock:
            return self._db.execute(sql, args).fetchall()

    def close(self) -> None:
        """Close the database connection."""
        with self._lock:
            self._db.close()


@contextmanager
def open_state(state_dir: str | os.PathLike[str] | None = None) -> Iterator[StateDir]:
    """A `StateDir` for the duration of a block."""
    state = StateDir(state_dir)
    try:
        yield state
    finally:
        state.close()
