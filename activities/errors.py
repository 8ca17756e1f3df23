"""Domain refusals cross into workflows as non-retryable ApplicationErrors with a stable type."""

from __future__ import annotations

from temporalio.exceptions import ApplicationError

from governance.errors import GovernanceError


def refusal(exc: GovernanceError) -> ApplicationError:
    return ApplicationError(exc.message, exc.to_dict(), type=exc.code, non_retryable=True)
