"""Callback steps: the step waits for its token; an answer from another process (or given up front)
resumes it, its outputs converted to their declared types."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from modelbuild.errors import UnknownStepError
from modelbuild.local.callbacks import FAILURE, SUCCESS, Answer, CallbackError, send_callback
from modelbuild.local.records import FAILED, SKIPPED, SUCCEEDED
from tests.local.conftest import condition, definition, fail, statuses

CLI = [sys.executable, "-c", "from modelbuild.cli.app import main; main()"]


def callback_step() -> dict:
    """A Callback step as the SDK's CallbackStep writes it."""
    return {"Name": "Approve", "Type": "Callback", "Arguments": {"model": "s3://bucket/model.tar.gz"},
            "SqsQueueUrl": "https://sqs.us-east-1.amazonaws.com/123456789012/approvals",
            "OutputParameters": [{"OutputName": "approved", "OutputType": "Boolean"},
                                 {"OutputName": "reviewer", "OutputType": "String"}]}


def approval_pipeline() -> dict:
    check = condition("IsApproved", [{"Type": "Equals", "RightValue": True,
                                      "LeftValue": {"Get": "Steps.Approve.OutputParameters['approved']"}}],
                      else_steps=[fail("Rejected", "not approved")])
    return definition(callback_step(), check)


def test_an_answer_given_up_front_resumes_the_step_with_typed_outputs(workspace):
    record = workspace.run(approval_pipeline(), callbacks={
        "Approve": Answer(SUCCESS, {"approved": "true", "reviewer": "ana"})})

    assert record.status == SUCCEEDED, record.failure_reason
    assert record.steps[0].properties == {"OutputParameters": [
        {"Name": "approved", "Value": True}, {"Name": "reviewer", "Value": "ana"}]}
    assert statuses(record)["Rejected"] == SKIPPED


def test_a_failure_answer_fails_the_step_with_its_reason(workspace):
    record = workspace.run(approval_pipeline(), callbacks={"Approve": Answer(FAILURE, reason="model too large")})

    assert record.status == FAILED
    assert record.steps[0].failure_reason == "callback failure: model too large"


def test_up_front_answers_are_checked_before_the_run(workspace):
    with pytest.raises(UnknownStepError, match="Aprove"):
        workspace.run(approval_pipeline(), callbacks={"Aprove": Answer(SUCCESS)})
    with pytest.raises(CallbackError, match="'approved' is declared Boolean; 'maybe' is not"):
        workspace.run(approval_pipeline(), callbacks={"Approve": Answer(SUCCESS, {"approved": "maybe"})})


def test_an_unknown_token_is_refused(tmp_path):
    with pytest.raises(CallbackError, match="no Callback step waits on token 'nope'"):
        send_callback("nope", Answer(SUCCESS), tmp_path)


def test_a_callback_is_answered_from_a_second_process(tmp_path):
    path = tmp_path / "approval.json"
    path.write_text(json.dumps(approval_pipeline()))
    state = tmp_path / "state"
    run = subprocess.Popen([*CLI, "run", "--local", "--definition", str(path), "--state-dir", str(state), "--json"],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        waiting = None
        for line in run.stdout:
            event = json.loads(line)
            if event.get("step") == "Approve" and "callback token" in (event.get("reason") or ""):
                waiting = event["reason"]
                break
        assert waiting, run.stderr.read() if run.poll() is not None else "no callback event"
        token = waiting.split("callback token ", 1)[1].split(";", 1)[0]
        assert f"modelbuild executions callback {token} --success --output approved=VALUE" in waiting
        listed = subprocess.run([*CLI, "executions", "list", "--json", "--state-dir", str(state)],
                                capture_output=True, text=True, timeout=60)
        execution = json.loads(listed.stdout)[0]["id"]
        shown = subprocess.run([*CLI, "executions", "show", execution, "--state-dir", str(state)],
                               capture_output=True, text=True, timeout=60, env={**os.environ, "COLUMNS": "300"})
        assert f"Step Approve waits for callback token {token}" in shown.stdout, shown.stdout + shown.stderr

        answered = subprocess.run([*CLI, "executions", "callback", token, "--success", "--output", "approved=true",
                                   "--output", "reviewer=ana", "--state-dir", str(state)],
                                  capture_output=True, text=True, timeout=60)
        assert answered.returncode == 0, answered.stderr
        rest, errors = run.communicate(timeout=120)
    finally:
        run.kill()

    assert answered.returncode == 0, answered.stderr
    assert "Step Approve of execution" in answered.stdout
    assert run.returncode == 0, errors
    summary = json.loads(rest.strip().splitlines()[-1])["execution"]
    assert {s["name"]: s["status"] for s in summary["steps"]} == {
        "Approve": "Succeeded", "IsApproved": "Succeeded", "Rejected": "Skipped"}


def test_a_waiting_step_stops_waiting_when_the_run_is_cancelled(tmp_path):
    import threading

    from modelbuild.local.callbacks import register, wait_for_answer

    register(tmp_path, "t1", {"step": "Approve", "execution_id": "e1", "outputs": []})
    cancelled = threading.Event()
    cancelled.set()

    assert wait_for_answer(tmp_path, "t1", cancelled) is None
