"""What SageMaker accepts, read from botocore's own service models.

A pipeline step's `Arguments` are the request of its job API (a Processing step's are a
CreateProcessingJob request) and its properties are what the SDK's `Properties` for that step type
say: the job's Describe* response, plus the responses SageMaker merges in (a Tuning step's
ListTrainingJobsForHyperParameterTuningJob) and the names the SDK adds by hand (`STEP_PROPERTIES`,
checked against the SDK by tests/definition/test_properties.py). Checking against the service models
that ship with botocore keeps modelbuild's checks as current as the installed botocore (the published
pipeline JSON schema has gone stale: it rejects PropertyFiles). Where a step's request lists named
items (outputs, channels), a property path that picks one by name must use a name the step declares.

Anywhere a value stands, a pipeline expression (`{"Get": ...}`, `{"Std:Join": ...}`,
`{"Std:JsonGet": ...}`) is accepted: it is resolved at execution time.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from modelbuild.definition.dsl import StepSpec
from modelbuild.definition.references import Token, parse_property_path
from modelbuild.errors import DefinitionError, did_you_mean

JOB_APIS: dict[str, tuple[str, str]] = {
    "Processing": ("CreateProcessingJob", "DescribeProcessingJob"),
    "Training": ("CreateTrainingJob", "DescribeTrainingJob"),
    "Transform": ("CreateTransformJob", "DescribeTransformJob"),
    "Model": ("CreateModel", "DescribeModel"),
    "RegisterModel": ("CreateModelPackage", "DescribeModelPackage"),
    "Tuning": ("CreateHyperParameterTuningJob", "DescribeHyperParameterTuningJob"),
    # AutoMLStep's arguments are a CreateAutoMLJob request (automl.fit() calls create_auto_ml_job), not V2's.
    "AutoML": ("CreateAutoMLJob", "DescribeAutoMLJob"),
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

DECLARED_OUTPUTS = "declared outputs"
"""In `StepProperties.extra`: keyed by the names the step declares in its OutputParameters, then nothing."""
ANYTHING = "anything"
"""In `StepProperties.extra`: any path below is accepted (the service fills it in)."""


@dataclass(frozen=True)
class StepProperties:
    """What `Steps.<name>.<path>` may read on a step of one type, as the pinned SDK's `Properties` say.

    Attributes:
        service: the botocore service whose shapes describe the properties.
        shapes: the response shapes merged at the root (a Tuning step's are the
            DescribeHyperParameterTuningJob and ListTrainingJobsForHyperParameterTuningJob responses).
        extra: root properties the SDK adds by hand: name -> None (a value), a dict of the names below
            it, DECLARED_OUTPUTS or ANYTHING.
    """

    service: str = "sagemaker"
    shapes: tuple[str, ...] = ()
    extra: Mapping[str, Any] = field(default_factory=dict)


# Read from the pinned SDK's step classes (sagemaker/mlops/workflow/*_step.py and steps.py), each setting
# `self._properties = Properties(shape_name(s)=...)` and adding names by hand; tests/definition/
# test_properties.py checks this table against the SDK's own Properties objects.
_CHECK_BASELINES = ("CalculatedBaselineConstraints", "BaselineUsedForDriftCheckConstraints")
STEP_PROPERTIES: dict[str, StepProperties] = {
    "Processing": StepProperties(shapes=("DescribeProcessingJobResponse",)),
    # Plain training steps, @step functions and NotebookJobStep (a Training step with six more names).
    "Training": StepProperties(shapes=("DescribeTrainingJobResponse",), extra=dict.fromkeys((
        "ComputingJobName", "ComputingJobStatus", "NotebookJobInputLocation", "NotebookJobOutputLocationPrefix",
        "InputNotebookName", "OutputNotebookName",
    ))),
    "Transform": StepProperties(shapes=("DescribeTransformJobResponse",)),
    "Model": StepProperties(shapes=("DescribeModelOutput",)),
    "RegisterModel": StepProperties(shapes=("DescribeModelPackageOutput",)),
    "Tuning": StepProperties(shapes=(
        "DescribeHyperParameterTuningJobResponse", "ListTrainingJobsForHyperParameterTuningJobResponse",
    )),
    "AutoML": StepProperties(shapes=("DescribeAutoMLJobResponse",), extra={
        "BestCandidateProperties": dict.fromkeys(("ModelInsightsJsonReportPath", "ExplainabilityJsonReportPath")),
    }),
    "EMR": StepProperties(service="emr", shapes=("Step",)),
    "EMRServerless": StepProperties(service="emr-serverless", shapes=("GetJobRunResponse",)),
    "EndpointConfig": StepProperties(shapes=("DescribeEndpointConfigOutput",)),
    "Endpoint": StepProperties(shapes=("DescribeEndpointOutput",)),
    "InferenceComponent": StepProperties(shapes=("DescribeInferenceComponentOutput",)),
    # JobConfigDocument is a JSON string the service parses lazily: the SDK lets references descend into it.
    "Job": StepProperties(shapes=("DescribeJobResponse",), extra={"JobConfigDocument": ANYTHING}),
    "Condition": StepProperties(extra={"Outcome": None}),
    "Fail": StepProperties(),
    "Lambda": StepProperties(extra={"OutputParameters": DECLARED_OUTPUTS}),
    "Callback": StepProperties(extra={"OutputParameters": DECLARED_OUTPUTS}),
    "QualityCheck": StepProperties(extra=dict.fromkeys((
        *_CHECK_BASELINES, "CalculatedBaselineStatistics", "BaselineUsedForDriftCheckStatistics",
    ))),
    "ClarifyCheck": StepProperties(extra=dict.fromkeys(_CHECK_BASELINES)),
    "Lineage": StepProperties(extra={"Associations": ANYTHING}),
}
"""Step type -> its properties. Types missing here (ForEach, Cleanup, ...) are not checked."""


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
def service_model(service: str = "sagemaker") -> Any:
    """botocore's service model of `service` (loaded once, ~0.1 s for SageMaker's)."""
    import botocore.session

    return botocore.session.get_session().get_service_model(service)


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


def property_names(step: StepSpec | str) -> list[str]:
    """The names `Steps.<step>.<name>` may start with, for a step (or a step type); empty when not checked."""
    table = STEP_PROPERTIES.get(step if isinstance(step, str) else step.type)
    if table is None:
        return []
    names = dict.fromkeys(table.extra)
    for shape_name in table.shapes:
        names.update(dict.fromkeys(service_model(table.service).shape_for(shape_name).members))
    if step == "Processing" or getattr(step, "type", None) == "Processing":
        names["PropertyFiles"] = None
    return list(names)


def property_problem(step: StepSpec | str, property_path: str | tuple[Token, ...]) -> str | None:
    """Check the part of a `Steps.<name>.<path>` reference after the step name against the step's properties.

    Args:
        step: the referenced step (its declared outputs are checked too), or only its DSL type.
        property_path: e.g. "ProcessingOutputConfig.Outputs['train'].S3Output.S3Uri", or its tokens.

    Returns:
        None when a step of that type has the property (or its type is not checked here), else a
        one-line message naming what is missing and, where one is close, what was meant.
    """
    step_type = step if isinstance(step, str) else step.type
    table = STEP_PROPERTIES.get(step_type)
    if table is None:
        return None
    try:
        tokens = parse_property_path(property_path) if isinstance(property_path, str) else property_path
    except DefinitionError as exc:
        return exc.message
    if not tokens:
        return "the reference names a step but no property"
    first = tokens[0]
    if step_type == "Processing" and first == "PropertyFiles":
        return None  # declared by the step itself; the validator checks the name
    if first in table.extra:
        return _extra_problem(step, table.extra, tokens, step_type)
    shape = _root_shape(table, first)
    if shape is not None:
        return _walk_shape(shape, tokens, step_type, None if isinstance(step, str) else step.arguments)[0]
    names = property_names(step)
    hint = did_you_mean(str(first), names)
    listing = "" if hint or len(names) > 12 else f"; it has: {', '.join(names) or 'none'}"
    return f"{step_type} has no property {first!r}" + (f"; {hint}" if hint else listing)


def _extra_problem(step: StepSpec | str, below: Any, tokens: tuple[Token, ...], walked: str) -> str | None:
    """Follow `tokens` through the names the SDK adds by hand (see `StepProperties.extra`)."""
    for position, token in enumerate(tokens):
        if below is ANYTHING:
            return None
        if below is DECLARED_OUTPUTS:
            if isinstance(step, str):
                return None
            declared, rest = _declared_outputs(step), tokens[position + 1:]
            if token not in declared:
                hint = did_you_mean(str(token), declared)
                return f"{walked} has no output {token!r}; " + (
                    hint or f"the step declares: {', '.join(declared) or 'none'}")
            return f"{walked}[{token!r}] is a value, it has no property {rest[0]!r}" if rest else None
        if not isinstance(below, Mapping):
            return f"{walked} is a value, it has no property {token!r}"
        if token not in below:
            hint = did_you_mean(str(token), below)
            return f"{walked} has no property {token!r}" + (f"; {hint}" if hint else "")
        below = below[token]
        walked = f"{walked}.{token}" if isinstance(token, str) else f"{walked}[{token!r}]"
    return None


def property_shape(step: StepSpec | str, tokens: tuple[Token, ...]) -> Any:
    """The service-model shape a valid property path of a step ends at; None when it is none of the
    response shapes' (a name the SDK adds by hand, PropertyFiles) or is not valid."""
    table = STEP_PROPERTIES.get(step if isinstance(step, str) else step.type)
    shape = _root_shape(table, tokens[0]) if table is not None and tokens else None
    if shape is None:
        return None
    problem, found = _walk_shape(shape, tokens, "", None)
    return None if problem else found


