"""Lambda step: the function's own code, run locally with the step's Arguments as the event.

A function the SDK defines from a script (`Lambda(function_name=..., script=..., handler=...)`) is
recorded by the offline build next to where the SDK keeps Lambda code: `s3://<bucket>/lambda/<name>/code`
(the zip) and `function.json` (its ARN, handler, timeout, environment); both are staged in the local
store like step code. The step finds the function by its exact FunctionArn, runs the handler in a
process of its own (`modelbuild.local.lambda_runner`) with the function's environment and timeout,
and turns the returned object into OutputParameters, checking each declared output's type as
SageMaker does. A function known only by ARN has no code here: it is refused before the run
unless mapped to local code (`run --lambda FUNCTION=PATH:HANDLER`, see `stage_local_code`) or
stubbed (`--stub STEP=FILE.json`).
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from modelbuild.errors import UsageError
from modelbuild.local.container import Job
from modelbuild.local.steps import StepContext, StepFailed, StepResult

RUNNER = "modelbuild.local.lambda_runner"
DEFAULT_TIMEOUT = 120  # seconds: the SDK's Lambda default
_TYPES: dict[str, tuple[type, ...]] = {"String": (str,), "Integer": (int,), "Float": (float, int), "Boolean": (bool,)}


def find_function(store: Any, function_arn: str) -> dict[str, Any] | None:
    """The recorded configuration of the function with this ARN in the local store, or None."""
    name = _function_name(function_arn)
    if not name:
        return None
    # A mapped function (--lambda) wins over what an earlier build recorded.
    for path in sorted(store.root.glob(f"*/lambda/{name}/function.json"),
                       key=lambda p: p.parts[-4] != LOCAL_CODE_BUCKET):
        configuration = json.loads(path.read_text(encoding="utf-8"))
        if configuration.get("FunctionArn") == function_arn:
            return configuration
    return None


LOCAL_CODE_BUCKET = "modelbuild-local-functions"  # where mapped functions are staged; never uploaded anywhere


def stage_local_code(spec: Any, mapping: Mapping[str, str], store: Any) -> None:
    """Stage local code for the Lambda functions named in `mapping`, as the offline build records a script's.

    Args:
        spec: the parsed definition.
        mapping: function ARN or name -> "PATH:HANDLER" (a .py file or a directory, and module.function).
        store: the local store.

    Raises:
        UsageError: a mapping names no Lambda step's function, or its path does not exist or has no handler.
    """
    arns = {step.raw.get("FunctionArn") for step in spec.steps.values() if step.type == "Lambda"}
    arns.discard(None)
    for function, target in mapping.items():
        matching = sorted(a for a in arns if function in (a, _function_name(a)))
        if not matching:
            raise UsageError(f"--lambda names function {function!r}, which no Lambda step calls",
                             hint="Functions: " + (", ".join(sorted(arns)) or "(no Lambda steps)"))
        path_text, _, handler = target.rpartition(":")
        path = Path(path_text)
        if not path_text or "." not in handler or not path.exists():
            raise UsageError(f"--lambda {function}={target}: expected PATH:MODULE.FUNCTION with an existing "
                             "PATH (a .py file or a directory)", hint="For example --lambda notify=lambdas/notify.py:"
                             "notify.handler")
        archive = io.BytesIO()
        with zipfile.ZipFile(archive, "w") as code:
            for file in [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file()):
                code.write(file, file.name if path.is_file() else file.relative_to(path).as_posix())
        for arn in matching:
            prefix = f"s3://{LOCAL_CODE_BUCKET}/lambda/{_function_name(arn)}"
            store.put_bytes(f"{prefix}/code", archive.getvalue())
            store.put_bytes(f"{prefix}/function.json", json.dumps({
                "FunctionName": _function_name(arn), "FunctionArn": arn, "Handler": handler,
                "CodeUri": f"{prefix}/code"}).encode())


def _function_name(arn: str) -> str:
    return arn.rpartition(":function:")[2].split(":")[0]


def known_functions(uploads: Mapping[str, bytes], store_root: Path | None) -> set[str]:
    """ARNs of the functions whose code a build recorded: in a build's uploads, or staged in a local store."""
    documents = [body for uri, body in uploads.items() if uri.endswith("/function.json")]
    if store_root is not None and store_root.is_dir():
        documents += [path.read_bytes() for path in store_root.glob("*/lambda/*/function.json")]
    return {json.loads(document).get("FunctionArn") for document in documents} - {None}


def local_problem(step: Any, store: Any) -> str | None:
    """Why this Lambda step cannot run here (its function's code is not in the store), or None."""
    arn = step.raw.get("FunctionArn")
    if not isinstance(arn, str):
        return "the Lambda step has no FunctionArn"
    if find_function(store, arn) is None:
        return (f"function {arn} is known here only by its ARN (its code was not built with "
                "Lambda(function_name=..., script=..., handler=...)); map it to local code with "
                "--lambda FUNCTION=PATH:HANDLER")
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
