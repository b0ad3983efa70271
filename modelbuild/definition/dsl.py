"""The one parsed model of a SageMaker Pipelines definition: parameters, steps, references and the step graph.

Everything that reads a definition reads it through `read_definition` (or its strict form
`parse_definition`): `validate`, `diff`, `graph`, the SageMaker target and the local engine. So there is
one place that knows the DSL's shape:

- one flattening of condition branches: every step, wherever it sits, becomes a `StepSpec` with its
  JSON path in the definition ("Steps[2].Arguments.IfSteps[0]") and the branch it belongs to;
- one walk of each step's arguments (`modelbuild.definition.references`): every `Get` becomes a
  `Reference` (where it sits below the step, what it reads, parsed with the one property-path grammar),
  every `Std:JsonGet` a `JsonGet` (both forms: PropertyFile and S3Uri), and conditions are read as one
  tree (a `Not` holds its condition under "Condition", as the SDK writes it, or "Expression");
- one step graph (DependsOn, data references and the enclosing condition) and one cycle detection.

`read_definition` never raises for what is wrong inside the definition: it records each structural
problem (a dangling reference, a cycle, an unknown condition type, ...) as a `Problem` with the step and
the JSON path, so `validate` can list them all; `parse_definition` raises them as one DefinitionError.
`resolve_parameters` checks NAME=VALUE overrides against the declared parameters and their types.
"""

from __future__ import annotations

import graphlib
import json
import math
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from modelbuild.definition.references import (
    JsonGet,
    Reference,
    Token,
    find_json_gets,
    find_references,
    format_path,
    iter_conditions,
)
from modelbuild.definition.references import iter_gets as iter_gets  # noqa: F401 - dsl's names before the split
from modelbuild.definition.references import referenced_step as referenced_step  # noqa: F401
from modelbuild.errors import BadParameterValueError, DefinitionError, UsageError, did_you_mean

PARAMETER_TYPES = ("String", "Integer", "Float", "Boolean")
MAX_PARAMETER_VALUE = 1024  # the pipeline API's Parameter.Value (String1024)
CONDITION_COMPARISONS = (
    "Equals",
    "GreaterThan",
    "GreaterThanOrEqualTo",
    "LessThan",
    "LessThanOrEqualTo",
)
CONDITION_TYPES = (*CONDITION_COMPARISONS, "In", "Not", "Or")
@dataclass(frozen=True)
class Problem:
    """One thing wrong with a definition.

    Attributes:
        step: the step's name, or None for the pipeline itself (parameters, role).
        path: JSON path below the step (or below the definition when `step` is None).
        message: what is wrong and, where possible, what would be right.
        hint: the suggestion alone (also part of `message`), for a one-problem error's hint.
    """

    step: str | None
    path: str
    message: str
    hint: str | None = field(default=None, compare=False, repr=False)

    def __str__(self) -> str:
        where = f"step {self.step!r}" if self.step else "pipeline"
        return f"{where} at {self.path}: {self.message}"

    def to_json(self) -> dict[str, Any]:
        """The problem as JSON-ready data."""
        return {"step": self.step, "path": self.path, "message": self.message}


def raise_for_problems(problems: list[Problem] | tuple[Problem, ...]) -> None:
    """Raise one DefinitionError listing every problem; return quietly when there are none."""
    if not problems:
        return
    if len(problems) == 1:
        (problem,) = problems
        raise DefinitionError(f"the definition is invalid: {problem}",
                              hint=problem.hint or "Fix it in the pipeline module; `modelbuild validate` re-checks "
                              "offline.")
    listing = "\n".join(f"  - {problem}" for problem in problems)
    raise DefinitionError(
        f"the definition has {len(problems)} problems:\n{listing}",
        hint="Fix them in the pipeline module; `modelbuild validate` re-checks offline.",
    )


