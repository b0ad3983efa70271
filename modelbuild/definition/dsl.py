"""The SageMaker Pipelines definition JSON as plain data: parameters, steps, references and the step graph.

Both run targets and the definition tools (validate, graph, diff) read definitions through this module,
so it knows the DSL's shape but runs nothing: `parse_definition` turns the JSON into a `PipelineSpec`
whose graph is built from `DependsOn` *and* data references (`Get: Steps.X...`), and which rejects a
cycle or a dangling reference before anything runs; `resolve_parameters` checks NAME=VALUE overrides
against the declared parameters and their types.
"""

from __future__ import annotations

import graphlib
import json
import math
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from modelbuild.errors import BadParameterValueError, DefinitionError, did_you_mean

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
_STEP_REFERENCE = re.compile(r"^Steps\.([^.\[]+)")


@dataclass(frozen=True)
class Parameter:
    """A declared pipeline parameter: name, DSL type, default (None when it has none) and enum values."""

    name: str
    type: str
    default: Any = None
    enum_values: tuple[str, ...] = ()


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
    """

    name: str
    type: str
    arguments: Mapping[str, Any]
    depends_on: tuple[str, ...] = ()
    data_dependencies: tuple[str, ...] = ()
    parameters_used: tuple[str, ...] = ()
    branch_of: tuple[str, bool] | None = None
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False)

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


@dataclass(frozen=True)
class PipelineSpec:
    """A parsed definition: parameters and steps by name, and the steps in a valid run order."""

    parameters: Mapping[str, Parameter]
    steps: Mapping[str, StepSpec]
    order: tuple[str, ...]
    definition: Mapping[str, Any] = field(repr=False)

    def graph(self) -> dict[str, tuple[str, ...]]:
        """Each step name mapped to the names of the steps it waits for (graphlib's shape)."""
        return {name: step.upstream for name, step in self.steps.items()}

    def downstream(self, name: str) -> set[str]:
        """Names of every step that transitively waits for `name`."""
        found: set[str] = set()
        frontier = [name]
        while frontier:
            current = frontier.pop()
            for other in self.steps.values():
                if current in other.upstream and other.name not in found:
                    found.add(other.name)
                    frontier.append(other.name)
        return found


def iter_gets(value: Any) -> Iterator[str]:
    """Yield every `Get` path inside an expression tree (including those inside Std:Join / Std:JsonGet)."""
    if isinstance(value, Mapping):
        if set(value) == {"Get"} and isinstance(value["Get"], str):
            yield value["Get"]
            return
        for item in value.values():
            yield from iter_gets(item)
    elif isinstance(value, list):
        for item in value:
            yield from iter_gets(item)


def referenced_step(path: str) -> str | None:
    """The step name a `Get` path like "Steps.Train.ModelArtifacts.S3ModelArtifacts" refers to, or None."""
    match = _STEP_REFERENCE.match(path)
    return match.group(1) if match else None


def parse_definition(definition: Mapping[str, Any] | str) -> PipelineSpec:
    """Parse definition JSON (text or loaded) into a validated `PipelineSpec`.

    Args:
        definition: the JSON text `pipeline.definition()` returns, or its `json.loads`.

    Returns:
        The spec, with steps of condition branches flattened and a topological run order.

    Raises:
        DefinitionError: malformed JSON, duplicate step names, a reference to an unknown step or
            parameter, an unknown condition type, or a cycle (naming the steps on it).
    """
    if isinstance(definition, str):
        try:
            definition = json.loads(definition)
        except ValueError as exc:
            raise DefinitionError(f"the definition is not valid JSON: {exc}") from exc
        except RecursionError as exc:
            raise DefinitionError("the definition is nested too deeply to read",
                                  hint="Is this a pipeline definition? SageMaker's are a few levels deep.") from exc
    if not isinstance(definition, Mapping) or not isinstance(definition.get("Steps"), list):
        raise DefinitionError("the definition has no 'Steps' list", hint="Is this a pipeline definition?")
    parameters = _parse_parameters(definition.get("Parameters") or [])
    steps: dict[str, StepSpec] = {}
    _collect_steps(definition["Steps"], None, steps)
    _check_references(steps, parameters)
    return PipelineSpec(parameters, steps, _run_order(steps), definition)


def _parse_parameters(items: list[Any]) -> dict[str, Parameter]:
    parameters: dict[str, Parameter] = {}
    for item in items:
        if not isinstance(item, Mapping) or "Name" not in item:
            raise DefinitionError(f"a parameter has no Name: {item!r}")
        kind = item.get("Type", "String")
        if kind not in PARAMETER_TYPES:
            raise DefinitionError(f"parameter {item['Name']!r} has unknown type {kind!r}")
        parameters[item["Name"]] = Parameter(
            item["Name"], kind, item.get("DefaultValue"), tuple(item.get("EnumValues") or ())
        )
    return parameters


def _collect_steps(items: list[Any], branch_of: tuple[str, bool] | None, steps: dict[str, StepSpec]) -> None:
    for item in items:
        if not isinstance(item, Mapping) or not item.get("Name") or not item.get("Type"):
            raise DefinitionError(f"a step has no Name or Type: {str(item)[:120]}")
        name, arguments = item["Name"], dict(item.get("Arguments") or {})
        if name in steps:
            raise DefinitionError(f"two steps are named {name!r}", hint="Step names must be unique.")
        if item["Type"] == "Condition":
            if_steps, else_steps = arguments.pop("IfSteps", []), arguments.pop("ElseSteps", [])
            _check_conditions(name, arguments.get("Conditions") or [])
        gets = list(iter_gets(arguments))
        steps[name] = StepSpec(
            name=name,
            type=item["Type"],
            arguments=arguments,
            depends_on=tuple(
                entry["Step"] if isinstance(entry, Mapping) else entry for entry in item.get("DependsOn") or []
            ),
            data_dependencies=tuple(dict.fromkeys(s for s in map(referenced_step, gets) if s and s != name)),
            parameters_used=tuple(dict.fromkeys(g[11:] for g in gets if g.startswith("Parameters."))),
            branch_of=branch_of,
            raw=item,
        )
        if item["Type"] == "Condition":
            _collect_steps(if_steps, (name, True), steps)
            _collect_steps(else_steps, (name, False), steps)


def _check_conditions(step: str, conditions: list[Any]) -> None:
    for condition in conditions:
        kind = condition.get("Type") if isinstance(condition, Mapping) else None
        if kind not in CONDITION_TYPES:
            raise DefinitionError(
                f"condition step {step!r} has a condition of unknown type {kind!r}",
                hint="Known types: " + ", ".join(CONDITION_TYPES),
            )
        if kind == "Not":
            _check_conditions(step, [condition.get("Condition") or condition.get("Expression")])
        elif kind == "Or":
            _check_conditions(step, condition.get("Conditions") or [])


def _check_references(steps: Mapping[str, StepSpec], parameters: Mapping[str, Parameter]) -> None:
    for step in steps.values():
        for name in step.upstream:
            if name not in steps:
                suggestion = did_you_mean(name, steps)
                raise DefinitionError(
                    f"step {step.name!r} refers to step {name!r}, which is not in the definition",
                    hint=suggestion or "Known steps: " + ", ".join(steps),
                )
        for name in step.parameters_used:
            if name not in parameters:
                raise DefinitionError(
                    f"step {step.name!r} refers to parameter {name!r}, which is not declared",
                    hint=did_you_mean(name, parameters) or "Declare it in the pipeline's parameters.",
                )


def _run_order(steps: Mapping[str, StepSpec]) -> tuple[str, ...]:
    sorter = graphlib.TopologicalSorter({name: step.upstream for name, step in steps.items()})
    try:
        return tuple(sorter.static_order())
    except graphlib.CycleError as exc:
        cycle = exc.args[1]
        raise DefinitionError(
            "the steps form a cycle: " + " -> ".join(reversed(cycle)),
            hint="Remove one of these DependsOn entries or data references.",
        ) from exc


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
