"""What SageMaker accepts, read from botocore's own SageMaker service model.

A pipeline step's `Arguments` are the request of its job API (a Processing step's are a
CreateProcessingJob request) and its properties are that job's Describe* response. Checking both
against the service model that ships with botocore keeps modelbuild's checks as current as the
installed botocore, with no hand-written lists to go stale (the published pipeline JSON schema
has: it rejects PropertyFiles).

Anywhere a value stands, a pipeline expression (`{"Get": ...}`, `{"Std:Join": ...}`,
`{"Std:JsonGet": ...}`) is accepted: it is resolved at execution time.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from modelbuild.errors import did_you_mean

JOB_APIS: dict[str, tuple[str, str]] = {
    "Processing": ("CreateProcessingJob", "DescribeProcessingJob"),
    "Training": ("CreateTrainingJob", "DescribeTrainingJob"),
    "Transform": ("CreateTransformJob", "DescribeTransformJob"),
    "Model": ("CreateModel", "DescribeModel"),
    "RegisterModel": ("CreateModelPackage", "DescribeModelPackage"),
    "Tuning": ("CreateHyperParameterTuningJob", "DescribeHyperParameterTuningJob"),
    "AutoML": ("CreateAutoMLJobV2", "DescribeAutoMLJobV2"),
}
"""Step type -> (the operation its Arguments are the request of, the operation its properties come from)."""

# Step type -> the operation whose response SageMaker Pipelines merges into the step's properties.
MERGED_PROPERTIES = {"Tuning": "ListTrainingJobsForHyperParameterTuningJob"}

# The pipeline service names each job at execution time, so the SDK leaves these out of Arguments
# even where the job API requires them.
FILLED_IN_AT_EXECUTION = frozenset({
    "ProcessingJobName", "TrainingJobName", "TransformJobName", "ModelName", "ModelPackageName",
    "HyperParameterTuningJobName", "AutoMLJobName",
})

# Properties of step types that have no job API of their own.
OTHER_PROPERTIES: dict[str, frozenset[str]] = {
    "Condition": frozenset({"Outcome"}),
    "Fail": frozenset(),
    "Lambda": frozenset({"OutputParameters"}),
    "Callback": frozenset({"OutputParameters"}),
}

_PATH_TOKEN = re.compile(r"""\.?([A-Za-z_][\w]*)|\[\s*(?:'([^']*)'|"([^"]*)"|(\d+))\s*\]""")


@dataclass(frozen=True)
class ShapeProblem:
    """One place where a value does not fit the service model.

    Attributes:
        path: JSON path of the value below the step, e.g. "Arguments.ProcessingResources.ClusterConfig".
        message: what is wrong and, where possible, what would be right.
    """

    path: str
    message: str


@functools.cache
def service_model() -> Any:
    """botocore's SageMaker service model (loaded once, ~0.1 s)."""
    import botocore.session

    return botocore.session.get_session().get_service_model("sagemaker")


def enum_values(shape_name: str) -> tuple[str, ...]:
    """The allowed values of an enum shape of the service model, e.g. "TrainingInstanceType"."""
    return tuple(service_model().shape_for(shape_name).enum)


def is_expression(value: Any) -> bool:
    """True for a pipeline expression: a one-key object whose key is "Get" or a "Std:" function."""
    return isinstance(value, Mapping) and len(value) == 1 and any(
        key == "Get" or str(key).startswith("Std:") for key in value
    )


def argument_problems(step_type: str, arguments: Any) -> list[ShapeProblem]:
    """Check a step's Arguments against the request shape of its job API.

    Args:
        step_type: the step's DSL type; types without a job API (Condition, Fail, ...) are not checked.
        arguments: the step's Arguments object.

    Returns:
        Every problem found (unknown fields, missing required fields, wrong types, values outside
        an enum or a numeric range), each with its JSON path; empty when the arguments fit.
    """
    if step_type not in JOB_APIS:
        return []
    request = service_model().operation_model(JOB_APIS[step_type][0]).input_shape
    problems: list[ShapeProblem] = []
    _check(request, arguments, "Arguments", problems, top_level=True)
    return problems


def parse_property_path(path: str) -> list[str | int]:
    """Split "A.B['x'][0].C" into ["A", "B", "x", 0, "C"]; ValueError when it is not a property path."""
    tokens: list[str | int] = []
    position = 0
    while position < len(path):
        match = _PATH_TOKEN.match(path, position)
        if not match or (position == 0 and path.startswith(".")):
            raise ValueError(f"cannot read property path {path!r} at {path[position:]!r}")
        name, quoted, double_quoted, index = match.groups()
        if name is not None:
            tokens.append(name)
        elif index is not None:
            tokens.append(int(index))
        else:
            tokens.append(quoted if quoted is not None else double_quoted)
        position = match.end()
    return tokens


