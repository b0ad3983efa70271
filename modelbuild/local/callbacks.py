"""Callback steps' tokens and answers: SendPipelineExecutionStepSuccess/Failure, on this machine.

Nothing goes to SQS. A Callback step that starts writes `<state dir>/callbacks/<token>.json` (its
execution, step, arguments and declared outputs) and waits; `modelbuild executions callback TOKEN
--success --output NAME=VALUE | --failure REASON`, from any terminal, writes `<token>.answer.json`
beside it (atomically), which the waiting step reads. `run --callback STEP=success:NAME=VALUE,...`
answers a step before it starts, through the same files, for tests and CI.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from modelbuild._utils import write_text_atomic
from modelbuild.errors import UnknownStepError, UsageError, did_you_mean
from modelbuild.local.state import resolve_state_dir

SUCCESS, FAILURE = "Success", "Failure"
POLL_SECONDS = 0.2


class CallbackError(UsageError):
    """Raised when a callback answer names no waiting step, repeats an answer, or gives outputs it should not."""


@dataclass(frozen=True)
class Answer:
    """A callback's answer: Success with output values (text, as the API takes them), or Failure with a reason."""

    status: str
    outputs: Mapping[str, str] = field(default_factory=dict)
    reason: str | None = None


def callbacks_dir(state_dir: str | os.PathLike[str] | None) -> Path:
    """Where a state directory keeps its callback tokens and answers."""
    return resolve_state_dir(state_dir) / "callbacks"


def parse_answer(text: str) -> Answer:
    """`success`, `success:NAME=VALUE,NAME=VALUE` or `failure:REASON` (the form of `run --callback STEP=...`).

    Raises:
        UsageError: another form.
    """
    kind, _, rest = text.partition(":")
    if kind.lower() == "failure":
        return Answer(FAILURE, reason=rest or "failed by --callback")
    if kind.lower() != "success":
        raise UsageError(f"--callback should look like STEP=success[:NAME=VALUE,...] or STEP=failure[:REASON]; "
                         f"got {text!r}", hint="For example --callback Approve=success:approved=true")
    outputs = {}
    for pair in filter(None, rest.split(",")):
        name, sep, value = pair.partition("=")
        if not sep:
            raise UsageError(f"--callback output {pair!r} should look like NAME=VALUE")
        outputs[name.strip()] = value
    return Answer(SUCCESS, outputs)


def check_answers(answers: Mapping[str, Answer], spec: Any) -> None:
    """Up-front answers must name Callback steps of the pipeline and only outputs they declare.

    Raises:
        UnknownStepError, CallbackError.
    """
    for name, answer in answers.items():
        if name not in spec.steps:
            raise UnknownStepError(f"--callback names step {name!r}, which is not in the pipeline",
                                   hint=did_you_mean(name, spec.steps) or "Steps: " + ", ".join(spec.steps))
        step = spec.steps[name]
        if step.type != "Callback":
            raise CallbackError(f"--callback names step {name!r}, a {step.type} step, not a Callback step")
        typed_outputs(step.raw.get("OutputParameters") or [], answer.outputs)


def typed_outputs(declared: Sequence[Mapping[str, Any]], values: Mapping[str, str]) -> list[dict[str, Any]]:
    """OutputParameters from the answer's text values, each converted to its declared OutputType.

    Raises:
        CallbackError: an output is not declared, or its value does not fit the declared type.
    """
    types = {item["OutputName"]: item.get("OutputType") or "String" for item in declared}
    outputs = []
    for name, text in values.items():
        if name not in types:
            raise CallbackError(f"the step declares no output {name!r}",
                                hint=did_you_mean(name, types) or "Declared: " + (", ".join(types) or "(none)"))
        outputs.append({"Name": name, "Value": _convert(name, types[name], text)})
    return outputs


def _convert(name: str, kind: str, text: str) -> Any:
    try:
        if kind == "Integer":
            return int(text)
        if kind == "Float":
            return float(text)
        if kind == "Boolean":
            if text.lower() not in ("true", "false"):
                raise ValueError(text)
            return text.lower() == "true"
    except ValueError as exc:
        raise CallbackError(f"output {name!r} is declared {kind}; {text!r} is not") from exc
    return text


def register(directory: Path, token: str, request: Mapping[str, Any]) -> None:
    """Record a waiting step's token (what `executions callback` checks answers against)."""
    _write(directory / f"{token}.json", {"token": token, "created": time.time(), **request})


def wait_for_answer(directory: Path, token: str, cancelled: threading.Event) -> Answer | None:
    """Block until the token is answered (the Answer) or `cancelled` is set (None)."""
    path = directory / f"{token}.answer.json"
    while not path.exists():
        if cancelled.wait(POLL_SECONDS):
            return None
    data = json.loads(path.read_text(encoding="utf-8"))
    return Answer(data["status"], data.get("outputs") or {}, data.get("reason"))


def pending_callbacks(execution_id: str, state_dir: str | os.PathLike[str] | None = None) -> list[dict[str, Any]]:
    """The tokens of an execution's Callback steps that wait for an answer (their records, oldest first)."""
    directory = callbacks_dir(state_dir)
    found = []
    for path in directory.glob("*.json") if directory.is_dir() else []:
        if path.name.endswith(".answer.json") or (directory / f"{path.stem}.answer.json").exists():
            continue
        request = json.loads(path.read_text(encoding="utf-8"))
        if request.get("execution_id") == execution_id:
            found.append(request)
    return sorted(found, key=lambda request: request.get("created", 0))


def send_callback(token: str, answer: Answer, state_dir: str | os.PathLike[str] | None = None) -> dict[str, Any]:
    """Answer a waiting Callback step (SendPipelineExecutionStepSuccess / Failure); returns its token record.

    Raises:
        CallbackError: no step waits on this token (closest tokens suggested), it was answered already,
            or an output is undeclared or of the wrong type.
    """
    directory = callbacks_dir(state_dir)
    request_path = directory / f"{token}.json"
    if not request_path.exists():
        waiting = sorted(p.name[: -len(".json")] for p in directory.glob("*.json")
                         if not p.name.endswith(".answer.json"))
        raise CallbackError(f"no Callback step waits on token {token!r} in {directory.parent}",
                            hint=did_you_mean(token, waiting) or "The token is printed by the waiting run; pass the "
                            "--state-dir it runs with.")
    if (directory / f"{token}.answer.json").exists():
        raise CallbackError(f"callback token {token!r} was answered already")
    request = json.loads(request_path.read_text(encoding="utf-8"))
    if answer.status == SUCCESS:
        typed_outputs(request.get("outputs") or [], answer.outputs)
    _write(directory / f"{token}.answer.json",
           {"status": answer.status, "outputs": dict(answer.outputs), "reason": answer.reason})
    return request


def _write(path: Path, data: Mapping[str, Any]) -> None:
    """Write JSON atomically: a reader sees the whole file or none."""
    write_text_atomic(path, json.dumps(data))
