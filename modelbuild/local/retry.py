"""RetryPolicies: which failures are retried, how often, and how long to wait before the next attempt.

A policy is `{"ExceptionType": [...], "IntervalSeconds": s, "BackoffRate": b, "MaxAttempts": n}` (or
`ExpireAfterMin` instead of MaxAttempts). The engine classifies its own failures with the same names
(see `modelbuild.local.container`): a job killed by a signal is `SageMaker.JOB_INTERNAL_ERROR`, a job that
could not start is `SageMaker.RESOURCE_LIMIT`; a non-zero exit is the job's own error and never retried.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

DEFAULT_MAX_ATTEMPTS = 5


def retry_delay(policies: Sequence[Mapping[str, Any]], exception_type: str | None, retries: int,
                elapsed: float) -> float | None:
    """Seconds to wait before retrying, or None when no policy allows another attempt.

    Args:
        policies: the step's RetryPolicies.
        exception_type: how the failure was classified, or None (not retryable).
        retries: how many retries were already made.
        elapsed: seconds since the first attempt started (for ExpireAfterMin).
    """
    if exception_type is None:
        return None
    for policy in policies:
        if exception_type not in (policy.get("ExceptionType") or []):
            continue
        interval = float(policy.get("IntervalSeconds", 1))
        delay = interval * float(policy.get("BackoffRate", 2.0)) ** retries
        if "ExpireAfterMin" in policy:
            allowed = elapsed + delay <= float(policy["ExpireAfterMin"]) * 60
        else:
            allowed = retries < int(policy.get("MaxAttempts", DEFAULT_MAX_ATTEMPTS))
        return delay if allowed else None
    return None
