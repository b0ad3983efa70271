"""Waiting for executions with botocore's Stubber: transitions, Failed, Stopped, throttling, timeout."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from botocore.stub import Stubber

from modelbuild.errors import AwsError, ExecutionFailedError, ExecutionStoppedError, ExecutionTimeoutError
from modelbuild.sagemaker_target.watch import (
    Backoff,
    ExecutionFinished,
    StepTransition,
    raise_for_outcome,
    watch_execution,
)

ARN = "arn:aws:sagemaker:us-east-1:123456789012:pipeline/p/execution/e1"
T0 = datetime(2026, 1, 1, tzinfo=timezone.utc)


class Scripted:
    """A Stubber queue of (execution status, [(step, status, extra)]) polls."""

    def __init__(self, sagemaker):
        self.stub = Stubber(sagemaker)

    def poll(self, status, steps, failure_reason=None):
        described = {"PipelineExecutionStatus": status, "PipelineExecutionArn": ARN}
        if failure_reason:
            described["FailureReason"] = failure_reason
        self.stub.add_response("describe_pipeline_execution", described, {"PipelineExecutionArn": ARN})
        self.stub.add_response(
            "list_pipeline_execution_steps",
            {
                "PipelineExecutionSteps": [
                    {"StepName": name, "StepStatus": step_status, "StartTime": T0, **extra}
                    for name, step_status, extra in steps
                ]
            },
            {"PipelineExecutionArn": ARN, "SortOrder": "Ascending"},
        )
        return self


def collect(clients, **options):
    sleeps = []
    events = list(watch_execution(clients, ARN, sleep=sleeps.append, **options))
    return events, sleeps


def test_each_status_change_is_reported_once(clients):
    script = (
        Scripted(clients.sagemaker)
        .poll("Executing", [("Train", "Executing", {})])
        .poll("Executing", [("Train", "Executing", {})])
        .poll("Succeeded", [("Train", "Succeeded", {"EndTime": T0})])
    )
    with script.stub:
        events, _ = collect(clients)

    transitions = [(e.step.name, e.previous, e.step.status) for e in events if isinstance(e, StepTransition)]
    assert transitions == [("Train", None, "Executing"), ("Train", "Executing", "Succeeded")]
    assert isinstance(events[-1], ExecutionFinished) and events[-1].status == "Succeeded"


def test_polling_backs_off_while_nothing_changes():
    backoff = Backoff(first=5, factor=2, cap=15)

    assert [backoff.next(5, False), backoff.next(10, False), backoff.next(15, True)] == [10, 15, 5]


def test_failed_execution_names_the_failing_step_and_reason(clients):
    script = Scripted(clients.sagemaker).poll(
        "Failed", [("Train", "Failed", {"FailureReason": "AlgorithmError: bad data"})], "Step failed"
    )
    with script.stub:
        events, _ = collect(clients)

    with pytest.raises(ExecutionFailedError, match="Train: AlgorithmError: bad data"):
        raise_for_outcome(events[-1])


def test_stopped_execution_raises_stopped(clients):
    script = Scripted(clients.sagemaker).poll("Stopped", [("Train", "Stopped", {})])
    with script.stub:
        events, _ = collect(clients)

    with pytest.raises(ExecutionStoppedError):
        raise_for_outcome(events[-1])


def test_succeeded_execution_raises_nothing():
    raise_for_outcome(ExecutionFinished(ARN, "Succeeded", None, ()))


def test_timeout_says_the_execution_keeps_running(clients):
    ticks = iter([0.0, 10.0])
    script = Scripted(clients.sagemaker).poll("Executing", [("Train", "Executing", {})])
    with script.stub, pytest.raises(ExecutionTimeoutError, match="still Executing") as raised:
        collect(clients, timeout=5, clock=lambda: next(ticks))

    assert "executions stop" in raised.value.hint


class ThrottleThenAnswer:
    """A `before-send` hook: the first DescribePipelineExecution is throttled, then answers come from `bodies`.

    It sits below botocore's retry handler (unlike Stubber), so it proves the standard retry mode retries.
    """

    def __init__(self, bodies):
        self.bodies = bodies
        self.throttled = 0

    def __call__(self, request, **_):
        import json

        from botocore.awsrequest import AWSResponse

        operation = request.headers["X-Amz-Target"].decode().split(".")[-1]
        if operation == "DescribePipelineExecution" and not self.throttled:
            self.throttled += 1
            status, body = 400, {"__type": "ThrottlingException", "message": "Rate exceeded"}
        else:
            status, body = 200, self.bodies[operation]
        return AWSResponse(request.url, status, {}, RawBody(json.dumps(body).encode()))


class RawBody:
    def __init__(self, content):
        self.content = content

    def stream(self, **_):
        yield self.content


def test_throttling_is_retried_by_botocore(clients):
    answer = ThrottleThenAnswer(
        {
            "DescribePipelineExecution": {"PipelineExecutionStatus": "Succeeded"},
            "ListPipelineExecutionSteps": {"PipelineExecutionSteps": []},
        }
    )
    clients.sagemaker.meta.events.register("before-send.sagemaker", answer)

    events, _ = collect(clients)

    assert answer.throttled == 1
    assert events[-1].status == "Succeeded"


def test_throttling_past_the_retries_is_one_line_aws_error(clients):
    stub = Stubber(clients.sagemaker)
    stub.add_client_error("describe_pipeline_execution", "ThrottlingException", "Rate exceeded")
    with stub, pytest.raises(AwsError, match="ThrottlingException: Rate exceeded") as raised:
        collect(clients)

    assert "throttled" in raised.value.hint.lower()


def test_a_failing_step_listing_is_said_once_and_the_execution_is_followed_to_its_end(clients, caplog):
    """ListPipelineExecutionSteps failing (a 500 after botocore's retries) is progress lost, not a failure."""
    stub = Stubber(clients.sagemaker)
    for status in ("Executing", "Executing", "Succeeded"):
        described = {"PipelineExecutionStatus": status, "PipelineExecutionArn": ARN}
        stub.add_response("describe_pipeline_execution", described, {"PipelineExecutionArn": ARN})
        stub.add_client_error("list_pipeline_execution_steps", "InternalFailure", "boom", http_status_code=500)
    with stub:
        events, _ = collect(clients)

    assert isinstance(events[-1], ExecutionFinished) and events[-1].status == "Succeeded"
    raise_for_outcome(events[-1])
    notices = [record.getMessage() for record in caplog.records if "Step detail is unavailable" in record.getMessage()]
    assert len(notices) == 1


def test_wait_against_the_moto_server_exits_with_the_executions_outcome(clients, tmp_path, monkeypatch):
    """moto has no ListPipelineExecutionSteps: `--wait` follows DescribePipelineExecution to Succeeded."""
    from typer.testing import CliRunner

    from modelbuild.cli.app import app
    from modelbuild.errors import ExitCode
    from tests.sagemaker_target.conftest import ROLE_ARN

    (tmp_path / "fail_only.py").write_text(FAIL_ONLY_MODULE)
    monkeypatch.chdir(tmp_path)

    result = CliRunner().invoke(app, ["run", "--target", "sagemaker", "--module-name", "fail_only",
                                      "--role-arn", ROLE_ARN, "--wait"])

    assert result.exit_code == ExitCode.OK, result.output
    assert result.stderr.count("Step detail is unavailable") == 1


FAIL_ONLY_MODULE = '''
def get_pipeline(region, role=None, default_bucket=None, sagemaker_session=None, pipeline_name="FailOnly"):
    from sagemaker.mlops.workflow.fail_step import FailStep
    from sagemaker.mlops.workflow.pipeline import Pipeline

    return Pipeline(name=pipeline_name, steps=[FailStep(name="Stop", error_message="not reached on moto")],
                    sagemaker_session=sagemaker_session)
'''
