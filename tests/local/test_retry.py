"""RetryPolicies retry the failures the engine classifies as retryable, and the attempts are recorded."""

from __future__ import annotations

import pytest

from modelbuild.local.records import FAILED, SUCCEEDED
from modelbuild.local.retry import retry_delay
from tests.local.conftest import definition, processing

KILLED = "SageMaker.JOB_INTERNAL_ERROR"


def retry_policy(exception_type: str = KILLED, attempts: int = 2) -> dict:
    return {"ExceptionType": [exception_type], "IntervalSeconds": 0, "BackoffRate": 2.0, "MaxAttempts": attempts}


def test_a_killed_job_is_retried_by_its_policy(workspace, tmp_path):
    pipeline = definition(processing("Flaky", "killed_once", args=[str(tmp_path / "marker")],
                                     RetryPolicies=[retry_policy()]))

    record = workspace.run(pipeline)

    assert (record.status, record.steps[0].attempts) == (SUCCEEDED, 2)


def test_a_killed_job_without_policy_fails_once(workspace, tmp_path):
    pipeline = definition(processing("Flaky", "killed_once", args=[str(tmp_path / "marker")]))

    record = workspace.run(pipeline)

    assert (record.status, record.steps[0].attempts) == (FAILED, 1)
    assert "killed by signal" in record.steps[0].failure_reason


def test_a_policy_for_other_failures_does_not_retry(workspace, tmp_path):
    pipeline = definition(processing("Flaky", "killed_once", args=[str(tmp_path / "marker")],
                                     RetryPolicies=[retry_policy("Step.THROTTLING")]))

    assert workspace.run(pipeline).steps[0].attempts == 1


def test_a_non_zero_exit_is_the_jobs_own_error_and_not_retried(workspace):
    pipeline = definition(processing("Broken", "crash", RetryPolicies=[retry_policy()]))

    assert workspace.run(pipeline).steps[0].attempts == 1


def test_retries_wait_the_interval_times_the_backoff(workspace, tmp_path, monkeypatch):
    waits: list[float] = []
    # the scheduler waits on the run's Cancellation, so a stop ends the wait at once
    monkeypatch.setattr("modelbuild.local.processes.Cancellation.wait", lambda self, seconds: waits.append(seconds))
    policy = {"ExceptionType": [KILLED], "IntervalSeconds": 3, "BackoffRate": 2.0, "MaxAttempts": 1}
    pipeline = definition(processing("Flaky", "killed_once", args=[str(tmp_path / "marker")], RetryPolicies=[policy]))

    workspace.run(pipeline)

    assert waits == [3.0]


@pytest.mark.parametrize(("retries", "expected"), [(0, 1.0), (1, 2.0), (2, 4.0), (3, None)])
def test_backoff_grows_until_max_attempts(retries, expected):
    policy = {"ExceptionType": [KILLED], "IntervalSeconds": 1, "BackoffRate": 2.0, "MaxAttempts": 3}

    assert retry_delay([policy], KILLED, retries, elapsed=0) == expected


def test_expire_after_min_bounds_retries_by_time():
    policy = {"ExceptionType": [KILLED], "IntervalSeconds": 30, "BackoffRate": 1.0, "ExpireAfterMin": 1}

    assert (retry_delay([policy], KILLED, 0, elapsed=0), retry_delay([policy], KILLED, 1, elapsed=40)) == (30.0, None)
