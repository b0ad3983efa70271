"""Lambda step: the function's own code, run locally with the step's Arguments as the event.

A function the SDK defines from a script (`Lambda(function_name=..., script=..., handler=...)`) is
recorded by the offline build next to where the SDK keeps Lambda code: `s3://<bucket>/lambda/<name>/code`
(the zip) and `function.json` (its ARN, handler, timeout, environment); both are staged in the local
store like step code. The step finds the function by its exact FunctionArn, runs the handler in a
process of its own (`modelbuild.local.lambda_runner`) with the function's environment and timeout,
and turns the returned object into OutputParameters, checking each declared output's type as
SageMaker does. A function known only by ARN has no code here: it is refused before the run
unless stubbed (`--stub STEP=FILE.json`).
"""

from __future__ import annotations

import json
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from modelbuild.local.container import Job
from modelbuild.local.steps import StepContext, StepFailed, StepResult

RUNNER = "modelbuild.local.lambda_runner"
DEFAULT_TIMEOUT = 120  # seconds: the SDK's Lambda default
_TYPES: dict[str, tuple[type, ...]] = {"String": (str,), "Integer": (int,), "Float": (float, int), "Boolean": (bool,)}


def find_function(store: Any, function_arn: str) -> dict[str, Any] | None:
    """The recorded configuration of the function with this ARN in the local store, or None."""
    name = function_arn.rpartition(":function:")[2].split(":")[0]
    if not name:
        return None
    for path in sorted(store.root.glob(f"*/lambda/{name}/function.json")):
        configuration = json.loads(path.read_text(encoding="utf-8"))
        if configuration.get("FunctionArn") == function_arn:
            return configuration
    return None


def local_problem(step: Any, store: Any) -> str | None:
    """Why this Lambda step cannot run here (its function's code is not in the store), or None."""
    arn = step.raw.get("FunctionArn")
    if not isinstance(arn, str):
        return "the Lambda step has no FunctionArn"
    if find_function(store, arn) is None:
        return (f"function {arn} is known here only by its ARN (its code was not built with "
                "Lambda(function_name=..., script=..., handler=...))")
    return None


def describe(arguments: Mapping[str, Any]) -> str:
    """How the engine runs Lambda steps, for `validate --target local`."""
    return ("the function's handler runs locally when the build defined it from a script (Lambda(script=...)); "
            "a function known only by ARN needs --stub")


def run(ctx: StepContext) -> StepResult:
    """Invoke the function with the step's arguments; its returned keys become OutputParameters."""
    arn = ctx.spec.raw["FunctionArn"]
    function = find_function(ctx.store, arn)
    if function is None:
        raise StepFailed(f"function {arn} has no code in the local store")
    job = Job(ctx.job_dir, ctx.log_path)
    code = job.dir / "code"
    with zipfile.ZipFile(ctx.store.path(function["CodeUri"])) as archive:
        archive.extractall(code)
    (job.dir / "event.json").write_text(json.dumps(ctx.arguments))
    result_file = job.dir / "result.json"
    timeout = float(function.get("Timeout") or DEFAULT_TIMEOUT)
    environment = (function.get("Environment") or {}).get("Variables") or {}
    command = ["python3", "-m", RUNNER, str(code), function.get("Handler") or "lambda_function.lambda_handler",
               str(job.dir / "event.json"), str(result_file), function["FunctionName"], str(timeout)]
    try:
        job.run(command, {"AWS_LAMBDA_FUNCTION_NAME": function["FunctionName"], **environment}, timeout)
    except StepFailed as exc:
        error = _read(result_file)
        if isinstance(error, dict) and "errorType" in error:
            raise StepFailed(f"function {function['FunctionName']} raised {error['errorType']}: "
                             f"{error['errorMessage']} (log: {ctx.log_path})") from exc
        raise
    return StepResult({"OutputParameters": output_parameters(ctx.spec.raw.get("OutputParameters") or [],
                                                             _read(result_file))})


def output_parameters(declared: list[Mapping[str, Any]], result: Any) -> list[dict[str, Any]]:
    """The declared outputs' values from the function's result, each of its declared type.

    Raises:
        StepFailed: the result is not a JSON object, lacks a declared output, or holds one of another type.
    """
    if declared and not isinstance(result, dict):
        raise StepFailed(f"the function returned {type(result).__name__}, not an object with the outputs "
                         f"{', '.join(d['OutputName'] for d in declared)}")
    outputs = []
    for item in declared:
        name, kind = item["OutputName"], item.get("OutputType") or "String"
        if name not in result:
            raise StepFailed(f"the function's result has no output {name!r} (it returned keys: "
                             f"{', '.join(map(repr, result)) or 'none'})")
        value = result[name]
        if not isinstance(value, _TYPES[kind]) or (kind in ("Integer", "Float") and isinstance(value, bool)):
            raise StepFailed(f"output {name!r} is declared {kind}, but the function returned {value!r}")
        outputs.append({"Name": name, "Value": value})
    return outputs


def _read(path: Path) -> Any:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None
