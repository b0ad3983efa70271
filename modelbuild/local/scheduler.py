"""Scheduling one execution's steps in dependency order.

Kedro's shape: the step graph is plain data walked with `graphlib.TopologicalSorter`; the base
`Scheduler` owns everything about a step (branch skipping, reuse, caching, retries, timing, records
and events) and its subclasses only say which executor runs the ready steps and how many at once:
`SequentialScheduler` runs them inline, one by one; `ParallelScheduler` in a thread pool (the work
itself happens in child processes, so threads are enough).
"""

from __future__ import annotations

import graphlib
import hashlib
import logging
import math
import re
import shutil
import signal
import time
import traceback
from collections import deque
from collections.abc import Callable, Mapping
from concurrent.futures import FIRST_COMPLETED, Executor, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from modelbuild.definition.dsl import PipelineSpec, StepSpec
from modelbuild.errors import ModelbuildError
from modelbuild.local import cache, retry
from modelbuild.local.expressions import Resolver
from modelbuild.local.processes import Cancellation
from modelbuild.local.records import (
    CACHED,
    DONE_OK,
    EXECUTING,
    FAILED,
    REUSED,
    SKIPPED,
    STOPPED,
    STUBBED,
    SUCCEEDED,
    ExecutionLog,
    StepRecord,
)
from modelbuild.local.steps import StepContext, StepFailed, module_for
from modelbuild.local.store import PublishingRecorder, changed_outputs

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class StepEvent:
    """A change of state of the execution (step None) or of one of its steps, for live rendering."""

    execution_id: str
    step: str | None
    step_type: str | None
    status: str
    time: float
    attempts: int = 0
    reason: str | None = None
    log_path: str | None = None
    cached_from: str | None = None

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return dict(self.__dict__)


@dataclass
class RunContext:
    """What every step of one execution shares."""

    execution_id: str
    spec: PipelineSpec
    parameters: Mapping[str, Any]
    variables: Mapping[str, Any]
    log: ExecutionLog
    store: Any  # ObjectStore
    registry: Any  # ModelRegistry
    jobs_dir: Path
    logs_dir: Path
    region: str = "local"
    cache_by_default: bool = True
    reused: Mapping[str, StepRecord] = field(default_factory=dict)  # name -> record of a source execution
    source_execution: str | None = None
    included: frozenset[str] | None = None  # steps that take part (None: all)
    stubs: Mapping[str, Any] = field(default_factory=dict)  # step name -> modelbuild.local.stubs.Stub
    callback_answers: Mapping[str, Any] = field(default_factory=dict)  # step -> callbacks.Answer (run --callback)
    state_dir: Path | None = None
    on_event: Callable[[StepEvent], None] = lambda event: None
    cancellation: Cancellation = field(default_factory=Cancellation)  # set by SIGINT/SIGTERM: stop the run
    job_environment: Mapping[str, str | None] = field(default_factory=dict)  # see job_environment.job_environment


class _InlineExecutor(Executor):
    """Runs each submitted call at once, in the caller's thread."""

    def submit(self, fn, /, *args, **kwargs):  # type: ignore[override]
        future: Future = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as exc:  # noqa: BLE001 - handed to the caller through the future
            future.set_exception(exc)
        return future


