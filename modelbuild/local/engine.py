"""The local engine's one entry point: `run_pipeline` runs a definition and returns its execution record.

Everything is checked before the first step starts: the definition (references, cycles, step types
the engine supports), the parameters, the selection or resumed execution, and that every S3 object
the definition names literally is in the store.
"""

from __future__ import annotations

import json
import os
import secrets
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from modelbuild.definition.dsl import PipelineSpec, parse_definition, read_definition_file, resolve_parameters
from modelbuild.errors import BadParameterValueError, UsageError
from modelbuild.local import s3_endpoint
from modelbuild.local.callbacks import Answer, check_answers
from modelbuild.local.digests import DigestMemo
from modelbuild.local.isolation import check_request as check_isolation_request
from modelbuild.local.job_environment import job_environment
from modelbuild.local.locks import ExecutionLock
from modelbuild.local.plan import Plan, plan_run
from modelbuild.local.processes import stop_on_signals
from modelbuild.local.records import ExecutionLog, ExecutionRecord
from modelbuild.local.registry import ACCOUNT, ModelRegistry
from modelbuild.local.scheduler import ParallelScheduler, RunContext, SequentialScheduler, StepEvent
from modelbuild.local.state import StateDir
from modelbuild.local.steps import check_local, check_supported, module_for
from modelbuild.local.store import ObjectStore
from modelbuild.local.stubs import load_stubs


class ExecutionBusyError(UsageError):
    """Raised when a resume names an execution that another process is running or resuming."""


class MissingInputError(UsageError):
    """Raised when a definition reads an S3 object that is not in the local store."""


@dataclass(frozen=True)
class PipelineSource:
    """A definition to run, with its name, region and the files to stage in the store first."""

    text: str
    pipeline_name: str
    region: str = "local"
    uploads: Mapping[str, bytes] = field(default_factory=dict, repr=False)
    module_file: str | None = None


def load_source(definition: str | os.PathLike[str] | Mapping[str, Any] | None = None,
                module_name: str | None = None, kwargs: Mapping[str, Any] | None = None,
                pipeline_name: str | None = None, *, definition_cache: str | os.PathLike[str] | None = None,
                rebuild: bool = False) -> PipelineSource:
    """The definition to run: a JSON file (Path), JSON text or a mapping; or, when None, `module_name` built offline.

    A built module also brings its uploads (step code, bundled sample data), staged before the run.
    With `definition_cache` (a directory), the module's last build kept there is reused when nothing
    it depends on changed, unless `rebuild` (see `modelbuild.definition.build_cache`).

    Raises:
        UsageError: the definition file cannot be read.
        DefinitionError: the definition file is not JSON.
        ModuleLoadError, DefinitionError: from building the module.
    """
    if definition is None:
        if definition_cache is not None:
            from modelbuild.definition.build_cache import build_or_reuse

            built = build_or_reuse(module_name, kwargs, cache_dir=definition_cache, rebuild=rebuild)
        else:
            from modelbuild.definition.build import build_definition

            built = build_definition(module_name, kwargs)
        return PipelineSource(built.text, pipeline_name or built.pipeline_name, built.region, built.uploads,
                              built.module_file)
    if isinstance(definition, Mapping):
        return PipelineSource(json.dumps(definition), pipeline_name or "LocalPipeline")
    if isinstance(definition, os.PathLike):
        text, _ = read_definition_file(definition)
        return PipelineSource(text, pipeline_name or Path(definition).stem)
    return PipelineSource(definition, pipeline_name or "LocalPipeline")


def stage_uploads(uploads: Mapping[str, bytes], state_dir: str | os.PathLike[str] | None = None) -> None:
    """Copy a built definition's uploads (step code, sample data) into the local store, as an upsert
    copies them to S3, so a later run of the definition file finds them."""
    ObjectStore(StateDir(state_dir).store_dir).put_all(uploads)


