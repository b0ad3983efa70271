"""Executions and their steps in the state database: what ran, when, with what outcome and outputs."""

from __future__ import annotations

import hashlib
import json
import os
import socket
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from modelbuild.errors import UsageError, did_you_mean
from modelbuild.local.locks import is_running
from modelbuild.local.state import StateDir, open_state, resolve_state_dir

EXECUTING, SUCCEEDED, FAILED, SKIPPED, CACHED, REUSED, STOPPED = (
    "Executing", "Succeeded", "Failed", "Skipped", "Cached", "Reused", "Stopped",
)
STUBBED = "Stubbed"  # properties from a stub file (`run --stub`): usable downstream, never cached or reused
DONE_OK = (SUCCEEDED, CACHED, REUSED)  # a step in one of these states has usable properties
NO_STATE_HINT = "Run from the directory you ran `modelbuild run --local` in, or pass --state-dir."


class UnknownExecutionError(UsageError):
    """Raised when an execution id given by the user is not in the state directory."""


@dataclass
class StepRecord:
    """One step of one execution, as stored."""

    name: str
    type: str
    status: str
    started: float | None = None
    ended: float | None = None
    attempts: int = 0
    failure_reason: str | None = None
    log_path: str | None = None
    properties: dict[str, Any] | None = None
    cache_key: str | None = None
    cached_from: str | None = None
    arguments_digest: str | None = None  # of the resolved arguments, input content included (see cache.py)
    outputs: dict[str, str] | None = None  # S3 URI -> content digest of each output the step published

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return dict(self.__dict__)


@dataclass
class ExecutionRecord:
    """One execution, as stored, with its steps in the order they started."""

    id: str
    pipeline_name: str
    status: str
    parameters: dict[str, Any]
    started: float
    ended: float | None = None
    failure_reason: str | None = None
    source_execution: str | None = None
    definition: str = field(default="", repr=False)
    steps: list[StepRecord] = field(default_factory=list)

    def to_json(self, with_definition: bool = False) -> dict[str, Any]:
        """A JSON-ready dict (without the definition text unless asked)."""
        data = {k: v for k, v in self.__dict__.items() if k not in ("steps", "definition")}
        data["steps"] = [step.to_json() for step in self.steps]
        if with_definition:
            data["definition"] = self.definition
        return data


