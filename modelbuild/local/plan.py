"""Which steps of a definition an execution runs, and which it takes over from a source execution.

`--resume EXEC_ID` reruns what did not succeed in EXEC_ID and reuses the rest. `--steps A,B` runs only
A and B (SageMaker's selective execution): every step they depend on must have succeeded in the
source execution (EXEC_ID with --resume, else the newest execution of the pipeline where they did)
and is reused from it; steps that are neither selected nor needed do not take part.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from modelbuild.definition.dsl import PipelineSpec
from modelbuild.errors import UnknownStepError, UsageError, did_you_mean
from modelbuild.local.records import DONE_OK, ExecutionLog, ExecutionRecord, StepRecord


@dataclass(frozen=True)
class Plan:
    """Steps that take part (None: all), records of those reused, the execution they come from and its parameters."""

    included: frozenset[str] | None = None
    reused: dict[str, StepRecord] = field(default_factory=dict)
    source_execution: str | None = None
    source_parameters: dict[str, Any] = field(default_factory=dict)


def plan_run(spec: PipelineSpec, log: ExecutionLog, pipeline_name: str, resume: str | None = None,
             steps: Sequence[str] = ()) -> Plan:
    """The plan for a run, validated before anything runs.

    Raises:
        UnknownStepError: a selected step is not in the definition (with the closest name).
        UnknownExecutionError: the resumed execution does not exist.
        UsageError: the resumed execution is of another pipeline, or no execution has the outputs a
            selection needs.
    """
    for name in steps:
        if name not in spec.steps:
            raise UnknownStepError(f"--steps names {name!r}, which is not a step of {pipeline_name}",
                                   hint=did_you_mean(name, spec.steps) or "Steps: " + ", ".join(spec.steps))
    source = log.get(resume) if resume else None
    if source is not None and source.pipeline_name != pipeline_name:
        raise UsageError(f"execution {resume} ran pipeline {source.pipeline_name!r}, not {pipeline_name!r}",
                         hint="Resume it with the same --module-name or --definition it ran with.")
    if not steps:
        if source is None:
            return Plan()
        return Plan(None, _succeeded(source), source.id, source.parameters)
    needed = ancestors(spec, steps) - set(steps)
    if source is None:
        source = _newest_with(log, pipeline_name, needed)
    missing = sorted(needed - set(_succeeded(source)))
    if missing:
        raise UsageError(
            f"step(s) {', '.join(missing)} did not succeed in execution {source.id}, and {', '.join(steps)} "
            "need their outputs",
            hint="Add them to --steps, or choose another execution with --resume EXEC_ID.",
        )
    succeeded = _succeeded(source)
    return Plan(frozenset(steps) | needed, {name: succeeded[name] for name in needed}, source.id, source.parameters)


def ancestors(spec: PipelineSpec, names: Sequence[str]) -> set[str]:
    """`names` and every step they transitively wait for."""
    found, frontier = set(names), list(names)
    while frontier:
        for upstream in spec.steps[frontier.pop()].upstream:
            if upstream not in found:
                found.add(upstream)
                frontier.append(upstream)
    return found


def _succeeded(execution: ExecutionRecord) -> dict[str, StepRecord]:
    return {step.name: step for step in execution.steps if step.status in DONE_OK}


def _newest_with(log: ExecutionLog, pipeline_name: str, needed: set[str]) -> ExecutionRecord:
    for summary in log.list(pipeline_name, limit=50):
        execution = log.get(summary.id)
        if needed <= set(_succeeded(execution)):
            return execution
    raise UsageError(
        f"no execution of {pipeline_name} has the outputs of {', '.join(sorted(needed))}",
        hint="Run the whole pipeline once first, or add those steps to --steps.",
    )