class Scheduler:
    """Runs the included steps of `ctx.spec` once each, in dependency order; subclasses pick the executor."""

    capacity = 1

    def __init__(self, ctx: RunContext) -> None:
        self.ctx = ctx
        self.records: dict[str, StepRecord] = {}
        self.properties: dict[str, Mapping[str, Any]] = {}
        files = {name: step.property_files for name, step in ctx.spec.steps.items()}
        self.resolver = Resolver(ctx.parameters, ctx.variables, self.properties, files, ctx.store.read_bytes)
        self.key_resolver = Resolver(ctx.parameters, None, self.properties, files, ctx.store.read_bytes)
        self.failure: tuple[str, str] | None = None

    def executor(self) -> Executor:
        """The executor that runs ready steps."""
        raise NotImplementedError

    def run(self) -> tuple[str, str | None]:
        """Run every step; returns the execution's status (Succeeded, Failed or Stopped) and failure reason.

        Once stopped (`ctx.cancellation`), nothing new starts and nothing is retried; the running jobs are
        stopped by their process group (see `modelbuild.local.processes`) and end Stopped.
        """
        stopped = self.ctx.cancellation
        included = self.ctx.included or frozenset(self.ctx.spec.steps)
        sorter = _sorter(self.ctx.spec, included)
        ready: deque[str] = deque()
        running: dict[Future, str] = {}
        with self.executor() as pool:
            while True:
                ready.extend(sorter.get_ready())
                while ready and len(running) < self.capacity:
                    name = ready.popleft()
                    settled = self._settle(self.ctx.spec.steps[name])
                    if settled is not None:  # skipped or reused: recorded even after a failure
                        self._finish(settled, sorter)
                        ready.extend(sorter.get_ready())
                        continue
                    if self.failure is not None or stopped.is_set():  # after a failure or a stop, nothing starts
                        continue
                    self._start(name)
                    running[pool.submit(self._execute, self.ctx.spec.steps[name])] = name
                if not running:
                    break
                try:
                    finished, _ = wait(running, return_when=FIRST_COMPLETED)
                except BaseException:  # waiting steps (Callback) stop waiting, so the pool can shut down
                    self.ctx.cancellation.stop(signal.SIGINT)
                    raise
                for future in finished:
                    running.pop(future)
                    self._finish(future.result(), sorter)
        if stopped.is_set():
            return STOPPED, stopped.reason
        return (FAILED, self.failure[1]) if self.failure else (SUCCEEDED, None)

    # -- one step, in the scheduling thread ------------------------------------------------------------

    def _settle(self, step: StepSpec) -> StepRecord | None:
        """A record for a step that needs no work (skipped branch, reused), or None when it must run."""
        now = time.time()
        if step.branch_of:
            condition, branch = step.branch_of
            outcome = (self.properties.get(condition) or {}).get("Outcome")
            if condition not in self.properties or outcome is not branch:
                return StepRecord(step.name, step.type, SKIPPED, now, now)
        if any(self.records.get(name) and self.records[name].status == SKIPPED for name in step.upstream):
            return StepRecord(step.name, step.type, SKIPPED, now, now)
        source = self.ctx.reused.get(step.name)
        if source is not None:
            why = self._why_not_reusable(step, source)
            if why is None:
                return StepRecord(step.name, step.type, REUSED, now, now, properties=source.properties,
                                  log_path=source.log_path, cached_from=self.ctx.source_execution,
                                  arguments_digest=source.arguments_digest, outputs=source.outputs)
            log.warning("step %r runs again instead of reusing execution %s's: %s", step.name,
                        self.ctx.source_execution, why)
        return None

    def _why_not_reusable(self, step: StepSpec, source: StepRecord) -> str | None:
        """Why a step of the source execution cannot stand in for this one, or None when it can."""
        if source.arguments_digest is None:
            return "that execution recorded no digest of its arguments (it ran with an older modelbuild)"
        try:
            digest = self._arguments_digest(step)
        except Exception as exc:  # noqa: BLE001 - unresolvable now: running the step reports it properly
            return f"its arguments cannot be resolved ({exc})"
        if digest != source.arguments_digest:
            return "its resolved arguments differ (the definition, a parameter or an input's content changed)"
        return changed_outputs(self.ctx.store, source.outputs)

    def _arguments_digest(self, step: StepSpec) -> str:
        return cache.cache_key(step, self.key_resolver.resolve(step.arguments), self.ctx.store, self.ctx.registry)

    def _start(self, name: str) -> None:
        step = self.ctx.spec.steps[name]
        record = StepRecord(name, step.type, EXECUTING, time.time(), log_path=str(self._log_path(name)))
        self.records[name] = record
        self.ctx.log.save_step(self.ctx.execution_id, record)
        self._emit(record)

    def _finish(self, record: StepRecord, sorter: graphlib.TopologicalSorter) -> None:
        self.records[record.name] = record
        self.ctx.log.save_step(self.ctx.execution_id, record)
        self._emit(record)
        if record.status in (*DONE_OK, STUBBED, SKIPPED):
            if record.status != SKIPPED:
                self.properties[record.name] = record.properties or {}
            sorter.done(record.name)
        elif self.failure is None:
            self.failure = (record.name, f"step {record.name!r} failed: {record.failure_reason}")

    def _emit(self, record: StepRecord) -> None:
        self.ctx.on_event(StepEvent(
            self.ctx.execution_id, record.name, record.type, record.status, time.time(), record.attempts,
            record.failure_reason, record.log_path, record.cached_from,
        ))

    # -- one step, in a worker ---------------------------------------------------------------------------

    def _execute(self, step: StepSpec) -> StepRecord:
        """Resolve, look up the cache, run with retries; never raises for a failure of the step itself."""
        record = StepRecord(step.name, step.type, EXECUTING, time.time(), log_path=str(self._log_path(step.name)))
        try:
            if step.name in self.ctx.stubs:  # properties from a file: nothing runs, nothing is cached
                record.properties = self.ctx.stubs[step.name].apply(self.resolver.resolve, self.ctx.store)
                record.status, record.ended, record.log_path = STUBBED, time.time(), None
                return record
            record.arguments_digest = self._arguments_digest(step)
            hit = self._cached(step, record)
            if hit is not None:
                return hit
            arguments = self.resolver.resolve(step.arguments)
            result = self._attempts(step, arguments, record)
            shutil.rmtree(self._job_dir(step.name), ignore_errors=True)  # its outputs are in the store now
            record.status, record.properties = SUCCEEDED, result.properties
            if result.outcome is not None:
                record.properties = {**result.properties, "Outcome": result.outcome}
        except StepFailed as exc:
            record.status, record.failure_reason = FAILED, exc.reason
            if self.ctx.cancellation.is_set():  # killed by the stop, not failed by itself
                record.status, record.failure_reason = STOPPED, self.ctx.cancellation.reason
        except ModelbuildError as exc:  # an expression or S3 URI that cannot be evaluated at run time
            record.status, record.failure_reason = FAILED, exc.message
        except Exception as exc:  # noqa: BLE001 - malformed arguments or an engine bug: fail the step, keep the run
            record.status, record.failure_reason = FAILED, f"{type(exc).__name__}: {exc} (traceback in the log)"
            self._log_path(step.name).parent.mkdir(parents=True, exist_ok=True)
            with self._log_path(step.name).open("a", encoding="utf-8") as log:
                log.write(traceback.format_exc())
        record.ended = time.time()
        if not Path(record.log_path).exists():  # steps that start no process (Condition, Fail, ...) log nothing
            record.log_path = None
        return record

    def _cached(self, step: StepSpec, record: StepRecord) -> StepRecord | None:
        age = cache.max_age(step, self.ctx.cache_by_default)
        if age is None:
            return None
        record.cache_key = record.arguments_digest
        found = self.ctx.log.cached(record.cache_key, 0.0 if math.isinf(age) else time.time() - age)
        if found is None:
            return None
        execution_id, source = found
        stale = changed_outputs(self.ctx.store, source.outputs)
        if stale is not None:  # a cache verifies what it serves (DVC's run-cache): a damaged hit is a miss
            log.warning("step %r runs instead of using the cached result of execution %s: %s", step.name,
                        execution_id, stale)
            return None
        return StepRecord(step.name, step.type, CACHED, record.started, time.time(), 0, None, source.log_path,
                          source.properties, record.cache_key, execution_id, record.arguments_digest, source.outputs)

    def _attempts(self, step: StepSpec, arguments: dict[str, Any], record: StepRecord) -> Any:
        module = module_for(step.type)
        while True:
            record.attempts += 1
            store = PublishingRecorder(self.ctx.store)
            ctx = StepContext(
                spec=step, arguments=arguments, execution_id=self.ctx.execution_id,
                job_name=job_name(self.ctx.execution_id, step.name),
                job_dir=self._job_dir(step.name),
                log_path=self._log_path(step.name), store=store, registry=self.ctx.registry,
                condition=self.resolver.condition, region=self.ctx.region, state_dir=self.ctx.state_dir,
                notify=lambda message: self._notify(step, record, message), cancelled=self.ctx.cancellation,
                callback_answers=self.ctx.callback_answers,
                job_environment=self.ctx.job_environment,
            )
            if self.ctx.cancellation.is_set():
                raise StepFailed(self.ctx.cancellation.reason)
            try:
                result = module.run(ctx)
                record.outputs = store.output_digests()
                return result
            except StepFailed as exc:
                delay = retry.retry_delay(step.retry_policies, exc.exception_type, record.attempts - 1,
                                          time.time() - record.started)
                if delay is None or self.ctx.cancellation.is_set():  # an interrupted job is never retried
                    raise
                self.ctx.cancellation.wait(delay)

    def _notify(self, step: StepSpec, record: StepRecord, message: str) -> None:
        """A running step's message for the user (a callback token), as an Executing event with a reason."""
        self.ctx.on_event(StepEvent(self.ctx.execution_id, step.name, step.type, EXECUTING, time.time(),
                                    record.attempts, message, record.log_path))

    def _job_dir(self, name: str) -> Path:
        return self.ctx.jobs_dir / self.ctx.execution_id / _safe(name)

    def _log_path(self, name: str) -> Path:
        return self.ctx.logs_dir / self.ctx.execution_id / f"{_safe(name)}.log"


