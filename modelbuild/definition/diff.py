"""Comparing two definitions, grouped by step: which steps were added, removed, or changed in which fields.

Plain data: the SageMaker target fetches the deployed definition (DescribePipeline) and calls
`diff_definitions(deployed, local)`. Steps are matched by name wherever they sit (a step moved
into a condition branch is "changed", its branch being one of its fields); fields are compared
as JSON paths below the step ("Arguments.ProcessingInputs[1].S3Input.S3Uri").
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from modelbuild.definition.dsl import read_definition

_MISSING = object()


@dataclass(frozen=True)
class FieldChange:
    """One JSON path whose value differs; `old` / `new` are None where the path is absent on that side."""

    path: str
    old: Any
    new: Any

    def to_json(self) -> dict[str, Any]:
        """The change as JSON-ready data."""
        return {"path": self.path, "old": self.old, "new": self.new}


@dataclass(frozen=True)
class StepDiff:
    """A step that is "added" (only local), "removed" (only deployed) or "changed" (with its field changes)."""

    name: str
    kind: str
    step_type: str
    changes: tuple[FieldChange, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """The step's difference as JSON-ready data."""
        return {
            "step": self.name,
            "kind": self.kind,
            "type": self.step_type,
            "changes": [change.to_json() for change in self.changes],
        }


@dataclass(frozen=True)
class DefinitionDiff:
    """Everything that differs between a deployed definition and a local one.

    Attributes:
        pipeline: changes outside the steps (parameters by name, other top-level fields, the role).
        steps: one entry per step that differs, in the local definition's order, removed steps last.
        deployed: False when there is no deployed definition to compare with (every step is added).
    """

    pipeline: tuple[FieldChange, ...] = ()
    steps: tuple[StepDiff, ...] = ()
    deployed: bool = True

    @property
    def changed(self) -> bool:
        """True when an upsert would change anything."""
        return bool(self.pipeline or self.steps) or not self.deployed

    def to_json(self) -> dict[str, Any]:
        """The difference as JSON-ready data."""
        return {
            "changed": self.changed,
            "deployed": self.deployed,
            "pipeline": [change.to_json() for change in self.pipeline],
            "steps": [step.to_json() for step in self.steps],
        }

    def lines(self) -> list[str]:
        """The difference as text lines, grouped by step ("+" added, "-" removed, "~" changed)."""
        if not self.changed:
            return ["No changes: the deployed pipeline matches the local definition."]
        lines = [] if self.deployed else ["The pipeline is not deployed yet: an upsert would create it."]
        if self.pipeline:
            lines.append("~ pipeline")
            lines += [f"    {_change_line(change)}" for change in self.pipeline]
        marks = {"added": "+", "removed": "-", "changed": "~"}
        for step in self.steps:
            lines.append(f"{marks[step.kind]} step {step.name} [{step.step_type}]"
                         + ("" if step.kind == "changed" else f" ({step.kind})"))
            lines += [f"    {_change_line(change)}" for change in step.changes]
        return lines


def diff_definitions(deployed: Mapping[str, Any] | None, local: Mapping[str, Any],
                     deployed_role: str | None = None, local_role: str | None = None) -> DefinitionDiff:
    """Compare a deployed definition with a local one.

    Args:
        deployed: the deployed definition JSON (loaded), or None when the pipeline does not exist.
        local: the definition an upsert would send.
        deployed_role, local_role: the pipeline's current role and the one an upsert would set;
            compared when both are given.

    Returns:
        The difference, grouped by step.
    """
    if deployed is None:
        added = tuple(StepDiff(name, "added", str(step.get("Type"))) for name, step in flatten_steps(local).items())
        return DefinitionDiff(steps=added, deployed=False)
    pipeline = list(_parameter_changes(deployed.get("Parameters") or [], local.get("Parameters") or []))
    for key in sorted((set(deployed) | set(local)) - {"Steps", "Parameters"}):
        pipeline += _field_changes(deployed.get(key, _MISSING), local.get(key, _MISSING), key)
    if deployed_role and local_role and deployed_role != local_role:
        pipeline.append(FieldChange("RoleArn", deployed_role, local_role))
    old_steps, new_steps = flatten_steps(deployed), flatten_steps(local)
    steps = []
    for name, step in new_steps.items():
        if name not in old_steps:
            steps.append(StepDiff(name, "added", str(step.get("Type"))))
            continue
        changes = tuple(_field_changes(old_steps[name], step, ""))
        if changes:
            steps.append(StepDiff(name, "changed", str(step.get("Type")), changes))
    steps += [
        StepDiff(name, "removed", str(step.get("Type"))) for name, step in old_steps.items() if name not in new_steps
    ]
    return DefinitionDiff(tuple(pipeline), tuple(steps))


def flatten_steps(definition: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Every step by name as `dsl.read_definition` flattens them: condition branches lifted out, a branch
    step with a "Branch" field ("CheckMse if true"), a condition without its IfSteps/ElseSteps."""
    return {name: step.flat() for name, step in read_definition(definition).steps.items()}


def _parameter_changes(old: list[Any], new: list[Any]) -> Iterator[FieldChange]:
    def by_name(items: list[Any]) -> dict[str, Any]:
        return {str(item.get("Name")): item for item in items if isinstance(item, Mapping)}

    old_by_name, new_by_name = by_name(old), by_name(new)
    for name in [*new_by_name, *(n for n in old_by_name if n not in new_by_name)]:
        yield from _field_changes(old_by_name.get(name, _MISSING), new_by_name.get(name, _MISSING),
                                  f"Parameters[{name!r}]")


def _field_changes(old: Any, new: Any, path: str) -> Iterator[FieldChange]:
    if isinstance(old, Mapping) and isinstance(new, Mapping):
        for key in [*new, *(k for k in old if k not in new)]:
            yield from _field_changes(old.get(key, _MISSING), new.get(key, _MISSING), f"{path}.{key}" if path else key)
    elif isinstance(old, list) and isinstance(new, list):
        for index in range(max(len(old), len(new))):
            yield from _field_changes(
                old[index] if index < len(old) else _MISSING, new[index] if index < len(new) else _MISSING,
                f"{path}[{index}]",
            )
    elif old != new or type(old) is not type(new):
        yield FieldChange(path, None if old is _MISSING else old, None if new is _MISSING else new)


def _change_line(change: FieldChange) -> str:
    def show(value: Any) -> str:
        # Long enough for S3 URIs with their content hash, which is usually what changed.
        text = json.dumps(value, sort_keys=True)
        return text if len(text) <= 300 else text[:297] + "..."

    if change.old is None:
        return f"{change.path}: added {show(change.new)}"
    if change.new is None:
        return f"{change.path}: removed (was {show(change.old)})"
    return f"{change.path}: {show(change.old)} -> {show(change.new)}"
