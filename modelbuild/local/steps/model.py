"""Model step (CreateModel): records the model in the local registry so Transform steps can serve it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from modelbuild.local.steps import StepContext, StepFailed, StepResult


def input_uris(arguments: Mapping[str, Any]) -> list[str]:
    """The model artifact."""
    return [(arguments.get("PrimaryContainer") or {}).get("ModelDataUrl")]


def run(ctx: StepContext) -> StepResult:
    """Create the model named after the job."""
    container = ctx.arguments.get("PrimaryContainer") or next(iter(ctx.arguments.get("Containers") or []), None)
    if not container:
        raise StepFailed("the Model step has no PrimaryContainer")
    if container.get("ModelDataUrl"):
        ctx.store.path(container["ModelDataUrl"])  # a bad URI fails here, not in a later Transform
    arn = ctx.registry.create_model(ctx.job_name, container, ctx.execution_id)
    return StepResult({**ctx.arguments, "ModelName": ctx.job_name, "ModelArn": arn})