class SequentialScheduler(Scheduler):
    """One step at a time, in the calling thread."""

    def executor(self) -> Executor:
        return _InlineExecutor()


class ParallelScheduler(Scheduler):
    """Independent steps at once, up to `max_parallel`."""

    def __init__(self, ctx: RunContext, max_parallel: int) -> None:
        super().__init__(ctx)
        self.capacity = max_parallel

    def executor(self) -> Executor:
        return ThreadPoolExecutor(self.capacity, thread_name_prefix="modelbuild-step")


def job_name(execution_id: str, step_name: str) -> str:
    """A step's job name as SageMaker shapes it: pipelines-<execution>-<step>, at most 63 characters.

    A name that must be shortened ends with a hash of the step name, so two steps never share one.
    """
    name = f"pipelines-{execution_id}-{re.sub(r'[^A-Za-z0-9-]', '-', step_name)}"
    if len(name) <= 63:
        return name
    return f"{name[:54]}-{hashlib.sha256(step_name.encode()).hexdigest()[:8]}"


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]", "_", name)


def _sorter(spec: PipelineSpec, included: frozenset[str]) -> graphlib.TopologicalSorter:
    sorter = graphlib.TopologicalSorter(
        {name: [u for u in spec.steps[name].upstream if u in included] for name in included}
    )
    sorter.prepare()
    return sorter
