"""What the local engine would do with each step of a definition, before a run finds out (`validate --target local`).

Each step is one of:
- `emulated`: the engine runs it (how, in the detail);
- `stubbed`: a stub file given with --stub stands in for it;
- `stub needed`: its type does not run here (EMR, AutoML, QualityCheck, ...): stub it or run on SageMaker;
- `refused`: its type runs here, but not with these arguments (the detail says why): stub it, change it,
  or run on SageMaker.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from modelbuild.definition.dsl import PipelineSpec
from modelbuild.local.steps import INSTEAD, MODULES, module_for

EMULATED, STUBBED, STUB_NEEDED, REFUSED = "emulated", "stubbed", "stub needed", "refused"
BLOCKING = (STUB_NEEDED, REFUSED)
_HOW = {
    "Processing": "the entrypoint runs as a local process, /opt/ml/processing mapped to a job directory",
    "Training": "built-in XGBoost emulated with the xgboost package, or script mode run as a local process",
    "Tuning": "training jobs proposed by the strategy, each run as a Training step",
    "Transform": "batch transform with the built-in XGBoost model (text/csv, SplitType Line)",
    "Model": "model recorded in the local registry",
    "RegisterModel": "model package version added to the local registry",
    "Condition": "conditions evaluated",
    "Fail": "ends the execution Failed",
}


@dataclass(frozen=True)
class StepSupport:
    """How the local engine handles one step."""

    step: str
    type: str
    how: str
    detail: str

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return dict(self.__dict__)


def local_support(spec: PipelineSpec, stubs: Mapping[str, Any] | None = None,
                  functions: Collection[str] | None = None) -> list[StepSupport]:
    """Each step of `spec`, in run order, with what the local engine would do with it.

    Args:
        spec: the parsed definition.
        stubs: step name -> stub file, as `run --stub` would get them.
        functions: ARNs and names of the Lambda functions with local code (recorded by the build, staged in
            the store, or mapped with --lambda); None when unknown (Lambda steps are then taken as runnable).
    """
    stubs = stubs or {}
    found = []
    for name in spec.order:
        step = spec.steps[name]
        if name in stubs:
            found.append(StepSupport(name, step.type, STUBBED, f"properties from {stubs[name]}"))
            continue
        if step.type not in MODULES:
            advice = INSTEAD.get(step.type, "not emulated")
            found.append(StepSupport(name, step.type, STUB_NEEDED,
                                     f"{step.type} steps do not run locally: --stub {name}=FILE.json, or {advice}"))
            continue
        module = module_for(step.type)
        reason = module.unsupported(step.arguments) if hasattr(module, "unsupported") else None
        arn = step.raw.get("FunctionArn")
        if step.type == "Lambda" and functions is not None and arn not in functions and (
                not isinstance(arn, str) or arn.rpartition(":function:")[2].split(":")[0] not in functions):
            found.append(StepSupport(name, step.type, STUB_NEEDED,
                                     f"function {arn} is known here only by its ARN: --lambda FUNCTION=PATH:HANDLER "
                                     f"runs local code for it, or --stub {name}=FILE.json"))
            continue
        if reason:
            found.append(StepSupport(name, step.type, REFUSED, reason))
        else:
            describe = getattr(module, "describe", None)
            found.append(StepSupport(name, step.type, EMULATED,
                                     describe(step.arguments) if describe else _HOW.get(step.type, "")))
    return found
