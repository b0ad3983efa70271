"""Fail step: ends the execution Failed with its ErrorMessage."""

from __future__ import annotations

from modelbuild.local.steps import StepContext, StepFailed, StepResult


def run(ctx: StepContext) -> StepResult:
    """Fail, with the (resolved) error message as the reason."""
    raise StepFailed(str(ctx.arguments.get("ErrorMessage") or f"Fail step {ctx.spec.name!r} reached"))