def run_pipeline(
    source: PipelineSource,
    parameters: Mapping[str, Any] | None = None,
    *,
    state_dir: str | os.PathLike[str] | None = None,
    max_parallel: int | None = None,
    resume: str | None = None,
    steps: Sequence[str] = (),
    on_event: Callable[[StepEvent], None] | None = None,
    cache_by_default: bool = True,
    stubs: Mapping[str, str | os.PathLike[str]] | None = None,
    callbacks: Mapping[str, Answer] | None = None,
    lambda_code: Mapping[str, str] | None = None,
) -> ExecutionRecord:
    """Run a pipeline definition on this machine and return its execution record.

    Args:
        source: the definition (see `load_source`).
        parameters: NAME -> value overrides (text from --parameter, or typed).
        state_dir: the state directory (default $MODELBUILD_HOME, else ./.modelbuild).
        max_parallel: most steps at once (default: the definition's ParallelismConfiguration, else the
            CPU count); 1 runs them one by one.
        resume: an execution id: rerun what did not succeed there, reusing the rest.
        steps: run only these steps, reusing the outputs of the steps they depend on.
        on_event: called in the calling thread with each execution and step event.
        cache_by_default: cache job steps without a CacheConfig (see `modelbuild.local.cache`).
        stubs: step name -> stub file: the step's properties are read from the file, not produced by
            running it (see `modelbuild.local.stubs`).
        callbacks: Callback step name -> its answer, given before it starts (see `modelbuild.local.callbacks`);
            other Callback steps wait for `modelbuild executions callback TOKEN`.
        lambda_code: Lambda function ARN or name -> "PATH:HANDLER": local code to run for a function the
            build did not define from a script (see `modelbuild.local.steps.lambda_step.stage_local_code`).

    Returns:
        The finished execution (status Succeeded, Failed, or Stopped when SIGINT or SIGTERM stopped it;
        none of them raises).

    Raises:
        DefinitionError: invalid definition, unsupported step types, a cycle or dangling reference.
        UsageError: bad parameters, unknown steps, unknown execution, missing S3 objects.
    """
    emit = on_event or (lambda event: None)
    state = StateDir(state_dir)
    locks: list[ExecutionLock] = []
    try:
        log = ExecutionLog(state)
        log.mark_interrupted()
        spec, plan, values, stubbed = _prepare(source, parameters, log, resume, steps, stubs or {})
        check_answers(callbacks or {}, spec)
        if resume:
            locks.append(_lock_resumed(state, resume))
        store = ObjectStore(state.store_dir, DigestMemo(state, state.store_dir))
        store.put_all(source.uploads)
        _check_inputs(spec, values, store, plan, stubbed)
        if lambda_code:
            from modelbuild.local.steps.lambda_step import stage_local_code

            stage_local_code(spec, lambda_code, store)
        check_local(spec, store, {*stubbed, *plan.reused, *_excluded(spec, plan)})
        execution_id = secrets.token_hex(6)
        locks.append(ExecutionLock(state.root, execution_id))
        locks[-1].acquire()  # a fresh id: free; taken before the row exists, so the row is never "dead"
        log.start(execution_id, source.pipeline_name, values, source.text, plan.source_execution)
        emit(StepEvent(execution_id, None, None, "Executing", time.time()))
        ctx = RunContext(
            execution_id=execution_id, spec=spec, parameters=values,
            variables=_variables(execution_id, source), log=log, store=store,
            registry=ModelRegistry(state, source.region), jobs_dir=state.jobs_dir, logs_dir=state.logs_dir,
            region=source.region, cache_by_default=cache_by_default, reused=plan.reused,
            source_execution=plan.source_execution, included=plan.included, on_event=emit, stubs=stubbed,
            callback_answers=callbacks or {}, state_dir=state.root,
        )
        parallel = max_parallel or _definition_parallelism(spec) or os.cpu_count() or 1
        scheduler = SequentialScheduler(ctx) if parallel == 1 else ParallelScheduler(ctx, parallel)
        try:
            # jobs' own S3 calls reach the store during the run
            with stop_on_signals(ctx.cancellation), s3_endpoint.serve(store.root) as served:
                ctx.job_environment = job_environment(served.url, source.region, state.jobs_dir / execution_id)
                status, reason = scheduler.run()
        except BaseException as exc:  # Ctrl-C (or an engine bug): the record must not stay Executing
            log.abort(execution_id, f"interrupted: {type(exc).__name__}")
            raise
        log.finish(execution_id, status, reason)
        record = log.get(execution_id)
        emit(StepEvent(execution_id, None, None, record.status, time.time(), reason=reason))
        return record
    finally:
        for lock in locks:
            lock.release()
        state.close()


def _lock_resumed(state: StateDir, execution_id: str) -> ExecutionLock:
    """Hold the resumed execution's lock for the run: refused while any process runs or resumes it."""
    lock = ExecutionLock(state.root, execution_id)
    if not lock.acquire():
        raise ExecutionBusyError(
            f"execution {execution_id} is running (or being resumed) in another process",
            hint=f"Wait for it to end (`modelbuild executions show {execution_id}`), then resume it.",
        )
    return lock


