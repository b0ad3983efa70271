"""Offline checks of a pipeline definition: the mistakes SageMaker would report 15 minutes into a run.

`validate_definition` walks the definition JSON once and returns every problem it finds, each naming
the step (None for the pipeline itself) and the JSON path below it. What SageMaker accepts is read
from botocore's SageMaker service model (`modelbuild.definition.service_model`): step Arguments
against the request shape of the step's job API (field names, required fields, enums such as
instance types, ranges), property references against its Describe* response shape, names against
the StepName / Parameter.Name patterns and the role against the RoleArn pattern. The rules about
the DSL itself (references, PropertyFiles, parameter and condition types, cycles) are checked here.

`raise_for_problems` turns a non-empty list into one DefinitionError listing them all.
"""

from __future__ import annotations

import functools
import graphlib
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from modelbuild.definition import service_model
from modelbuild.definition.dsl import CONDITION_COMPARISONS, CONDITION_TYPES, PARAMETER_TYPES, referenced_step
from modelbuild.definition.offline import PLACEHOLDER_ROLE
from modelbuild.errors import DefinitionError, did_you_mean

TARGETS = ("local", "sagemaker")
_ORDERING = frozenset(CONDITION_COMPARISONS) - {"Equals"}
# A parameter's DSL type -> the kind of value it holds (what a condition or a field can compare it with).
_PARAMETER_KINDS = {"String": "string", "Integer": "number", "Float": "number", "Boolean": "boolean"}
_NUMERIC_SHAPES = frozenset({"integer", "long", "float", "double"})
_SHAPE_KINDS = {
    "string": "string", "integer": "number", "long": "number", "float": "number", "double": "number",
    "boolean": "boolean", "timestamp": "string",
}


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a definition.

    Attributes:
        step: the step's name, or None for the pipeline itself (parameters, role).
        path: JSON path below the step (or below the definition when `step` is None).
        message: what is wrong and, where possible, what would be right.
    """

    step: str | None
    path: str
    message: str

    def __str__(self) -> str:
        where = f"step {self.step!r}" if self.step else "pipeline"
        return f"{where} at {self.path}: {self.message}"

    def to_json(self) -> dict[str, Any]:
        """The problem as JSON-ready data."""
        return {"step": self.step, "path": self.path, "message": self.message}


def validate_definition(definition: Mapping[str, Any], target: str = "local", role_arn: str | None = None,
                        parameter_values: Mapping[str, Any] | None = None) -> list[Problem]:
    """Check a definition offline and return every problem found (empty when it is fine).

    Args:
        definition: the definition JSON, loaded.
        target: "local" or "sagemaker"; the SageMaker target also needs a valid role and steps
            that do not run as modelbuild's placeholder role.
        role_arn: the role the pipeline would be upserted with (SageMaker target).
        parameter_values: typed values one execution overrides parameters with (from
            `dsl.resolve_parameters`); checked against the fields they fill, like the defaults.

    Returns:
        The problems, in the order of the definition.
    """
    if target not in TARGETS:
        raise ValueError(f"target should be one of {TARGETS}, got {target!r}")
    if not isinstance(definition, Mapping) or not isinstance(definition.get("Steps"), list):
        return [Problem(None, "Steps", "the definition has no 'Steps' list")]
    checker = _Checker(definition)
    checker.check_parameters()
    checker.defaults.update(parameter_values or {})
    checker.collect_steps(definition["Steps"], "Steps", None)
    for step in checker.steps.values():
        checker.check_step(step)
    checker.check_cycles()
    if target == "sagemaker":
        checker.check_role(role_arn)
    return checker.problems


def raise_for_problems(problems: list[Problem]) -> None:
    """Raise one DefinitionError listing every problem; return quietly when there are none."""
    if not problems:
        return
    listing = "\n".join(f"  - {problem}" for problem in problems)
    count = f"{len(problems)} problem{'s' if len(problems) != 1 else ''}"
    raise DefinitionError(
        f"the definition has {count}:\n{listing}",
        hint="Fix them in the pipeline module; `modelbuild validate` re-checks offline.",
    )


@dataclass(frozen=True)
class _Step:
    name: str
    type: str
    raw: Mapping[str, Any]
    path: str  # where the step sits in the definition, e.g. "Steps[3].Arguments.IfSteps[0]"
    branch_of: str | None

    @property
    def arguments(self) -> dict[str, Any]:
        """The step's Arguments; a Condition step's without its branches (those are steps of their own)."""
        arguments = dict(self.raw.get("Arguments") or {})
        if self.type == "Condition":
            arguments.pop("IfSteps", None)
            arguments.pop("ElseSteps", None)
        return arguments


class _Checker:
    def __init__(self, definition: Mapping[str, Any]) -> None:
        self.definition = definition
        self.problems: list[Problem] = []
        self.parameters: dict[str, str] = {}  # name -> DSL type
        self.defaults: dict[str, Any] = {}  # name -> default value, when it fits the type
        self.steps: dict[str, _Step] = {}

    def add(self, step: str | None, path: str, message: str) -> None:
        self.problems.append(Problem(step, path, message))

    # -- parameters ---------------------------------------------------------------------------
    def check_parameters(self) -> None:
        name_shape = service_model.service_model().shape_for("Parameter").members["Name"]
        for index, item in enumerate(self.definition.get("Parameters") or []):
            path = f"Parameters[{index}]"
            if not isinstance(item, Mapping) or not isinstance(item.get("Name"), str):
                self.add(None, path, "a parameter needs a Name")
                continue
            name, kind = item["Name"], item.get("Type", "String")
            message = _pattern_problem(name_shape, name)
            if message:
                self.add(None, f"{path}.Name", f"parameter name {name!r} {message}")
            if name in self.parameters:
                self.add(None, f"{path}.Name", f"two parameters are named {name!r}")
            if kind not in PARAMETER_TYPES:
                hint = did_you_mean(str(kind), PARAMETER_TYPES)
                self.add(None, f"{path}.Type", f"parameter {name!r} has unknown type {kind!r}; "
                         + (hint or "known types: " + ", ".join(PARAMETER_TYPES)))
                self.parameters.setdefault(name, "String")
                continue
            self.parameters.setdefault(name, kind)
            default = item.get("DefaultValue")
            if default is not None and _fits(kind, default):
                self.defaults.setdefault(name, default)
            if default is not None and not _fits(kind, default):
                self.add(None, f"{path}.DefaultValue",
                         f"parameter {name!r} is {kind} but its default {default!r} is not")
            enum_values = item.get("EnumValues")
            if enum_values and default is not None and default not in enum_values:
                self.add(None, f"{path}.DefaultValue",
                         f"parameter {name!r} defaults to {default!r}, which is not one of its EnumValues")

    # -- steps --------------------------------------------------------------------------------
    def collect_steps(self, items: Any, path: str, branch_of: str | None) -> None:
        if not isinstance(items, list):
            self.add(branch_of, path, "should be a list of steps")
            return
        name_shape = service_model.service_model().shape_for("StepName")
        for index, item in enumerate(items):
            where = f"{path}[{index}]"
            if not isinstance(item, Mapping) or not item.get("Name") or not item.get("Type"):
                self.add(None, where, "a step needs a Name and a Type")
                continue
            name = str(item["Name"])
            message = _pattern_problem(name_shape, name)
            if message:
                self.add(name, "Name", f"step name {name!r} {message}")
            if name in self.steps:
                self.add(name, "Name", f"two steps are named {name!r} ({self.steps[name].path} and {where})")
                continue
            self.steps[name] = _Step(name, str(item["Type"]), item, where, branch_of)
            if item["Type"] == "Condition":
                arguments = item.get("Arguments") or {}
                self.collect_steps(arguments.get("IfSteps", []), f"{where}.Arguments.IfSteps", name)
                self.collect_steps(arguments.get("ElseSteps", []), f"{where}.Arguments.ElseSteps", name)

    def check_step(self, step: _Step) -> None:
        for index, target in enumerate(_depends_on(step.raw)):
            self.check_step_name(step, f"DependsOn[{index}]", str(target))
        arguments = step.arguments
        for path, reference in _gets(arguments, "Arguments"):
            self.check_reference(step, path, reference)
        for problem in service_model.argument_problems(step.type, arguments):
            self.add(step.name, problem.path, problem.message)
        self.check_parameter_fields(step, arguments)
        if step.type == "Condition":
            for index, condition in enumerate(arguments.get("Conditions") or []):
                self.check_condition(step, f"Arguments.Conditions[{index}]", condition)
        self.check_property_files(step)
        for tokens, item in _walk(arguments, ["Arguments"]):
            if isinstance(item, Mapping) and isinstance(item.get("Std:JsonGet"), Mapping):
                where = _format_path([*tokens, "Std:JsonGet", "PropertyFile"])
                self.check_json_get(step, where, item["Std:JsonGet"])

    def check_json_get(self, step: _Step, path: str, json_get: Mapping[str, Any]) -> None:
        source = json_get.get("PropertyFile")
        reference = source.get("Get") if isinstance(source, Mapping) else None
        name = referenced_step(reference) if isinstance(reference, str) else None
        if name is None or not reference[len(f"Steps.{name}"):].lstrip(".").startswith("PropertyFiles"):
            self.add(step.name, path, "Std:JsonGet reads a PropertyFile: expected "
                     f"{{'Get': 'Steps.<step>.PropertyFiles.<name>'}}, got {source!r}")

    def check_step_name(self, step: _Step, path: str, name: str) -> bool:
        if name == step.name:
            self.add(step.name, path, "a step cannot wait for itself")
            return False
        if name not in self.steps:
            hint = did_you_mean(name, self.steps)
            self.add(step.name, path, f"refers to step {name!r}, which is not in the definition"
                     + (f"; {hint}" if hint else ""))
            return False
        return True

    def check_reference(self, step: _Step, path: str, reference: str) -> None:
        root, _, rest = reference.partition(".")
        if root == "Parameters":
            if rest not in self.parameters:
                hint = did_you_mean(rest, self.parameters)
                self.add(step.name, path, f"refers to parameter {rest!r}, which is not declared"
                         + (f"; {hint}" if hint else ""))
        elif root == "Execution":
            if rest not in execution_variables():
                hint = did_you_mean(rest, execution_variables())
                self.add(step.name, path, f"{reference!r} is not an execution variable; "
                         + (hint or "known: " + ", ".join(execution_variables())))
        elif root == "Steps":
            name = referenced_step(reference)
            if name is None or not self.check_step_name(step, path, name):
                return
            property_path = reference[len(f"Steps.{name}"):].lstrip(".")
            target = self.steps[name]
            if property_path.startswith("PropertyFiles"):
                self.check_property_file_reference(step, path, target, property_path)
                return
            message = service_model.property_problem(target.type, property_path)
            if message:
                self.add(step.name, path, f"{reference!r}: {message}")
        else:
            self.add(step.name, path, f"cannot resolve {reference!r}: a reference starts with "
                     "Parameters., Steps. or Execution.")

    def check_property_file_reference(self, step: _Step, path: str, target: _Step,
                                      property_path: str) -> None:
        declared = [item.get("PropertyFileName") for item in target.raw.get("PropertyFiles") or []]
        name = property_path[len("PropertyFiles"):].lstrip(".")
        if name not in declared:
            hint = did_you_mean(name, declared)
            self.add(step.name, path, f"step {target.name!r} declares no PropertyFile {name!r}"
                     + (f"; {hint}" if hint else f" (it declares: {', '.join(declared) or 'none'})"))

    def check_property_files(self, step: _Step) -> None:
        files = step.raw.get("PropertyFiles") or []
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

    def check_parameter_fields(self, step: _Step, arguments: Mapping[str, Any]) -> None:
        """A parameter used directly as a field's value must hold the kind of value the field takes,
        and its default value must be one the field accepts (an instance type SageMaker has, a count
        in range)."""
        if step.type not in service_model.JOB_APIS:
            return
        request = _operation_shape(step.type, "input")
        for tokens, reference in _direct_gets(arguments):
            name = reference[len("Parameters."):]
            if not reference.startswith("Parameters.") or name not in self.parameters:
                continue
            shape = _shape_at(request, tokens)
            if shape is None:
                continue
            path = _format_path(["Arguments", *tokens])
            field_kind = _SHAPE_KINDS.get(shape.type_name)
            kind = _PARAMETER_KINDS[self.parameters[name]]
            # Numbers and booleans become text where a string is wanted; not the other way round.
            if field_kind and field_kind != kind and field_kind != "string":
                self.add(step.name, path, f"parameter {name!r} is {self.parameters[name]}, "
                         f"but this field takes a {field_kind}")
                continue
            message = _value_problem(shape, self.defaults.get(name))
            if message:
                self.add(step.name, path, f"parameter {name!r} has the value {self.defaults[name]!r}: {message}")

    # -- conditions ---------------------------------------------------------------------------
    def check_condition(self, step: _Step, path: str, condition: Any) -> None:
        kind = condition.get("Type") if isinstance(condition, Mapping) else None
        if kind not in CONDITION_TYPES:
            hint = did_you_mean(str(kind), CONDITION_TYPES)
            self.add(step.name, f"{path}.Type", f"unknown condition type {kind!r}; "
                     + (hint or "known: " + ", ".join(CONDITION_TYPES)))
            return
        if kind == "Not":
            self.check_condition(step, f"{path}.Expression", condition.get("Expression"))
        elif kind == "Or":
            for index, inner in enumerate(condition.get("Conditions") or []):
                self.check_condition(step, f"{path}.Conditions[{index}]", inner)
        elif kind == "In":
            query = self.operand_kind(condition.get("QueryValue"))
            for index, value in enumerate(condition.get("Values") or []):
                other = self.operand_kind(value)
                if query and other and query != other:
                    self.add(step.name, f"{path}.Values[{index}]",
                             f"In compares a {query} with a {other}; they can never be equal")
        else:
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
        reference = value.get("Get")
        if not isinstance(reference, str):
            return None  # Std:JsonGet: whatever the JSON file holds
        root, _, rest = reference.partition(".")
        if root == "Parameters":
            return _PARAMETER_KINDS.get(self.parameters.get(rest, ""))
        if root == "Execution":
            return "string"
        name = referenced_step(reference)
        if root == "Steps" and name in self.steps:
            return _property_kind(self.steps[name].type, reference[len(f"Steps.{name}"):].lstrip("."))
        return None

    # -- graph and role -----------------------------------------------------------------------
    def check_cycles(self) -> None:
        graph: dict[str, set[str]] = {}
        for step in self.steps.values():
            upstream = set(_depends_on(step.raw))
            upstream |= {referenced_step(reference) for _, reference in _gets(step.arguments, "")}
            if step.branch_of:
                upstream.add(step.branch_of)
            graph[step.name] = {name for name in upstream if name in self.steps and name != step.name}
        try:
            tuple(graphlib.TopologicalSorter(graph).static_order())
        except graphlib.CycleError as exc:
            cycle = list(reversed(exc.args[1]))
            self.add(cycle[0], "DependsOn", "the steps form a cycle: " + " -> ".join(cycle))

    def check_role(self, role_arn: str | None) -> None:
        if not role_arn:
            self.add(None, "RoleArn", "the SageMaker target needs the IAM role the pipeline runs as; "
                     "pass --role-arn arn:aws:iam::ACCOUNT:role/NAME")
        else:
            message = _pattern_problem(service_model.service_model().shape_for("RoleArn"), role_arn)
            if message:
                self.add(None, "RoleArn", f"role {role_arn!r} {message}")
        for step in self.steps.values():
            for path, value in _strings(step.arguments, "Arguments"):
                if value == PLACEHOLDER_ROLE:
                    self.add(step.name, path, "runs as modelbuild's placeholder role: pass --role-arn (it becomes "
                             """get_pipeline's role) or --kwargs '{"role": "arn:aws:iam::ACCOUNT:role/NAME"}'""")


