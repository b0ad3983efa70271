"""Offline checks of a pipeline definition: the mistakes SageMaker would report 15 minutes into a run.

`validate_definition` reads the definition into the one model (`dsl.read_definition`, which already
reports dangling references, duplicate names, unknown condition types and cycles) and adds what
SageMaker checks, read from botocore's service models (`modelbuild.definition.service_model`): step
Arguments against the request shape of the step's job API (field names, required fields, enums such
as instance types, ranges), property references against the step's properties (its Describe*
response plus what SageMaker merges in, and the outputs the step declares), names against the
StepName / Parameter.Name patterns and the role against the RoleArn pattern; and the DSL's own rules
about PropertyFiles, Std:JsonGet, parameter types and condition operands. Every problem names the
step (None for the pipeline itself) and the JSON path below it.

`raise_for_problems` turns a non-empty list into one DefinitionError listing them all.
"""

from __future__ import annotations

import functools
import re
import warnings
from collections.abc import Iterator, Mapping
from typing import Any

from modelbuild.definition import service_model
from modelbuild.definition.dsl import (
    CONDITION_COMPARISONS,
    PARAMETER_TYPES,
    PipelineSpec,
    Problem,
    StepSpec,
    raise_for_problems,
    read_definition,
)
from modelbuild.definition.offline import PLACEHOLDER_ROLE
from modelbuild.definition.references import (
    JsonGet,
    Reference,
    Token,
    format_path,
    parse_property_path,
    parse_reference,
    walk,
)
from modelbuild.errors import DefinitionError, did_you_mean

__all__ = ["TARGETS", "Problem", "execution_variables", "raise_for_problems", "validate_definition"]

TARGETS = ("local", "sagemaker")
_ORDERING = frozenset(CONDITION_COMPARISONS) - {"Equals"}
# A parameter's DSL type -> the kind of value it holds (what a condition or a field can compare it with).
_PARAMETER_KINDS = {"String": "string", "Integer": "number", "Float": "number", "Boolean": "boolean"}
_NUMERIC_SHAPES = frozenset({"integer", "long", "float", "double"})
_SHAPE_KINDS = {
    "string": "string", "integer": "number", "long": "number", "float": "number", "double": "number",
    "boolean": "boolean", "timestamp": "string",
}


def validate_definition(definition: Mapping[str, Any] | PipelineSpec, target: str = "local",
                        role_arn: str | None = None,
                        parameter_values: Mapping[str, Any] | None = None) -> list[Problem]:
    """Check a definition offline and return every problem found (empty when it is fine).

    Args:
        definition: the definition JSON, loaded (or already read with `dsl.read_definition`).
        target: "local" or "sagemaker"; the SageMaker target also needs a valid role and steps
            that do not run as modelbuild's placeholder role.
        role_arn: the role the pipeline would be upserted with (SageMaker target).
        parameter_values: typed values one execution overrides parameters with (from
            `dsl.resolve_parameters`); checked against the fields they fill, like the defaults.

    Returns:
        The problems: first what the model of the definition found (references, cycles, ...), then
        the rest in the order of the definition.
    """
    if target not in TARGETS:
        raise ValueError(f"target should be one of {TARGETS}, got {target!r}")
    spec = definition if isinstance(definition, PipelineSpec) else read_definition(definition, _has_property)
    checker = _Checker(spec)
    if not isinstance(spec.definition.get("Steps"), list):
        return list(spec.problems)
    checker.check_parameters()
    checker.defaults.update(parameter_values or {})
    for step in spec.steps.values():
        checker.check_step(step)
    if target == "sagemaker":
        checker.check_role(role_arn)
    return [*spec.problems, *checker.problems]


