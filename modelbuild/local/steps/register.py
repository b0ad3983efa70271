"""RegisterModel step: adds the next version of a model package group to the local registry."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from modelbuild.local.steps import StepContext, StepFailed, StepResult


def input_uris(arguments: Mapping[str, Any]) -> list[str]:
    """Model artifacts of the inference specification."""
    containers = (arguments.get("InferenceSpecification") or {}).get("Containers") or []
    return [container.get("ModelDataUrl") for container in containers]


def run(ctx: StepContext) -> StepResult:
    """Register the model package."""
    group = ctx.arguments.get("ModelPackageGroupName")
    if not group:
        raise StepFailed("the RegisterModel step has no ModelPackageGroupName")
    package = ctx.registry.register(group, ctx.arguments, ctx.execution_id, ctx.spec.name)
    return StepResult({
        **ctx.arguments,
        "ModelPackageArn": package.arn,
        "ModelPackageName": f"{group}/{package.version}",
        "ModelPackageVersion": package.version,
        "ModelApprovalStatus": package.status,
    })