@dataclass(frozen=True)
class Parameter:
    """A declared pipeline parameter: name, DSL type, default (None when it has none) and enum values."""

    name: str
    type: str
    default: Any = None
    enum_values: tuple[str, ...] = ()
    path: str = ""  # where it is declared, e.g. "Parameters[1]"


@dataclass(frozen=True)
class StepSpec:
    """One step of a definition, flattened out of any condition branch it sits in.

    Attributes:
        name: the step's name.
        type: its DSL type ("Processing", "Training", "Condition", ...).
        arguments: its Arguments; for a Condition step only its Conditions (branches are steps of their own).
        depends_on: names from DependsOn (plain names and {"Step": name} entries).
        data_dependencies: names of steps whose properties the arguments or conditions reference.
        parameters_used: names of the parameters the step references.
        branch_of: (condition step name, True for IfSteps / False for ElseSteps) or None.
        raw: the step's JSON object as written.
        path: where the step sits in the definition, e.g. "Steps[3].Arguments.IfSteps[0]".
        references: every `Get` in its arguments, with where it sits.
        json_gets: every `Std:JsonGet` in its arguments.
    """

    name: str
    type: str
    arguments: Mapping[str, Any]
    depends_on: tuple[str, ...] = ()
    data_dependencies: tuple[str, ...] = ()
    parameters_used: tuple[str, ...] = ()
    branch_of: tuple[str, bool] | None = None
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False)
    path: str = ""
    references: tuple[Reference, ...] = field(default=(), repr=False)
    json_gets: tuple[JsonGet, ...] = field(default=(), repr=False)

    @property
    def upstream(self) -> tuple[str, ...]:
        """Every step this one waits for: DependsOn, data references and its enclosing condition."""
        names = dict.fromkeys((*self.depends_on, *self.data_dependencies))
        if self.branch_of:
            names[self.branch_of[0]] = None
        return tuple(names)

    @property
    def cache_config(self) -> Mapping[str, Any] | None:
        """The step's CacheConfig, or None."""
        return self.raw.get("CacheConfig")

    @property
    def retry_policies(self) -> list[Mapping[str, Any]]:
        """The step's RetryPolicies (possibly empty)."""
        return list(self.raw.get("RetryPolicies") or [])

    @property
    def property_files(self) -> list[Mapping[str, Any]]:
        """The step's PropertyFiles (possibly empty)."""
        return list(self.raw.get("PropertyFiles") or [])

    @property
    def conditions(self) -> list[tuple[tuple[Token, ...], Any]]:
        """A Condition step's conditions, nested ones included, with their paths (empty for other types)."""
        if self.type != "Condition":
            return []
        return list(iter_conditions(self.arguments.get("Conditions") or [], ("Arguments", "Conditions")))

    def flat(self) -> dict[str, Any]:
        """The step's JSON as one step of a flat list: a condition without its branches, a branch step
        with a "Branch" field ("CheckMse if true")."""
        step = dict(self.raw)
        if self.type == "Condition":
            step["Arguments"] = dict(self.arguments)
        if self.branch_of:
            step["Branch"] = f"{self.branch_of[0]} if {'true' if self.branch_of[1] else 'false'}"
        return step


@dataclass(frozen=True)
class PipelineSpec:
    """A parsed definition.

    Attributes:
        parameters: declared parameters by name.
        steps: every step by name (condition branches flattened), in the definition's order.
        order: the steps in a valid run order (the definition's order when they form a cycle).
        definition: the definition JSON as loaded.
        problems: what is structurally wrong (empty for a definition that `parse_definition` accepts).
    """

    parameters: Mapping[str, Parameter]
    steps: Mapping[str, StepSpec]
    order: tuple[str, ...]
    definition: Mapping[str, Any] = field(repr=False)
    problems: tuple[Problem, ...] = ()