def _root_shape(table: StepProperties, name: Token) -> Any:
    """The first of the table's response shapes that has member `name`, or None."""
    for shape_name in table.shapes:
        shape = service_model(table.service).shape_for(shape_name)
        if isinstance(name, str) and name in shape.members:
            return shape
    return None


def _declared_outputs(step: StepSpec) -> list[str]:
    """The OutputName of each of a Lambda or Callback step's OutputParameters."""
    return [str(item.get("OutputName")) for item in step.raw.get("OutputParameters") or [] if isinstance(item, Mapping)]


def _walk_shape(shape: Any, tokens: tuple[Token, ...], walked: str, arguments: Any) -> tuple[str | None, Any]:
    """(None, the shape at the end of `tokens`) or (why the path leaves the shape, None)."""
    # `arguments` follows the same tokens through the step's request, which the Describe response echoes:
    # where the request lists named items (outputs, channels), a name must be one of them.
    for token in tokens:
        if shape.type_name == "structure":
            if not isinstance(token, str) or token not in shape.members:
                hint = did_you_mean(str(token), shape.members)
                return f"{walked} has no property {token!r}" + (f"; {hint}" if hint else ""), None
            shape = shape.members[token]
            arguments = arguments.get(token) if isinstance(arguments, Mapping) else None
        elif shape.type_name == "list":
            shape = shape.member  # by position, or by the element's name as the service allows
            if isinstance(token, str) and _literal_names(arguments) is not None:
                names = _literal_names(arguments)
                if token not in names:
                    hint = did_you_mean(token, names)
                    return f"{walked} has no item named {token!r}; " + (
                        hint or f"the step declares: {', '.join(names) or 'none'}"), None
            arguments = _item(arguments, token)
        elif shape.type_name == "map":
            shape = shape.value
            arguments = arguments.get(token) if isinstance(arguments, Mapping) else None
        else:
            return f"{walked} is a {shape.type_name}, it has no property {token!r}", None
        walked = f"{walked}.{token}" if isinstance(token, str) else f"{walked}[{token!r}]"
    return None, shape


def _literal_names(items: Any) -> list[str] | None:
    """The names of a request's list of named items (OutputName, ChannelName, ...); None unless all are literal."""
    if not isinstance(items, list) or not items:
        return None
    names = []
    for item in items:
        if not isinstance(item, Mapping) or is_expression(item):
            return None
        found = [(key, value) for key, value in item.items() if key.endswith("Name")]
        if not found or any(not isinstance(value, str) for _, value in found):
            return None
        names += [value for _, value in found]
    return names


def _item(items: Any, token: Token) -> Any:
    if not isinstance(items, list):
        return None
    if isinstance(token, int):
        return items[token] if -len(items) <= token < len(items) else None
    return next((item for item in items if isinstance(item, Mapping) and token in item.values()), None)


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