@functools.cache
def execution_variables() -> tuple[str, ...]:
    """The names `Execution.<name>` may use, from the installed SDK's ExecutionVariables (v2 or v3)."""
    from modelbuild.definition.offline import sdk_major

    if sdk_major() >= 3:
        from sagemaker.core.workflow.execution_variables import ExecutionVariables
    else:
        from sagemaker.workflow.execution_variables import ExecutionVariables

    return tuple(
        variable.name for variable in vars(ExecutionVariables).values() if hasattr(variable, "expr")
    )


def _depends_on(raw: Mapping[str, Any]) -> list[str]:
    """A step's DependsOn names (plain names, or {"Step": name} entries)."""
    entries = raw.get("DependsOn") or []
    return [entry.get("Step") if isinstance(entry, Mapping) else entry for entry in entries]


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


def _format_path(tokens: list[str | int]) -> str:
    text = ""
    for token in tokens:
        text += f"[{token}]" if isinstance(token, int) else (f".{token}" if text else str(token))
    return text


def _walk(value: Any, tokens: list[str | int]) -> Iterator[tuple[list[str | int], Any]]:
    yield tokens, value
    if isinstance(value, Mapping):
        if service_model.is_expression(value) and "Get" in value:
            return
        for key, item in value.items():
            yield from _walk(item, [*tokens, key])
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _walk(item, [*tokens, index])