class _Checker:
    def __init__(self, spec: PipelineSpec) -> None:
        self.spec = spec
        self.problems: list[Problem] = []
        self.defaults: dict[str, Any] = {}  # name -> default value, when it fits the type

    def add(self, step: str | None, path: str, message: str) -> None:
        self.problems.append(Problem(step, path, message))

    # -- parameters ---------------------------------------------------------------------------
    def check_parameters(self) -> None:
        name_shape = service_model.service_model().shape_for("Parameter").members["Name"]
        for name, parameter in self.spec.parameters.items():
            message = _pattern_problem(name_shape, name)
            if message:
                self.add(None, f"{parameter.path}.Name", f"parameter name {name!r} {message}")
            if parameter.type not in PARAMETER_TYPES:
                continue  # reported by the model
            default = parameter.default
            if default is not None and _fits(parameter.type, default):
                self.defaults.setdefault(name, default)
            elif default is not None:
                self.add(None, f"{parameter.path}.DefaultValue",
                         f"parameter {name!r} is {parameter.type} but its default {default!r} is not")
            if parameter.enum_values and default is not None and default not in parameter.enum_values:
                self.add(None, f"{parameter.path}.DefaultValue",
                         f"parameter {name!r} defaults to {default!r}, which is not one of its EnumValues")

    # -- steps --------------------------------------------------------------------------------
    def check_step(self, step: StepSpec) -> None:
        message = _pattern_problem(service_model.service_model().shape_for("StepName"), step.name)
        if message:
            self.add(step.name, "Name", f"step name {step.name!r} {message}")
        for reference in step.references:
            self.check_reference(step, reference)
        for problem in service_model.argument_problems(step.type, step.arguments):
            self.add(step.name, problem.path, problem.message)
        self.check_parameter_fields(step)
        for location, condition in step.conditions:
            self.check_condition(step, format_path(location), condition)
        self.check_property_files(step)
        for json_get in step.json_gets:
            self.check_json_get(step, json_get)

    def check_json_get(self, step: StepSpec, json_get: JsonGet) -> None:
        where = format_path(json_get.location)
        if "PropertyFile" in json_get.raw:
            reference = json_get.property_file
            reads_file = reference is not None and (reference.property_path or ("",))[0] == "PropertyFiles"
            if reference is None or reference.root != "Steps" or not reads_file:
                self.add(step.name, f"{where}.PropertyFile", "Std:JsonGet reads a PropertyFile: expected "
                         f"{{'Get': 'Steps.<step>.PropertyFiles.<name>'}}, got {json_get.raw['PropertyFile']!r}")
        elif json_get.s3_uri is None:
            self.add(step.name, where, "Std:JsonGet reads a PropertyFile ({'Get': 'Steps.<step>.PropertyFiles."
                     "<name>'}) or an S3Uri (text or an expression); it has neither")
        elif not isinstance(json_get.s3_uri, str) and not service_model.is_expression(json_get.s3_uri):
            self.add(step.name, f"{where}.S3Uri", f"should be an S3 URI or an expression, got {json_get.s3_uri!r}")
        if not isinstance(json_get.path, str):
            self.add(step.name, f"{where}.Path", f"Std:JsonGet needs the Path to read, got {json_get.path!r}")
            return
        try:
            parse_property_path(json_get.path)
        except DefinitionError as exc:
            self.add(step.name, f"{where}.Path", exc.message)

    def check_reference(self, step: StepSpec, reference: Reference) -> None:
        path = reference.where
        if reference.root == "Execution":
            if reference.name not in execution_variables():
                hint = did_you_mean(reference.name, execution_variables())
                self.add(step.name, path, f"{reference.expression!r} is not an execution variable; "
                         + (hint or "known: " + ", ".join(execution_variables())))
            return
        target = self.spec.steps.get(reference.name) if reference.root == "Steps" else None
        if target is None or target is step or reference.property_path is None:
            return  # a parameter, or a reference the model already reported
        tokens = reference.property_path
        if tokens[:1] == ("PropertyFiles",):
            self.check_property_file_reference(step, path, target, tokens[1:])
            return
        message = service_model.property_problem(target, tokens)
        if message:
            self.add(step.name, path, f"{reference.expression!r}: {message}")

    def check_property_file_reference(self, step: StepSpec, path: str, target: StepSpec,
                                      tokens: tuple[Token, ...]) -> None:
        declared = [item.get("PropertyFileName") for item in target.property_files if isinstance(item, Mapping)]
        name = tokens[0] if len(tokens) == 1 else ".".join(map(str, tokens))
        if name not in declared:
            hint = did_you_mean(str(name), declared)
            self.add(step.name, path, f"step {target.name!r} declares no PropertyFile {name!r}"
                     + (f"; {hint}" if hint else f" (it declares: {', '.join(declared) or 'none'})"))

    def check_property_files(self, step: StepSpec) -> None:
        files = step.property_files
        if files and step.type != "Processing":
            self.add(step.name, "PropertyFiles",
                     f"only Processing steps can declare PropertyFiles, not {step.type}")
            return
        config = step.arguments.get("ProcessingOutputConfig") or {}
        outputs = [item.get("OutputName") for item in config.get("Outputs", []) if isinstance(item, Mapping)]
        for index, item in enumerate(files):
            output = item.get("OutputName") if isinstance(item, Mapping) else None
            if output not in outputs:
                hint = did_you_mean(str(output), outputs)
                self.add(step.name, f"PropertyFiles[{index}].OutputName",
                         f"names output {output!r}, which the step does not have; "
                         + (hint or f"its outputs: {', '.join(map(str, outputs)) or 'none'}"))

    def check_parameter_fields(self, step: StepSpec) -> None:
        """A parameter used directly as a field's value must hold the kind of value the field takes,
        and its default value must be one the field accepts (an instance type SageMaker has, a count
        in range)."""
        if step.type not in service_model.JOB_APIS:
            return
        request = _operation_shape(step.type, "input")
        for reference in step.references:
            parameter = self.spec.parameters.get(reference.name) if reference.root == "Parameters" else None
            if parameter is None or reference.in_function or reference.location[:1] != ("Arguments",):
                continue
            shape = _shape_at(request, reference.location[1:])
            kind = _PARAMETER_KINDS.get(parameter.type)
            if shape is None or kind is None:
                continue
            field_kind = _SHAPE_KINDS.get(shape.type_name)
            # Numbers and booleans become text where a string is wanted; not the other way round.
            if field_kind and field_kind != kind and field_kind != "string":
                self.add(step.name, reference.where, f"parameter {parameter.name!r} is {parameter.type}, "
                         f"but this field takes a {field_kind}")
                continue
            message = _value_problem(shape, self.defaults.get(parameter.name))
            if message:
                self.add(step.name, reference.where,
                         f"parameter {parameter.name!r} has the value {self.defaults[parameter.name]!r}: {message}")

    # -- conditions ---------------------------------------------------------------------------
    def check_condition(self, step: StepSpec, path: str, condition: Any) -> None:
        """The operands of one condition (nested ones come as conditions of their own)."""
        kind = condition.get("Type") if isinstance(condition, Mapping) else None
        if kind == "In":
            query = self.operand_kind(condition.get("QueryValue"))
            for index, value in enumerate(condition.get("Values") or []):
                other = self.operand_kind(value)
                if query and other and query != other:
                    self.add(step.name, f"{path}.Values[{index}]",
                             f"In compares a {query} with a {other}; they can never be equal")
        elif kind in CONDITION_COMPARISONS:
            left = self.operand_kind(condition.get("LeftValue"))
            right = self.operand_kind(condition.get("RightValue"))
            if left and right and left != right:
                self.add(step.name, path, f"{kind} compares a {left} (LeftValue) with a {right} (RightValue)")
            elif kind in _ORDERING and "boolean" in (left, right):
                self.add(step.name, path, f"{kind} cannot order booleans; use Equals")

    def operand_kind(self, value: Any) -> str | None:
        """"string", "number" or "boolean" for what an operand holds; None when unknown until run time."""
        if isinstance(value, bool):
            return "boolean"
        if isinstance(value, (int, float)):
            return "number"
        if isinstance(value, str):
            return "string"
        if not isinstance(value, Mapping):
            return None
        if "Std:Join" in value:
            return "string"
        if not isinstance(value.get("Get"), str):
            return None  # Std:JsonGet: whatever the JSON file holds
        reference = parse_reference(value["Get"])
        if reference.root == "Parameters":
            parameter = self.spec.parameters.get(reference.name)
            return _PARAMETER_KINDS.get(parameter.type) if parameter else None
        if reference.root == "Execution":
            return "string"
        target = self.spec.steps.get(reference.name) if reference.root == "Steps" else None
        if target is None or not reference.property_path:
            return None
        if target.type == "Condition" and reference.property_path == ("Outcome",):
            return "boolean"
        shape = service_model.property_shape(target, reference.property_path)
        return _SHAPE_KINDS.get(shape.type_name) if shape is not None else None

    # -- role -----------------------------------------------------------------------------------
    def check_role(self, role_arn: str | None) -> None:
        if not role_arn:
            self.add(None, "RoleArn", "the SageMaker target needs the IAM role the pipeline runs as; "
                     "pass --role-arn arn:aws:iam::ACCOUNT:role/NAME")
        else:
            message = _pattern_problem(service_model.service_model().shape_for("RoleArn"), role_arn)
            if message:
                self.add(None, "RoleArn", f"role {role_arn!r} {message}")
        for step in self.spec.steps.values():
            for path, value in _strings(step.arguments):
                if value == PLACEHOLDER_ROLE:
                    self.add(step.name, path, "runs as modelbuild's placeholder role: pass --role-arn (it becomes "
                             """get_pipeline's role) or --kwargs '{"role": "arn:aws:iam::ACCOUNT:role/NAME"}'""")


