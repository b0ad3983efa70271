"""Callback step: waits for its token to be answered, as SageMaker waits for SendPipelineExecutionStep*.

No message goes to SQS: the step records its token (see `modelbuild.local.callbacks`), reports the
command that answers it, and waits. A Success answer's outputs become OutputParameters (converted to
their declared types); a Failure answer fails the step with its reason.
"""

from __future__ import annotations

import secrets
import shlex
from collections.abc import Mapping
from typing import Any

from modelbuild.local import callbacks
from modelbuild.local.steps import StepContext, StepFailed, StepResult


def describe(arguments: Mapping[str, Any]) -> str:
    """How the engine runs Callback steps, for `validate --target local`."""
    return ("waits for `modelbuild executions callback TOKEN --success|--failure` (nothing is sent to SQS), or "
            "is answered up front with run --callback")


def run(ctx: StepContext) -> StepResult:
    """Record the token, say how to answer it, wait for the answer."""
    token = secrets.token_urlsafe(24)
    declared = ctx.spec.raw.get("OutputParameters") or []
    directory = callbacks.callbacks_dir(ctx.state_dir)
    callbacks.register(directory, token, {"execution_id": ctx.execution_id, "step": ctx.spec.name,
                                          "arguments": ctx.arguments, "outputs": declared})
    preset = ctx.callback_answers.get(ctx.spec.name)
    if preset is not None:
        callbacks.send_callback(token, preset, ctx.state_dir)
    else:
        words = ["modelbuild", "executions", "callback", token, "--success"]
        for item in declared:
            words += ["--output", f"{item['OutputName']}=VALUE"]
        words += ["--state-dir", str(ctx.state_dir)]
        ctx.notify(f"waiting for callback token {token}; answer with: {shlex.join(words)} "
                   f"(or --failure REASON)")
    answer = callbacks.wait_for_answer(directory, token, ctx.cancelled)
    if answer is None:
        raise StepFailed("stopped while waiting for the callback")
    if answer.status != callbacks.SUCCESS:
        raise StepFailed(f"callback failure: {answer.reason}")
    return StepResult({"OutputParameters": callbacks.typed_outputs(declared, answer.outputs)})