def load_definition_text(text: str, source: str = "the definition") -> dict[str, Any]:
    """`json.loads` of a definition, as a DefinitionError naming `source` when it is not a JSON object."""
    try:
        definition = json.loads(text)
    except ValueError as exc:
        raise DefinitionError(f"{source} is not valid JSON: {exc}",
                              hint="Write it with `modelbuild get-definition --file-name FILE`.") from exc
    except RecursionError as exc:
        raise DefinitionError(f"{source} is nested too deeply to read",
                              hint="Is this a pipeline definition? SageMaker's are a few levels deep.") from exc
    if not isinstance(definition, dict):
        raise DefinitionError(f"{source} is not a pipeline definition: it is a JSON {type(definition).__name__}",
                              hint="Write it with `modelbuild get-definition --file-name FILE`.")
    return definition


def read_definition_file(path: str | os.PathLike[str]) -> tuple[str, dict[str, Any]]:
    """The text of a definition file and its JSON: what `validate`, `graph`, `diff` and `run` read for
    --definition FILE, so each fails the same way on the same file.

    Raises:
        UsageError: the file cannot be read (missing, a directory, no permission): a bad option value.
        DefinitionError: it is not UTF-8 JSON text holding an object.
    """
    source = f"definition file {os.fspath(path)}"
    try:
        text = Path(path).read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise DefinitionError(f"{source} is not UTF-8 text: {exc.reason}") from exc
    except OSError as exc:
        raise UsageError(f"cannot read {source}: {exc.strerror or exc}",
                         hint="Write one with `modelbuild get-definition --file-name FILE`.") from exc
    return text, load_definition_text(text, source)


def parse_definition(definition: Mapping[str, Any] | str) -> PipelineSpec:
    """Parse definition JSON (text or loaded) into a `PipelineSpec` with no structural problem.

    Raises:
        DefinitionError: malformed JSON, duplicate names, a reference to an unknown step or parameter,
            an unknown condition type, or a cycle (naming the steps on it); every problem is listed.
    """
    spec = read_definition(definition)
    raise_for_problems(spec.problems)
    return spec


def read_definition(definition: Mapping[str, Any] | str,
                    has_property: Callable[[StepSpec, tuple[Token, ...]], bool] | None = None) -> PipelineSpec:
    """Parse definition JSON (text or loaded) into a `PipelineSpec`, recording what is wrong in `problems`.

    Args:
        definition: the JSON text or its `json.loads`.
        has_property: whether a step has a property path; given, a "Did you mean" for a reference to an
            unknown step names only steps that have the property read (`validate` passes the service
            model's check).

    Raises:
        DefinitionError: `definition` is text that is not a JSON object.
    """
    if isinstance(definition, str):
        definition = load_definition_text(definition)
    reader = _Reader(has_property)
    if not isinstance(definition, Mapping) or not isinstance(definition.get("Steps"), list):
        problem = Problem(None, "Steps", "the definition has no 'Steps' list", "Is this a pipeline definition?")
        return PipelineSpec({}, {}, (), definition if isinstance(definition, Mapping) else {}, (problem,))
    reader.read_parameters(definition.get("Parameters") or [])
    reader.read_steps(definition["Steps"], ("Steps",), None)
    for step in reader.steps.values():
        reader.check_references(step)
    order = reader.run_order()
    return PipelineSpec(reader.parameters, reader.steps, order, definition, tuple(reader.problems))


