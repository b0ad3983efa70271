"""Evaluation of the DSL's expressions (Get, Std:Join, Std:JsonGet) and conditions during a run."""

from __future__ import annotations

import json
import operator
from collections.abc import Callable, Mapping
from typing import Any

from modelbuild.definition.references import not_operand, parse_property_path, parse_reference
from modelbuild.errors import DefinitionError

_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "Equals": operator.eq,
    "GreaterThan": operator.gt,
    "GreaterThanOrEqualTo": operator.ge,
    "LessThan": operator.lt,
    "LessThanOrEqualTo": operator.le,
}


class ExpressionError(DefinitionError):
    """Raised when an expression cannot be evaluated: unknown property, missing property file, bad path."""


def lookup(value: Any, tokens: tuple[str | int, ...] | list[str | int], where: str) -> Any:
    """Follow `tokens` into `value`; a string index on a list selects the item whose *Name equals it."""
    for token in tokens:
        if isinstance(value, list) and isinstance(token, str):
            value = next(
                (i for i in value if isinstance(i, Mapping) and token in _names(i)), _MISSING
            )
            if isinstance(value, Mapping) and set(value) == {"Name", "Value"}:
                value = value["Value"]  # Lambda/Callback OutputParameters['x'] is the output's value
        elif isinstance(value, list) and isinstance(token, int) and -len(value) <= token < len(value):
            value = value[token]
        elif isinstance(value, Mapping) and token in value:
            value = value[token]
        else:
            value = _MISSING
        if value is _MISSING:
            raise ExpressionError(f"{where} has no property {token!r}")
    return value


_MISSING = object()


def _names(item: Mapping[str, Any]) -> set[Any]:
    return {v for k, v in item.items() if k.endswith("Name") and isinstance(v, str)}


class Resolver:
    """Evaluates expressions against one execution's parameters, variables and step properties.

    Args:
        parameters: NAME -> typed value.
        variables: Execution.* names -> values (None for symbolic: "{Execution.X}" is kept, as cache keys want).
        properties: step name -> that step's properties (its resolved arguments plus what it produced).
        property_files: step name -> its PropertyFiles declarations.
        read_object: URI -> bytes, for Std:JsonGet.
    """

    def __init__(
        self,
        parameters: Mapping[str, Any],
        variables: Mapping[str, Any] | None,
        properties: Mapping[str, Mapping[str, Any]],
        property_files: Mapping[str, list[Mapping[str, Any]]],
        read_object: Callable[[str], bytes],
    ) -> None:
        self.parameters = parameters
        self.variables = variables
        self.properties = properties
        self.property_files = property_files
        self.read_object = read_object

    def resolve(self, value: Any) -> Any:
        """The value of an expression tree, with every Get / Std:Join / Std:JsonGet evaluated."""
        if isinstance(value, Mapping):
            if set(value) == {"Get"}:
                return self.get(value["Get"])
            if set(value) == {"Std:Join"}:
                join = value["Std:Join"]
                return str(join.get("On", "")).join(_text(self.resolve(v)) for v in join.get("Values", []))
            if set(value) == {"Std:JsonGet"}:
                return self.json_get(value["Std:JsonGet"])
            return {key: self.resolve(item) for key, item in value.items()}
        if isinstance(value, list):
            return [self.resolve(item) for item in value]
        return value

    def get(self, path: str) -> Any:
        """The value of a `Get` path: Parameters.X, Execution.X or Steps.X.<property path>."""
        if path.startswith("Parameters."):
            return self.parameters[path[len("Parameters.") :]]
        if path.startswith("Execution."):
            name = path[len("Execution.") :]
            if self.variables is None:
                return "{" + path + "}"
            if name not in self.variables:
                raise ExpressionError(f"unknown execution variable {path!r}")
            return self.variables[name]
        reference = parse_reference(path)
        if reference.root != "Steps":
            raise ExpressionError(f"cannot evaluate Get {path!r}", hint="Expected Parameters.*, Execution.* or Steps.*")
        if reference.name not in self.properties:
            raise ExpressionError(f"step {reference.name!r} has no properties yet (it did not run in this execution)")
        if reference.property_path is None:
            raise ExpressionError(f"{path!r}: {reference.path_error}")
        return lookup(self.properties[reference.name], reference.property_path, f"step {reference.name!r}")

    def json_get(self, spec: Mapping[str, Any]) -> Any:
        """Std:JsonGet: read a JSON property file (or S3Uri) from the store and follow its Path."""
        if "PropertyFile" in spec:
            uri = self._property_file_uri(spec["PropertyFile"])
        else:
            uri = _text(self.resolve(spec["S3Uri"]))
        try:
            document = json.loads(self.read_object(uri))
        except ValueError as exc:
            raise ExpressionError(f"property file {uri} is not JSON: {exc}") from exc
        return lookup(document, parse_property_path(spec["Path"]), f"property file {uri}")

    def _property_file_uri(self, source: Any) -> str:
        reference = parse_reference(source["Get"] if isinstance(source, Mapping) else str(source))
        step, file_name = reference.name, ".".join(map(str, (reference.property_path or ())[1:]))
        declared = {f["PropertyFileName"]: f for f in self.property_files.get(step, [])}
        if file_name not in declared:
            raise ExpressionError(f"step {step!r} declares no property file {file_name!r}")
        output = declared[file_name]["OutputName"]
        outputs = lookup(self.properties.get(step, {}), ["ProcessingOutputConfig", "Outputs"], f"step {step!r}")
        base = lookup(outputs, [output, "S3Output", "S3Uri"], f"step {step!r}")
        return base.rstrip("/") + "/" + declared[file_name]["FilePath"].lstrip("/")

    def condition(self, condition: Mapping[str, Any]) -> bool:
        """Evaluate one DSL condition (comparisons, In, Not, Or)."""
        kind = condition["Type"]
        if kind in _COMPARE:
            left, right = self.resolve(condition["LeftValue"]), self.resolve(condition["RightValue"])
            try:
                return _COMPARE[kind](*_comparable(left, right))
            except (TypeError, ValueError) as exc:
                raise ExpressionError(f"{kind} cannot compare {left!r} with {right!r}") from exc
        if kind == "In":
            value = self.resolve(condition["QueryValue"])
            try:
                return any(operator.eq(*_comparable(value, self.resolve(v))) for v in condition["Values"])
            except ValueError as exc:
                raise ExpressionError(f"In cannot compare {value!r} with {condition['Values']!r}") from exc
        if kind == "Not":
            return not self.condition(not_operand(condition))
        if kind == "Or":
            return any(self.condition(c) for c in condition["Conditions"])
        raise ExpressionError(f"unknown condition type {kind!r}")


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    return value if isinstance(value, str) else json.dumps(value) if isinstance(value, (list, dict)) else str(value)


def _comparable(left: Any, right: Any) -> tuple[Any, Any]:
    """Numbers compare as numbers even when one side arrived as text (property files, parameters)."""
    numeric = (int, float)
    if isinstance(left, numeric) and isinstance(right, str):
        return left, float(right)
    if isinstance(right, numeric) and isinstance(left, str):
        return float(left), right
    return left, right
