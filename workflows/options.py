"""Activity options shared by the workflows."""

from __future__ import annotations

from datetime import timedelta
from typing import TypedDict

from temporalio.common import RetryPolicy


class ActivityOptions(TypedDict):
    start_to_close_timeout: timedelta
    retry_policy: RetryPolicy


# Reads and bookkeeping: retried with backoff; refusals are non-retryable ApplicationErrors.
QUICK = ActivityOptions(
    start_to_close_timeout=timedelta(seconds=30),
    retry_policy=RetryPolicy(maximum_interval=timedelta(seconds=10)),
)
# Evidence evaluation reads large files.
EVALUATE = ActivityOptions(
    start_to_close_timeout=timedelta(minutes=5),
    retry_policy=RetryPolicy(maximum_interval=timedelta(seconds=30), maximum_attempts=5),
)
# A safety action: retried until it lands (no attempt limit), unless refused.
SAFETY_COMMIT = ActivityOptions(
    start_to_close_timeout=timedelta(seconds=30),
    retry_policy=RetryPolicy(
        initial_interval=timedelta(milliseconds=200), maximum_interval=timedelta(seconds=5)
    ),
)