def property_problem(step_type: str, property_path: str) -> str | None:
    """Check the part of a `Steps.<name>.<path>` reference after the step name against the step's properties.

    Args:
        step_type: the referenced step's DSL type.
        property_path: e.g. "ProcessingOutputConfig.Outputs['train'].S3Output.S3Uri".

    Returns:
        None when a step of that type has the property (or its type is not known here), else a
        one-line message naming what is missing and, where close, what was meant.
    """
    try:
        tokens = parse_property_path(property_path)
    except ValueError as exc:
        return str(exc)
    if not tokens:
        return "the reference names a step but no property"
    if step_type in OTHER_PROPERTIES:
        allowed = OTHER_PROPERTIES[step_type]
        if tokens[0] in allowed:
            return None
        return f"a {step_type} step has no property {tokens[0]!r}" + (
            f"; it has: {', '.join(sorted(allowed))}" if allowed else ""
        )
    if step_type not in JOB_APIS:
        return None
    if step_type == "Processing" and tokens[0] == "PropertyFiles":
        return None  # declared by the step itself; the validator checks the name
    shape = service_model().operation_model(JOB_APIS[step_type][1]).output_shape
    merged = MERGED_PROPERTIES.get(step_type)
    if merged and tokens[0] not in shape.members:  # e.g. Tuning's TrainingJobSummaries
        merged_shape = service_model().operation_model(merged).output_shape
        shape = merged_shape if tokens[0] in merged_shape.members else shape
    walked = step_type
    for token in tokens:
        if shape.type_name == "structure":
            if not isinstance(token, str) or token not in shape.members:
                hint = did_you_mean(str(token), shape.members)
                return f"{walked} has no property {token!r}" + (f"; {hint}" if hint else "")
            shape = shape.members[token]
        elif shape.type_name == "list":
            shape = shape.member  # by position, or by the element's name as the service allows
        elif shape.type_name == "map":
            shape = shape.value
        else:
            return f"{walked} is a {shape.type_name}, it has no property {token!r}"
        walked = f"{walked}.{token}" if isinstance(token, str) else f"{walked}[{token!r}]"
    return None


def _check(shape: Any, value: Any, path: str, problems: list[ShapeProblem], top_level: bool = False) -> None:
    if is_expression(value):
        return
    kind = shape.type_name
    if kind == "structure":
        _check_structure(shape, value, path, problems, top_level)
    elif kind == "list":
        if not isinstance(value, list):
            problems.append(ShapeProblem(path, f"should be a list, got {_type_name(value)}"))
            return
        for index, item in enumerate(value):
            _check(shape.member, item, f"{path}[{index}]", problems)
    elif kind == "map":
        if not isinstance(value, Mapping):
            problems.append(ShapeProblem(path, f"should be an object, got {_type_name(value)}"))
            return
        for key, item in value.items():
            _check(shape.value, item, f"{path}.{key}", problems)
    else:
        message = _scalar_problem(shape, value)
        if message:
            problems.append(ShapeProblem(path, message))


def _check_structure(shape: Any, value: Any, path: str, problems: list[ShapeProblem], top_level: bool) -> None:
    if not isinstance(value, Mapping):
        problems.append(ShapeProblem(path, f"should be an object ({shape.name}), got {_type_name(value)}"))
        return
    for key, item in value.items():
        if key not in shape.members:
            hint = did_you_mean(key, shape.members)
            problems.append(ShapeProblem(
                f"{path}.{key}", f"{shape.name} has no field {key!r}" + (f"; {hint}" if hint else "")
            ))
            continue
        _check(shape.members[key], item, f"{path}.{key}", problems)
    for required in shape.required_members:
        if required not in value and not (top_level and required in FILLED_IN_AT_EXECUTION):
            problems.append(ShapeProblem(f"{path}.{required}", f"{shape.name} requires {required!r}"))


def _scalar_problem(shape: Any, value: Any) -> str | None:
    kind, meta = shape.type_name, shape.metadata
    if kind == "string":
        if not isinstance(value, str):
            return f"should be a string, got {_type_name(value)}"
        if shape.enum and value not in shape.enum:
            hint = did_you_mean(value, shape.enum)
            return f"{value!r} is not a valid {shape.name}" + (f"; {hint}" if hint else "")
        if "max" in meta and len(value) > meta["max"]:
            return f"is {len(value)} characters long, at most {meta['max']} allowed"
        return None
    if kind in ("integer", "long"):
        if isinstance(value, bool) or not isinstance(value, int):
            return f"should be an integer, got {_type_name(value)}"
        return _range_problem(value, meta)
    if kind in ("float", "double"):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return f"should be a number, got {_type_name(value)}"
        return _range_problem(value, meta)
    if kind == "boolean":
        return None if isinstance(value, bool) else f"should be true or false, got {_type_name(value)}"
    if kind == "timestamp":
        return None if isinstance(value, (str, int, float)) else f"should be a timestamp, got {_type_name(value)}"
    if kind == "blob":
        return None if isinstance(value, str) else f"should be base64 text, got {_type_name(value)}"
    return None


def _range_problem(value: float, meta: Mapping[str, Any]) -> str | None:
    if "min" in meta and value < meta["min"]:
        return f"{value} is below the minimum {meta['min']}"
    if "max" in meta and value > meta["max"]:
        return f"{value} is above the maximum {meta['max']}"
    return None


def _type_name(value: Any) -> str:
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean", type(None): "null"}.get(
        type(value), type(value).__name__
    )
