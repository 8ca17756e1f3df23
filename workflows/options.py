"""Activity options shared by the workflows."""

from __future__ import annotations

from datetime import timedelta
from typing import NotRequired, TypedDict

from temporalio.common import RetryPolicy


class ActivityOptions(TypedDict):
    start_to_close_timeout: timedelta
    retry_policy: RetryPolicy
    heartbeat_timeout: NotRequired[timedelta]


# Reads and bookkeeping: retried with backoff; refusals are non-retryable ApplicationErrors.
QUICK = ActivityOptions(
    start_to_close_timeout=timedelta(seconds=30),
    retry_policy=RetryPolicy(maximum_interval=timedelta(seconds=10)),
)
# Evidence evaluation reads large files. It heartbeats while it computes, so a lost worker (or
# a server restart that loses the task) is noticed in seconds and retried, not after 5 minutes.
EVALUATE = ActivityOptions(
    start_to_close_timeout=timedelta(minutes=5),
    heartbeat_timeout=timedelta(seconds=10),
    retry_policy=RetryPolicy(maximum_interval=timedelta(seconds=30), maximum_attempts=5),
)
# A safety action: retried until it lands (no attempt limit), unless refused.
SAFETY_COMMIT = ActivityOptions(
    start_to_close_timeout=timedelta(seconds=30),
    retry_policy=RetryPolicy(
        initial_interval=timedelta(milliseconds=200), maximum_interval=timedelta(seconds=5)
    ),
)
# A batch of risk events: retried until it lands, like a commit; it heartbeats after each
# event (each waits at most PREEMPTION_WAIT_SECONDS for a preempted promotion to end).
APPLY_RISK = ActivityOptions(
    start_to_close_timeout=timedelta(minutes=5),
    heartbeat_timeout=timedelta(seconds=20),
    retry_policy=RetryPolicy(
        initial_interval=timedelta(milliseconds=200), maximum_interval=timedelta(seconds=5)
    ),
)