def _has_property(step: StepSpec, tokens: tuple[Token, ...]) -> bool:
    """Whether `Steps.<step>.<tokens>` names something the step has (for the model's suggestions)."""
    if tokens[:1] == ("PropertyFiles",):
        declared = [item.get("PropertyFileName") for item in step.property_files if isinstance(item, Mapping)]
        return len(tokens) == 2 and tokens[1] in declared
    return service_model.property_problem(step, tokens) is None


@functools.cache
def execution_variables() -> tuple[str, ...]:
    """The names `Execution.<name>` may use, from the installed SDK's ExecutionVariables (v2 or v3)."""
    from modelbuild.definition.offline import sdk_major

    with warnings.catch_warnings():
        # Compiling the SDK without its bytecode warns about its own string escapes (a DeprecationWarning
        # the filter for sagemaker.* cannot match: compile-time warnings carry the file name, not the module).
        warnings.simplefilter("ignore", DeprecationWarning)
        if sdk_major() >= 3:
            from sagemaker.core.workflow.execution_variables import ExecutionVariables
        else:
            from sagemaker.workflow.execution_variables import ExecutionVariables

    return tuple(
        variable.name for variable in vars(ExecutionVariables).values() if hasattr(variable, "expr")
    )


def _operation_shape(step_type: str, which: str) -> Any:
    """The request ("input") or Describe* response ("output") shape of a step type's job API."""
    create, describe = service_model.JOB_APIS[step_type]
    operation = service_model.service_model().operation_model(create if which == "input" else describe)
    return operation.input_shape if which == "input" else operation.output_shape