def _prepare(source: PipelineSource, parameters: Mapping[str, Any] | None, log: ExecutionLog, resume: str | None,
             steps: Sequence[str], stub_files: Mapping[str, Any]) -> tuple[PipelineSpec, Plan, dict[str, Any], dict]:
    """The parsed definition, the plan, the parameter values and the stubs, all checked before anything runs."""
    spec = parse_definition(source.text)
    stubs = load_stubs(stub_files, spec)
    check_supported(spec, stubs)
    check_isolation_request()  # a forced isolation mode this machine lacks fails here, before any step
    if resume and parameters:  # as SageMaker's retry: the reused outputs were made with the old values
        raise UsageError("--resume reruns with the parameters of the resumed execution",
                         hint="Drop --parameter, or start a new execution without --resume.")
    plan = plan_run(spec, log, source.pipeline_name, resume, steps)
    values = resolve_parameters(spec, plan.source_parameters if resume else parameters)
    if parameters:
        _check_overrides(spec, values, parameters)
    return spec, plan, values, stubs


def _check_overrides(spec: PipelineSpec, values: Mapping[str, Any], overrides: Mapping[str, Any]) -> None:
    """Overridden values must fit the job API fields they fill (an instance count of 0 fails on SageMaker
    before any job starts; here too, and not after the steps before it ran). Only problems the
    overrides bring are reported: the definition's own are `validate`'s business."""
    from modelbuild.definition.validate import validate_definition

    before = {str(problem) for problem in validate_definition(spec.definition)}
    new = [str(p) for p in validate_definition(spec.definition, parameter_values=values) if str(p) not in before]
    if new:
        names = ", ".join(f"{name}={str(overrides[name])!r}" for name in overrides)
        raise BadParameterValueError(f"--parameter {names} does not fit where it is used: {'; '.join(new)}",
                                     hint="SageMaker would refuse the execution; choose a value in range.")


def _definition_parallelism(spec: PipelineSpec) -> int | None:
    """ParallelismConfiguration.MaxParallelExecutionSteps, when the definition carries one."""
    config = spec.definition.get("ParallelismConfiguration") or {}
    return int(config["MaxParallelExecutionSteps"]) if config.get("MaxParallelExecutionSteps") else None


def _variables(execution_id: str, source: PipelineSource) -> dict[str, str]:
    now = datetime.now(timezone.utc).isoformat()
    pipeline_arn = f"arn:aws:sagemaker:{source.region}:{ACCOUNT}:pipeline/{source.pipeline_name.lower()}"
    return {
        "PipelineExecutionId": execution_id,
        "PipelineExecutionArn": f"{pipeline_arn}/execution/{execution_id}",
        "PipelineName": source.pipeline_name,
        "PipelineArn": pipeline_arn,
        "StartDateTime": now,
        "CurrentDateTime": now,
    }


def _check_inputs(spec: PipelineSpec, parameters: Mapping[str, Any], store: ObjectStore, plan: Plan,
                  stubbed: Mapping[str, Any]) -> None:
    """Every S3 object a step to run reads by a literal URI or a parameter must be in the store (or be placed
    there by a stub's LocalFiles)."""
    placed = [item["S3Uri"].rstrip("/") for stub in stubbed.values() for item in stub.local_files
              if isinstance(item["S3Uri"], str)]
    for step in spec.steps.values():
        if step.name in plan.reused or step.name in stubbed or (
                plan.included is not None and step.name not in plan.included):
            continue
        reader = getattr(module_for(step.type), "input_uris", None)
        for uri in reader(_static(step.arguments, parameters)) if reader else []:
            if isinstance(uri, str) and uri.startswith("s3://") and not store.exists(uri) and not any(
                    f"{uri.rstrip('/')}/".startswith(f"{p}/") or p.startswith(uri) for p in placed):
                raise MissingInputError(
                    f"step {step.name!r} reads {uri}, which is not in the local store ({store.path(uri)})",
                    hint=f"Put it there as into S3: {store.copy_command(uri)} (--recursive for a directory); code "
                    "and data the pipeline module uploads are staged when it runs without --definition.",
                )


def _excluded(spec: PipelineSpec, plan: Plan) -> set[str]:
    """Steps that do not take part in the run (--steps)."""
    return set() if plan.included is None else set(spec.steps) - plan.included


def _static(value: Any, parameters: Mapping[str, Any]) -> Any:
    """`value` with parameter references replaced by their values and every other expression by None."""
    if isinstance(value, Mapping):
        if set(value) == {"Get"}:
            path = str(value["Get"])
            return parameters.get(path[len("Parameters."):]) if path.startswith("Parameters.") else None
        if set(value) & {"Std:Join", "Std:JsonGet"}:
            return None
        return {key: _static(item, parameters) for key, item in value.items()}
    if isinstance(value, list):
        return [_static(item, parameters) for item in value]
    return value