def _gets(value: Any, root: str) -> Iterator[tuple[str, str]]:
    """(JSON path, reference) of every `Get` inside `value`, including inside Std:Join / Std:JsonGet."""
    for tokens, item in _walk(value, [root] if root else []):
        if isinstance(item, Mapping) and isinstance(item.get("Get"), str) and len(item) == 1:
            yield _format_path(tokens), item["Get"]


def _direct_gets(arguments: Any) -> Iterator[tuple[list[str | int], str]]:
    """(path tokens, reference) of each `Get` standing directly as a field's value (not inside a function)."""
    for tokens, item in _walk(arguments, []):
        inside_function = any(isinstance(token, str) and token.startswith("Std:") for token in tokens)
        is_get = isinstance(item, Mapping) and isinstance(item.get("Get"), str) and len(item) == 1
        if is_get and not inside_function:
            yield tokens, item["Get"]


def _strings(value: Any, root: str) -> Iterator[tuple[str, str]]:
    for tokens, item in _walk(value, [root]):
        if isinstance(item, str):
            yield _format_path(tokens), item


def _shape_at(shape: Any, tokens: list[str | int]) -> Any:
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


def _property_kind(step_type: str, property_path: str) -> str | None:
    if step_type == "Condition" and property_path == "Outcome":
        return "boolean"
    if step_type not in service_model.JOB_APIS or property_path.startswith("PropertyFiles"):
        return None
    try:
        tokens = service_model.parse_property_path(property_path)
    except ValueError:
        return None
    output = _operation_shape(step_type, "output")
    # Lists are indexed by position or by the element's name, so any token steps into the member.
    shape = output
    for token in tokens:
        if shape.type_name == "structure" and isinstance(token, str) and token in shape.members:
            shape = shape.members[token]
        elif shape.type_name == "list":
            shape = shape.member
        elif shape.type_name == "map":
            shape = shape.value
        else:
            return None
    return _SHAPE_KINDS.get(shape.type_name)