def _fits(kind: str, value: Any) -> bool:
    if kind == "Boolean":
        return isinstance(value, bool)
    if kind == "Integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "Float":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    return isinstance(value, str)


def _pattern_problem(shape: Any, value: str) -> str | None:
    """Why `value` breaks the service model's pattern or length for `shape`, or None."""
    meta = shape.metadata
    if "max" in meta and len(value) > meta["max"]:
        return f"is {len(value)} characters long; at most {meta['max']} allowed"
    pattern = meta.get("pattern")
    if pattern and not re.fullmatch(pattern, value):
        return f"does not match SageMaker's pattern {pattern}"
    if "min" in meta and len(value) < meta["min"]:
        return f"is shorter than {meta['min']} characters"
    return None


def _value_problem(shape: Any, value: Any) -> str | None:
    """Why the service model's `shape` refuses `value` (enum or numeric range), or None; None for no value."""
    if value is None:
        return None
    enum = getattr(shape, "enum", None)  # only string shapes have one
    if enum and isinstance(value, str) and value not in enum:
        hint = did_you_mean(value, enum)
        return f"not a valid {shape.name}" + (f"; {hint}" if hint else "")
    if isinstance(value, (int, float)) and not isinstance(value, bool) and shape.type_name in _NUMERIC_SHAPES:
        meta = shape.metadata
        if "min" in meta and value < meta["min"]:
            return f"below the minimum {meta['min']} of {shape.name}"
        if "max" in meta and value > meta["max"]:
            return f"above the maximum {meta['max']} of {shape.name}"
    return None


def _strings(value: Any) -> Iterator[tuple[str, str]]:
    """(JSON path, text) of every string inside a step's arguments."""
    for tokens, item in walk(value, ("Arguments",)):
        if isinstance(item, str):
            yield format_path(tokens), item


def _shape_at(shape: Any, tokens: tuple[Token, ...]) -> Any:
    """The service-model shape at `tokens` below `shape`, or None when the path leaves the model."""
    for token in tokens:
        if shape.type_name == "structure" and isinstance(token, str) and token in shape.members:
            shape = shape.members[token]
        elif shape.type_name == "list" and isinstance(token, int):
            shape = shape.member
        elif shape.type_name == "map":
            shape = shape.value
        else:
            return None
    return shape