class _Reader:
    def __init__(self, has_property: Callable[[StepSpec, tuple[Token, ...]], bool] | None) -> None:
        self.has_property = has_property
        self.problems: list[Problem] = []
        self.parameters: dict[str, Parameter] = {}
        self.steps: dict[str, StepSpec] = {}

    def add(self, step: str | None, path: str, message: str, hint: str | None = None) -> None:
        self.problems.append(Problem(step, path, f"{message}; {hint}" if hint else message, hint))

    def read_parameters(self, items: Any) -> None:
        for index, item in enumerate(items if isinstance(items, list) else []):
            path = f"Parameters[{index}]"
            if not isinstance(item, Mapping) or not isinstance(item.get("Name"), str):
                self.add(None, path, "a parameter needs a Name")
                continue
            name, kind = item["Name"], item.get("Type", "String")
            if name in self.parameters:
                self.add(None, f"{path}.Name", f"two parameters are named {name!r}")
                continue
            if kind not in PARAMETER_TYPES:
                self.add(None, f"{path}.Type", f"parameter {name!r} has unknown type {kind!r}",
                         did_you_mean(str(kind), PARAMETER_TYPES) or "Known types: " + ", ".join(PARAMETER_TYPES))
            self.parameters[name] = Parameter(name, kind, item.get("DefaultValue"),
                                              tuple(item.get("EnumValues") or ()), path)

    def read_steps(self, items: Any, location: tuple[Token, ...], branch_of: tuple[str, bool] | None) -> None:
        if not isinstance(items, list):
            self.add(branch_of[0] if branch_of else None, format_path(location), "should be a list of steps")
            return
        for index, item in enumerate(items):
            where = (*location, index)
            if not isinstance(item, Mapping) or not item.get("Name") or not item.get("Type"):
                self.add(None, format_path(where), "a step needs a Name and a Type")
                continue
            name, kind = str(item["Name"]), str(item["Type"])
            if name in self.steps:
                self.add(name, "Name", f"two steps are named {name!r} ({self.steps[name].path} and "
                         f"{format_path(where)})", "Step names must be unique.")
                continue
            arguments = dict(item.get("Arguments") or {}) if isinstance(item.get("Arguments"), Mapping) else {}
            if kind == "Condition":
                if_steps, else_steps = arguments.pop("IfSteps", []), arguments.pop("ElseSteps", [])
            references = tuple(find_references(arguments, ("Arguments",)))
            depends_on = tuple(
                str(entry.get("Step")) if isinstance(entry, Mapping) else str(entry)
                for entry in (item.get("DependsOn") or [])
            )
            self.steps[name] = StepSpec(
                name=name,
                type=kind,
                arguments=arguments,
                depends_on=depends_on,
                data_dependencies=tuple(dict.fromkeys(
                    r.name for r in references if r.root == "Steps" and r.name != name
                )),
                parameters_used=tuple(dict.fromkeys(r.name for r in references if r.root == "Parameters")),
                branch_of=branch_of,
                raw=item,
                path=format_path(where),
                references=references,
                json_gets=tuple(find_json_gets(arguments, ("Arguments",))),
            )
            if kind == "Condition":
                self.read_steps(if_steps, (*where, "Arguments", "IfSteps"), (name, True))
                self.read_steps(else_steps, (*where, "Arguments", "ElseSteps"), (name, False))

    def check_references(self, step: StepSpec) -> None:
        for index, name in enumerate(step.depends_on):
            self.check_step_name(step, f"DependsOn[{index}]", name)
        for reference in step.references:
            where = reference.where
            if reference.root == "Parameters":
                if reference.name not in self.parameters:
                    self.add(step.name, where, f"refers to parameter {reference.name!r}, which is not declared",
                             did_you_mean(reference.name, self.parameters) or "Declare it in the pipeline's "
                             "parameters.")
            elif reference.root == "Steps":
                if self.check_step_name(step, where, reference.name, reference.property_path) and reference.path_error:
                    self.add(step.name, where, f"{reference.expression!r}: {reference.path_error}")
            elif reference.root == "":
                self.add(step.name, where, f"cannot resolve {reference.expression!r}: a reference starts with "
                         "Parameters., Steps. or Execution.")
        for location, condition in step.conditions:
            kind = condition.get("Type") if isinstance(condition, Mapping) else None
            if kind not in CONDITION_TYPES:
                self.add(step.name, format_path((*location, "Type")), f"unknown condition type {kind!r}",
                         did_you_mean(str(kind), CONDITION_TYPES) or "Known types: " + ", ".join(CONDITION_TYPES))

    def check_step_name(self, step: StepSpec, path: str, name: str, reads: tuple[Token, ...] | None = None) -> bool:
        if name == step.name:
            self.add(step.name, path, "a step cannot wait for itself")
            return False
        if name not in self.steps:
            candidates = [
                other.name for other in self.steps.values()
                if not reads or self.has_property is None or self.has_property(other, reads)
            ]
            self.add(step.name, path, f"refers to step {name!r}, which is not in the definition",
                     did_you_mean(name, candidates) or "Known steps: " + ", ".join(self.steps))
            return False
        return True

    def run_order(self) -> tuple[str, ...]:
        graph = {name: [u for u in step.upstream if u in self.steps and u != name] for name, step in self.steps.items()}
        try:
            return tuple(graphlib.TopologicalSorter(graph).static_order())
        except graphlib.CycleError as exc:
            cycle = list(reversed(exc.args[1]))
            self.add(cycle[0], "DependsOn", "the steps form a cycle: " + " -> ".join(cycle),
                     "Remove one of these DependsOn entries or data references.")
            return tuple(self.steps)


