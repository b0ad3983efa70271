"""How a definition refers to values: the one property-path grammar, `Get` references, `Std:JsonGet`
and condition trees.

`modelbuild.definition.dsl` reads every step's arguments with these once (`StepSpec.references`,
`StepSpec.json_gets`, `StepSpec.conditions`); `validate` checks them, the local engine evaluates with the
same grammar (`parse_property_path`, `parse_reference`, `not_operand`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from modelbuild.errors import DefinitionError

Token = str | int
# The property-path grammar: names (`.Outputs`), quoted keys (`['train']`, `["validation:rmse"]`) and
# indexes (`[0]`, `[-1]`). Step references, Std:JsonGet paths and the engine's lookups all use it.
_PATH_TOKEN = re.compile(r"""\.?([A-Za-z0-9_:-]+)|\[\s*(?:'([^']*)'|"([^"]*)"|(-?\d+))\s*\]""")
_STEP_NAME = re.compile(r"[^.\[]+")


class PropertyPathError(DefinitionError):
    """Raised when a property path (after `Steps.<name>`, or a Std:JsonGet Path) does not follow the grammar."""


def parse_property_path(path: str) -> tuple[Token, ...]:
    """Split "Outputs['train'].S3Output.List[0]" into ("Outputs", "train", "S3Output", "List", 0).

    Raises:
        PropertyPathError: the path does not follow the grammar (the message shows where).
    """
    tokens: list[Token] = []
    position = 0
    while position < len(path):
        match = _PATH_TOKEN.match(path, position)
        if not match:
            raise PropertyPathError(f"cannot read property path {path!r} at {path[position:]!r}")
        name, single, double, index = match.groups()
        if index is not None:
            tokens.append(int(index))
        else:
            tokens.append(next(t for t in (name, single, double) if t is not None))
        position = match.end()
    return tuple(tokens)


def format_path(tokens: tuple[Token, ...] | list[Token]) -> str:
    """The JSON path text of `tokens`: ("Arguments", "Inputs", 0, "S3Uri") -> "Arguments.Inputs[0].S3Uri"."""
    text = ""
    for token in tokens:
        text += f"[{token}]" if isinstance(token, int) else (f".{token}" if text else str(token))
    return text


@dataclass(frozen=True)
class Reference:
    """One `{"Get": ...}` inside a step.

    Attributes:
        location: JSON path tokens below the step, e.g. ("Arguments", "Conditions", 0, "RightValue").
        expression: the Get text, e.g. "Steps.Train.ModelArtifacts.S3ModelArtifacts".
        root: "Parameters", "Execution", "Steps", or "" for anything else (which cannot be resolved).
        name: the parameter, execution variable or step it names ("" when none).
        property_path: for a step reference, the tokens after the step name; None when they do not
            follow the grammar (see `path_error`).
        in_function: True inside Std:Join / Std:JsonGet, False when it stands as a field's whole value.
        path_error: why `property_path` is None.
    """

    location: tuple[Token, ...]
    expression: str
    root: str
    name: str
    property_path: tuple[Token, ...] | None = ()
    in_function: bool = False
    path_error: str | None = None

    @property
    def where(self) -> str:
        """`location` as JSON path text."""
        return format_path(self.location)


def parse_reference(expression: str, location: tuple[Token, ...] = (), in_function: bool = False) -> Reference:
    """Read a Get expression: "Parameters.X", "Execution.X" or "Steps.<name>.<property path>"."""
    root, _, rest = expression.partition(".")
    if root in ("Parameters", "Execution"):
        return Reference(location, expression, root, rest, (), in_function)
    match = _STEP_NAME.match(rest) if root == "Steps" else None
    if match is None:
        return Reference(location, expression, "", "", (), in_function)
    try:
        tokens: tuple[Token, ...] | None = parse_property_path(rest[match.end():])
        error = None
    except PropertyPathError as exc:
        tokens, error = None, exc.message
    return Reference(location, expression, "Steps", match.group(0), tokens, in_function, error)