class ExecutionLog:
    """Reads and writes execution and step rows of one state directory."""

    def __init__(self, state: StateDir) -> None:
        self.state = state

    def start(self, execution_id: str, pipeline_name: str, parameters: Mapping[str, Any], definition: str,
              source_execution: str | None = None) -> None:
        """Record a new execution as Executing, owned by this process (its definition text stored once)."""
        digest = hashlib.sha256(definition.encode()).hexdigest()
        with self.state.transaction() as db:
            db.execute("INSERT OR IGNORE INTO definitions (sha256, text) VALUES (?, ?)", (digest, definition))
            db.execute(
                "INSERT INTO executions (id, pipeline_name, status, parameters, definition, definition_sha256,"
                " started, pid, host, source_execution) VALUES (?,?,?,?,?,?,?,?,?,?)",
                (execution_id, pipeline_name, EXECUTING, json.dumps(dict(parameters)), "", digest, time.time(),
                 os.getpid(), socket.gethostname(), source_execution),
            )

    def finish(self, execution_id: str, status: str, failure_reason: str | None) -> None:
        """Record the end of an execution."""
        with self.state.transaction() as db:
            db.execute("UPDATE executions SET status=?, ended=?, failure_reason=? WHERE id=? AND status=?",
                       (status, time.time(), failure_reason, execution_id, EXECUTING))  # never over another end

    def save_step(self, execution_id: str, step: StepRecord) -> None:
        """Insert or replace a step row."""
        properties = json.dumps(step.properties) if step.properties is not None else None
        outputs = json.dumps(step.outputs) if step.outputs is not None else None
        with self.state.transaction() as db:
            db.execute(
                "INSERT OR REPLACE INTO steps (execution_id, name, type, status, started, ended, attempts,"
                " failure_reason, log_path, properties, cache_key, cached_from, arguments_digest, outputs)"
                " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (execution_id, step.name, step.type, step.status, step.started, step.ended, step.attempts,
                 step.failure_reason, step.log_path, properties, step.cache_key, step.cached_from,
                 step.arguments_digest, outputs),
            )

    def cached(self, cache_key: str, not_before: float) -> tuple[str, StepRecord] | None:
        """The latest successful (non-cached) run of a step with this cache key, ended after `not_before`."""
        rows = self.state.query(
            "SELECT * FROM steps WHERE cache_key=? AND status=? AND ended>=? ORDER BY ended DESC LIMIT 1",
            (cache_key, SUCCEEDED, not_before),
        )
        return (rows[0]["execution_id"], _step(rows[0])) if rows else None

    def abort(self, execution_id: str, reason: str) -> None:
        """Mark an execution and its executing steps Failed with `reason` (if it is still Executing)."""
        now = time.time()
        with self.state.transaction() as db:
            db.execute("UPDATE executions SET status=?, ended=?, failure_reason=? WHERE id=? AND status=?",
                       (FAILED, now, reason, execution_id, EXECUTING))
            db.execute("UPDATE steps SET status=?, ended=?, failure_reason=? WHERE execution_id=? AND status=?",
                       (FAILED, now, reason, execution_id, EXECUTING))

    def mark_interrupted(self) -> list[str]:
        """Mark Failed every execution left Executing whose lock no process holds (its process died)."""
        marked = []
        for row in self.state.query("SELECT id, pid FROM executions WHERE status=?", (EXECUTING,)):
            if not is_running(self.state.root, row["id"]):
                self.abort(row["id"], f"interrupted: process {row['pid']} stopped before the execution ended")
                marked.append(row["id"])
        return marked

    def list(self, pipeline_name: str | None = None, limit: int = 20) -> list[ExecutionRecord]:
        """Executions, newest first (without steps)."""
        sql, args = "SELECT * FROM executions", ()
        if pipeline_name:
            sql, args = sql + " WHERE pipeline_name=?", (pipeline_name,)
        rows = self.state.query(sql + " ORDER BY started DESC LIMIT ?", (*args, limit))
        return [_execution(row) for row in rows]

    def get(self, execution_id: str) -> ExecutionRecord:
        """One execution with its steps.

        Raises:
            UnknownExecutionError: no such execution (with the closest id suggested).
        """
        rows = self.state.query("SELECT * FROM executions WHERE id=?", (execution_id,))
        if not rows:
            known = [row["id"] for row in self.state.query("SELECT id FROM executions ORDER BY started DESC")]
            raise UnknownExecutionError(
                f"no execution {execution_id!r} in {self.state.root}",
                hint=did_you_mean(execution_id, known) or "List them with `modelbuild executions list`.",
            )
        record = _execution(rows[0])
        if rows[0]["definition_sha256"]:
            found = self.state.query("SELECT text FROM definitions WHERE sha256=?", (rows[0]["definition_sha256"],))
            record.definition = found[0]["text"] if found else ""
        record.steps = [_step(row) for row in self.state.query(
            "SELECT * FROM steps WHERE execution_id=? ORDER BY started, rowid", (execution_id,))]
        return record


def _execution(row: Any) -> ExecutionRecord:
    return ExecutionRecord(
        id=row["id"], pipeline_name=row["pipeline_name"], status=row["status"],
        parameters=json.loads(row["parameters"]), started=row["started"], ended=row["ended"],
        failure_reason=row["failure_reason"], source_execution=row["source_execution"],
        definition=row["definition"],
    )


def _step(row: Any) -> StepRecord:
    return StepRecord(
        name=row["name"], type=row["type"], status=row["status"], started=row["started"], ended=row["ended"],
        attempts=row["attempts"], failure_reason=row["failure_reason"], log_path=row["log_path"],
        properties=json.loads(row["properties"]) if row["properties"] else None,
        cache_key=row["cache_key"], cached_from=row["cached_from"], arguments_digest=row["arguments_digest"],
        outputs=json.loads(row["outputs"]) if row["outputs"] else None,
    )


def list_executions(state_dir: str | os.PathLike[str] | None = None, pipeline_name: str | None = None,
                    limit: int = 20) -> list[ExecutionRecord]:
    """Executions in a state directory, newest first (an execution whose process died shows Failed)."""
    if not resolve_state_dir(state_dir).exists():  # listing never creates a state directory
        return []
    with open_state(state_dir) as state:
        log = ExecutionLog(state)
        log.mark_interrupted()
        return log.list(pipeline_name, limit)


def get_execution(execution_id: str, state_dir: str | os.PathLike[str] | None = None) -> ExecutionRecord:
    """One execution of a state directory, with its steps.

    Raises:
        UnknownExecutionError: no such execution.
    """
    if not resolve_state_dir(state_dir).exists():
        raise UnknownExecutionError(f"no execution {execution_id!r}: there is no state directory "
                                    f"{resolve_state_dir(state_dir)}", hint=NO_STATE_HINT)
    with open_state(state_dir) as state:
        log = ExecutionLog(state)
        log.mark_interrupted()
        return log.get(execution_id)