def resolve_parameters(spec: PipelineSpec, overrides: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Every declared parameter's value for one execution: its default, or the override converted to its type.

    Args:
        spec: the parsed definition.
        overrides: NAME -> VALUE, values as text (from --parameter) or already typed.

    Returns:
        NAME -> typed value for every declared parameter.

    Raises:
        BadParameterValueError: an override names no declared parameter (with a suggestion and the
            list of valid names), a value does not fit the type or the enum values, or a parameter
            without default gets no value.
    """
    overrides = dict(overrides or {})
    for name in overrides:
        if name not in spec.parameters:
            suggestion = did_you_mean(name, spec.parameters)
            valid = "Valid parameters: " + (", ".join(spec.parameters) or "(none)")
            raise BadParameterValueError(
                f"the pipeline has no parameter {name!r}",
                hint=f"{suggestion} {valid}" if suggestion else valid,
            )
    values: dict[str, Any] = {}
    for name, parameter in spec.parameters.items():
        if name in overrides:
            values[name] = _convert(parameter, overrides[name])
        elif parameter.default is not None:
            values[name] = parameter.default
        else:
            raise BadParameterValueError(
                f"parameter {name!r} has no default value",
                hint=f"Give it one with --parameter {name}=VALUE",
            )
    return values


def _convert(parameter: Parameter, value: Any) -> Any:
    text = value if isinstance(value, str) else json.dumps(value)
    try:
        if parameter.type == "Integer":
            converted: Any = int(text)
        elif parameter.type == "Float":
            converted = float(text)
            if not math.isfinite(converted):  # JSON and SageMaker have no inf or nan
                raise ValueError(text)
        elif parameter.type == "Boolean":
            if text.lower() not in ("true", "false"):
                raise ValueError(text)
            converted = text.lower() == "true"
        else:
            converted = value if isinstance(value, str) else text
    except ValueError as exc:
        kind = "a finite Float" if parameter.type == "Float" else f"of type {parameter.type}"
        raise BadParameterValueError(
            f"parameter {parameter.name!r} is {kind}; {text!r} is not",
            hint=f"For example --parameter {parameter.name}={_example(parameter)}",
        ) from exc
    if isinstance(converted, str) and len(converted) > MAX_PARAMETER_VALUE:
        raise BadParameterValueError(
            f"parameter {parameter.name!r} is {len(converted)} characters long; SageMaker takes at most "
            f"{MAX_PARAMETER_VALUE}", hint="Pass a shorter value, e.g. an S3 URI of a file holding it.")
    if parameter.enum_values and converted not in parameter.enum_values:
        raise BadParameterValueError(
            f"parameter {parameter.name!r} must be one of {', '.join(parameter.enum_values)}; got {text!r}",
            hint=did_you_mean(text, parameter.enum_values),
        )
    return converted


def _example(parameter: Parameter) -> str:
    if parameter.default is not None:
        return json.dumps(parameter.default) if parameter.type == "Boolean" else str(parameter.default)
    return {"Integer": "1", "Float": "0.5", "Boolean": "true"}.get(parameter.type, "text")
