"""Waiting for an execution: poll with backoff and report each step's status transitions.

DescribePipelineExecution decides the outcome; the per-step listing is progress only, so it is best
effort: when it fails (after botocore's retries: a 500, an endpoint such as moto's that lacks the API)
the waiter says so once and keeps following the execution, which keeps running whatever our listing does.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from modelbuild.errors import AwsError, ExecutionFailedError, ExecutionStoppedError, ExecutionTimeoutError
from modelbuild.sagemaker_target.aws import AwsClients, translate_aws_errors
from modelbuild.sagemaker_target.executions import TERMINAL_STATUSES, StepState, list_steps

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Backoff:
    """Polling delays: start at `first` seconds, grow by `factor` while nothing changes, up to `cap`."""

    first: float = 5.0
    factor: float = 1.5
    cap: float = 60.0

    def next(self, delay: float, changed: bool) -> float:
        """The delay before the next poll, given the last one and whether anything changed."""
        return self.first if changed else min(self.cap, delay * self.factor)


@dataclass(frozen=True)
class StepTransition:
    """A step moved to a new status (`previous` is None the first time it is seen)."""

    step: StepState
    previous: str | None

    def to_json(self) -> dict[str, Any]:
        """The transition as one JSON line's data."""
        return {"event": "step", "previous": self.previous, **self.step.to_json()}


@dataclass(frozen=True)
class ExecutionFinished:
    """The execution reached a terminal status."""

    arn: str
    status: str
    failure_reason: str | None
    steps: tuple[StepState, ...]

    def to_json(self) -> dict[str, Any]:
        """The outcome as one JSON line's data."""
        return {"event": "finished", "arn": self.arn, "status": self.status, "failure_reason": self.failure_reason}


def watch_execution(
    clients: AwsClients,
    execution_arn: str,
    timeout: float | None = None,
    backoff: Backoff = Backoff(),
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> Iterator[StepTransition | ExecutionFinished]:
    """Poll an execution until it ends, yielding step transitions and finally `ExecutionFinished`.

    Args:
        clients: from `make_clients`.
        execution_arn: the execution to watch.
        timeout: give up after this many seconds (None: wait for ever).
        backoff: the polling schedule.
        sleep, clock: injectable for tests.

    Raises:
        ExecutionTimeoutError: `timeout` passed first (the execution keeps running).
        AwsError: DescribePipelineExecution failed after botocore's retries (a failing step listing is
            only logged, once).
    """
    deadline = None if timeout is None else clock() + timeout
    seen: dict[str, str] = {}
    steps: list[StepState] = []
    listing_failed = False
    delay = backoff.first
    while True:
        with translate_aws_errors(f"watching {execution_arn}"):
            described = clients.sagemaker.describe_pipeline_execution(PipelineExecutionArn=execution_arn)
        try:
            steps = list_steps(clients, execution_arn)
        except AwsError as exc:
            if not listing_failed:
                log.warning("Step detail is unavailable (%s); following the execution's status only", exc.message)
                listing_failed = True
        changed = False
        for step in steps:
            if seen.get(step.name) != step.status:
                yield StepTransition(step, seen.get(step.name))
                seen[step.name] = step.status
                changed = True
        status = described["PipelineExecutionStatus"]
        if status in TERMINAL_STATUSES:
            yield ExecutionFinished(execution_arn, status, described.get("FailureReason") or None, tuple(steps))
            return
        if deadline is not None and clock() >= deadline:
            raise ExecutionTimeoutError(
                f"Execution still {status} after {timeout:g} s: {execution_arn}",
                hint=f"It keeps running. Watch it with `modelbuild executions show {execution_arn}` "
                f"or stop it with `modelbuild executions stop {execution_arn}`.",
            )
        delay = backoff.next(delay, changed)
        sleep(delay if deadline is None else max(0.0, min(delay, deadline - clock())))


def raise_for_outcome(finished: ExecutionFinished) -> None:
    """Raise the error matching a non-successful outcome; return quietly on Succeeded."""
    if finished.status == "Succeeded":
        return
    failed = [step for step in finished.steps if step.status == "Failed"]
    where = "; ".join(f"{step.name}: {step.failure_reason or 'no reason given'}" for step in failed)
    if finished.status in ("Stopped", "Stopping"):
        raise ExecutionStoppedError(f"Execution stopped: {finished.arn}")
    raise ExecutionFailedError(
        f"Execution {finished.status}: {where or finished.failure_reason or finished.arn}",
        hint=f"Details: modelbuild executions show {finished.arn}",
    )