def referenced_step(expression: str) -> str | None:
    """The step name a Get like "Steps.Train.ModelArtifacts.S3ModelArtifacts" refers to, or None."""
    reference = parse_reference(expression)
    return reference.name if reference.root == "Steps" else None


@dataclass(frozen=True)
class JsonGet:
    """One `{"Std:JsonGet": ...}` inside a step, in either of its forms.

    Attributes:
        location: JSON path tokens below the step of the Std:JsonGet object's value.
        property_file: the `{"Get": "Steps.<step>.PropertyFiles.<name>"}` form's reference, else None.
        s3_uri: the S3Uri form's value (text or an expression), else None.
        path: the JSON path to read inside the file.
    """

    location: tuple[Token, ...]
    property_file: Reference | None
    s3_uri: Any
    path: Any
    raw: Mapping[str, Any] = field(repr=False, default_factory=dict)


def walk(value: Any, location: tuple[Token, ...] = ()) -> Iterator[tuple[tuple[Token, ...], Any]]:
    """Every (JSON path tokens, value) inside `value`, depth first; a `Get` object is not entered."""
    yield location, value
    if isinstance(value, Mapping):
        if _is_get(value):
            return
        for key, item in value.items():
            yield from walk(item, (*location, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from walk(item, (*location, index))


def _is_get(value: Any) -> bool:
    return isinstance(value, Mapping) and len(value) == 1 and isinstance(value.get("Get"), str)


def find_references(value: Any, location: tuple[Token, ...] = ()) -> list[Reference]:
    """Every `Get` inside `value` (Std:Join and Std:JsonGet included), with where it sits."""
    return [
        parse_reference(item["Get"], tokens, any(isinstance(t, str) and t.startswith("Std:") for t in tokens))
        for tokens, item in walk(value, location) if _is_get(item)
    ]


def iter_gets(value: Any) -> Iterator[str]:
    """Every `Get` expression text inside `value`."""
    return (reference.expression for reference in find_references(value))


def find_json_gets(value: Any, location: tuple[Token, ...] = ()) -> list[JsonGet]:
    """Every `Std:JsonGet` inside `value`, in either form."""
    found = []
    for tokens, item in walk(value, location):
        if isinstance(item, Mapping) and len(item) == 1 and isinstance(item.get("Std:JsonGet"), Mapping):
            spec, where = item["Std:JsonGet"], (*tokens, "Std:JsonGet")
            source = spec.get("PropertyFile")
            file_reference = (
                parse_reference(source["Get"], (*where, "PropertyFile"), True) if _is_get(source) else None
            )
            found.append(JsonGet(where, file_reference, spec.get("S3Uri"), spec.get("Path"), spec))
    return found


def not_operand(condition: Mapping[str, Any]) -> Any:
    """The condition a `Not` negates: under "Condition" (as the SDK writes it) or "Expression"."""
    return condition["Condition"] if "Condition" in condition else condition.get("Expression")


def not_operand_key(condition: Mapping[str, Any]) -> str:
    """Which key of a `Not` holds its condition ("Condition" or "Expression")."""
    return "Condition" if "Condition" in condition or "Expression" not in condition else "Expression"


def iter_conditions(conditions: Any, location: tuple[Token, ...]) -> Iterator[tuple[tuple[Token, ...], Any]]:
    """Every condition of a Condition step's list, nested ones (inside Not and Or) included, with its path."""
    for index, condition in enumerate(conditions if isinstance(conditions, list) else []):
        yield from _condition_tree(condition, (*location, index))


def _condition_tree(condition: Any, location: tuple[Token, ...]) -> Iterator[tuple[tuple[Token, ...], Any]]:
    yield location, condition
    kind = condition.get("Type") if isinstance(condition, Mapping) else None
    if kind == "Not":
        key = not_operand_key(condition)
        yield from _condition_tree(condition.get(key), (*location, key))
    elif kind == "Or":
        yield from iter_conditions(condition.get("Conditions") or [], (*location, "Conditions"))
