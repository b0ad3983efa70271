"""Condition step: evaluates its conditions (all must hold) and picks the IfSteps or ElseSteps branch."""

from __future__ import annotations

from modelbuild.local.steps import StepContext, StepResult


def run(ctx: StepContext) -> StepResult:
    """Evaluate the conditions; the outcome gates the branch steps."""
    outcome = all(ctx.condition(condition) for condition in ctx.spec.arguments.get("Conditions") or [])
    return StepResult({"Outcome": outcome}, outcome=outcome)
