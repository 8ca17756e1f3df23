"""Domain errors. Each names the field at fault and the reason, so callers can show both."""

from __future__ import annotations


class GovernanceError(Exception):
    """A refusal by a governance rule. `code` is stable and machine-readable."""

    code = "governance_error"

    def __init__(self, message: str, *, field: str | None = None, code: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field
        if code is not None:
            self.code = code

    def to_dict(self) -> dict[str, str | None]:
        return {"code": self.code, "field": self.field, "message": self.message}


class PolicyMissing(GovernanceError):
    code = "missing_policy"


class InvalidTransition(GovernanceError):
    code = "invalid_transition"


class ApprovalRefused(GovernanceError):
    code = "approval_refused"


class PreconditionFailed(GovernanceError):
    """The strategy changed since the caller looked: nothing was written."""

    code = "precondition_failed"


class RecordConflict(GovernanceError):
    """A different record already exists under this id or chain position."""

    code = "record_conflict"


class NotFound(GovernanceError):
    code = "not_found"


class UnknownStrategy(GovernanceError):
    """Nothing is governed, or sent, for a strategy that is not registered."""

    code = "unknown_strategy"

    def __init__(self, tenant_id: str, uid: str, strategy_id: str):
        super().__init__(
            f"unknown strategy {tenant_id}/{uid}/{strategy_id}: it is not registered",
            field="strategy_id",
        )


class UnknownTenant(GovernanceError):
    """A tenant with no policy and no strategy: most likely a typo of the tenant id."""

    code = "unknown_tenant"

    def __init__(self, tenant_id: str):
        super().__init__(
            f"unknown tenant {tenant_id}: it has no policy and no registered strategy",
            field="tenant_id",
        )


class RequestEnded(GovernanceError):
    """The request acted on has already ended: the message says how."""

    code = "request_ended"


class RecordCorrupt(GovernanceError):
    """A stored record no longer parses: it was altered outside stratgate."""

    code = "record_corrupt"
