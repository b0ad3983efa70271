"""Step types the engine runs, one module each, and the check that a definition uses only those.

A step module offers `run(ctx: StepContext) -> StepResult`, and may offer:
`input_uris(arguments)`, the S3 URIs it reads (checked before the run; their *content* goes into the
cache key); `unsupported(arguments)`, why the engine cannot run this step (checked before the run);
`cache_arguments(arguments, registry)`, the arguments as the cache key should see them;
`local_problem(step, store)`, why the step cannot run with what the local store holds (checked before the
run); `describe(arguments)`, how the engine runs it (for `validate --target local`).
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from modelbuild.definition.dsl import PipelineSpec, StepSpec
from modelbuild.errors import DefinitionError

MODULES = {
    "Processing": "processing",
    "Training": "training",
    "Transform": "transform",
    "Model": "model",
    "RegisterModel": "register",
    "Condition": "condition",
    "Fail": "fail",
    "Tuning": "tuning",
    "Lambda": "lambda_step",
    "Callback": "callback",
}
INSTEAD = {  # what to do instead, per step type the engine does not run
    "QualityCheck": "compute the statistics in a Processing step",
    "ClarifyCheck": "compute the report in a Processing step",
    "EMR": "run the Spark job's logic in a Processing step",
    "EMRServerless": "run the job's logic in a Processing step",
    "AutoML": "use a Training step with the XGBoost algorithm",
}


class UnsupportedStepError(DefinitionError):
    """Raised when a definition has step types the local engine cannot run."""


class StepFailed(Exception):
    """A step ended Failed. `exception_type` names the retryable class (as RetryPolicies do), or None."""

    def __init__(self, reason: str, exception_type: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.exception_type = exception_type


@dataclass
class StepContext:
    """What a step module gets to run one attempt of one step."""

    spec: StepSpec
    arguments: dict[str, Any]
    execution_id: str
    job_name: str
    job_dir: Path
    log_path: Path
    store: Any  # ObjectStore
    registry: Any  # ModelRegistry
    condition: Callable[[Mapping[str, Any]], bool]
    region: str = "local"
    state_dir: Path | None = None
    notify: Callable[[str], None] = lambda message: None  # a message for the user while the step runs
    cancelled: Any = field(default_factory=threading.Event)  # processes.Cancellation: set when the run is stopped
    callback_answers: Mapping[str, Any] = field(default_factory=dict)  # step -> callbacks.Answer (run --callback)
    job_environment: Mapping[str, str | None] = field(default_factory=dict)  # see job_environment.job_environment


@dataclass
class StepResult:
    """A step's properties (what `Get: Steps.<name>...` reads) and, for a Condition step, its outcome."""

    properties: dict[str, Any] = field(default_factory=dict)
    outcome: bool | None = None


def module_for(step_type: str) -> ModuleType:
    """The module implementing `step_type` (imported on first use, so unused types cost nothing)."""
    return importlib.import_module(f"modelbuild.local.steps.{MODULES[step_type]}")


def check_supported(spec: PipelineSpec, stubbed: Collection[str] = ()) -> None:
    """Raise one UnsupportedStepError naming every step the engine cannot run, before anything runs.

    A step is unsupported for its type, or for what its module's `unsupported(arguments)` says (an image
    the engine cannot emulate); a stubbed step (`stubbed`) runs nothing and is never unsupported.
    """
    steps = [s for s in spec.steps.values() if s.name not in stubbed]
    unsupported = [(s.name, s.type) for s in steps if s.type not in MODULES]
    if unsupported:
        listed = ", ".join(f"{name!r} ({kind})" for name, kind in unsupported)
        advice = "; ".join(sorted({f"{kind}: {INSTEAD.get(kind, 'not emulated')}" for _, kind in unsupported}))
        raise UnsupportedStepError(
            f"the local engine cannot run step(s) {listed}",
            hint=f"Stub them with --stub STEP=FILE.json, run this pipeline with --target sagemaker, or instead: "
            f"{advice}. Supported locally: {', '.join(MODULES)}.",
        )
    reasons = []
    for step in steps:
        check = getattr(module_for(step.type), "unsupported", None)
        reason = check(step.arguments) if check else None
        if reason:
            reasons.append(f"step {step.name!r}: {reason}")
    if reasons:
        raise UnsupportedStepError("; ".join(reasons),
                                   hint="Stub them with --stub STEP=FILE.json, or run this pipeline with --target "
                                   "sagemaker.")


def check_local(spec: PipelineSpec, store: Any, skipped: Collection[str] = ()) -> None:
    """Raise one UnsupportedStepError for steps whose module finds, in the local store, that they cannot run
    (`local_problem(step, store)`: a Lambda function known only by ARN), before anything runs."""
    reasons = []
    for step in spec.steps.values():
        check = getattr(module_for(step.type), "local_problem", None) if step.name not in skipped else None
        reason = check(step, store) if check else None
        if reason:
            reasons.append(f"step {step.name!r}: {reason}")
    if reasons:
        raise UnsupportedStepError("; ".join(reasons), hint="Stub them with --stub STEP=FILE.json (the step's "
                                   "properties as SageMaker reports them), or run this pipeline with --target "
                                   "sagemaker.")

