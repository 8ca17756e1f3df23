"""The decisions of a promotion request, as pure functions the workflow calls.

The workflow orchestrates (waits, timers, activities); every rule it applies lives here.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from governance.errors import GovernanceError, InvalidTransition, PolicyMissing
from governance.policy import ApprovalRequirement, PromotionPolicy
from governance.records import Approval, ApprovedBy, Identifier, RequestStatus, StrategyDoc
from governance.report import EligibilityReport
from governance.roles import Role
from governance.stages import Decision, LifecycleStage, Transition, promotion_transition


class Phase(StrEnum):
    VALIDATING = "VALIDATING"
    WAITING_FOR_WINDOW = "WAITING_FOR_WINDOW"
    AWAITING_APPROVALS = "AWAITING_APPROVALS"
    FINAL_CHECK = "FINAL_CHECK"
    COMMITTED = "COMMITTED"
    REJECTED = "REJECTED"
    CANCELLED = "CANCELLED"
    PREEMPTED = "PREEMPTED"
    EXPIRED = "EXPIRED"
    INELIGIBLE = "INELIGIBLE"

    @property
    def terminal(self) -> bool:
        return self in _TERMINAL


_TERMINAL = {
    Phase.COMMITTED,
    Phase.REJECTED,
    Phase.CANCELLED,
    Phase.PREEMPTED,
    Phase.EXPIRED,
    Phase.INELIGIBLE,
}

REQUEST_STATUS = {
    Phase.COMMITTED: RequestStatus.APPROVED,
    Phase.REJECTED: RequestStatus.REJECTED,
    Phase.CANCELLED: RequestStatus.CANCELLED,
    Phase.PREEMPTED: RequestStatus.PREEMPTED,
    Phase.EXPIRED: RequestStatus.EXPIRED,
    Phase.INELIGIBLE: RequestStatus.INELIGIBLE,
}


class PromotionInput(BaseModel):
    """A request as the requester made it; `request_id` is chosen by the caller."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    request_id: Identifier
    tenant_id: Identifier
    uid: Identifier
    strategy_id: Identifier
    decision: Decision = Decision.PROMOTE
    to_stage: LifecycleStage
    requested_by: Identifier
    requested_at: datetime
    reason: str = ""
    correlation_id: str | None = None


def promotion_workflow_id(tenant_id: str, uid: str, strategy_id: str) -> str:
    return f"promotion/{tenant_id}/{uid}/{strategy_id}"


def demotion_workflow_id(tenant_id: str, uid: str, strategy_id: str) -> str:
    return f"demotion/{tenant_id}/{uid}/{strategy_id}"


def validate_request(
    request: PromotionInput, strategy: StrategyDoc | None, policy: PromotionPolicy | None
) -> ApprovalRequirement:
    """Refuse a request that can never succeed; returns the approvals it needs."""
    if policy is None:
        raise PolicyMissing(
            "no promotion policy for this tenant: promotions are refused (fail-closed)",
            field="policy",
        )
    if strategy is None:
        raise GovernanceError(
            f"strategy {request.uid}/{request.strategy_id} is not registered",
            field="strategy_id",
            code="unknown_strategy",
        )
    if strategy.breaker_active():
        # Decisions start from the effective stage; the breaker's demotion is recorded first.
        raise InvalidTransition(
            f"{strategy.describe_breaker()}: requests start from the effective stage "
            f"{strategy.effective_stage()}, once the breaker's demotion is on record",
            field="execution_mode",
        )
    if request.decision == Decision.UNFREEZE:
        if not strategy.freeze:
            raise InvalidTransition("strategy is not frozen: nothing to unfreeze", field="decision")
        if request.to_stage != strategy.lifecycle_stage:
            raise InvalidTransition("an unfreeze keeps the stage", field="to_stage")
        return policy.approvals_for("unfreeze")
    if request.decision != Decision.PROMOTE:
        raise InvalidTransition(
            "requests promote or unfreeze; demotions come from risk events", field="decision"
        )
    if strategy.freeze:
        raise InvalidTransition(
            f"strategy is frozen ({strategy.freeze_reason}): promotions are blocked until an "
            "approved unfreeze",
            field="freeze",
        )
    if is_live_renewal(request, strategy.lifecycle_stage):
        # Renewing a lapsing LIVE enablement takes the same governance as granting it.
        return policy.approvals_for(Transition.PAPER_TO_LIVE)
    try:
        transition = promotion_transition(strategy.lifecycle_stage, request.to_stage)
    except ValueError as exc:
        raise InvalidTransition(str(exc).split(": ", 1)[-1], field="to_stage") from None
    return policy.approvals_for(transition)


def is_live_renewal(request: PromotionInput, from_stage: LifecycleStage | None) -> bool:
    """A LIVE strategy's request for LIVE: a renewal of its time-bounded enablement.

    It keeps the stage, needs the PAPER -> LIVE approvals and confirmation tokens, and measures
    no stability window (the strategy is already live; risk events demote it on breaches).
    """
    return (
        request.decision == Decision.PROMOTE
        and request.to_stage == LifecycleStage.LIVE
        and from_stage == LifecycleStage.LIVE
    )


def transition_of(request: PromotionInput, from_stage: LifecycleStage) -> Transition | None:
    """The promotion a request measures evidence for; None for unfreezes and LIVE renewals."""
    if request.decision != Decision.PROMOTE or is_live_renewal(request, from_stage):
        return None
    return promotion_transition(from_stage, request.to_stage)


def deadline(request: PromotionInput, policy: PromotionPolicy) -> datetime:
    return request.requested_at + timedelta(seconds=policy.request_deadline_seconds)


def stale_approvals(
    approvals: list[Approval], reports: dict[str, EligibilityReport], final: EligibilityReport
) -> dict[str, str]:
    """Approvals that no longer stand, by approver, with why.

    An approval is stale when the verdict changed since the report it was given on, or when a
    criterion that passed then fails now: the approver signed off on something no longer true.
    """
    final_passed = {c.name: c.passed for c in final.criteria}
    stale: dict[str, str] = {}
    for approval in approvals:
        seen = reports.get(approval.metrics_hash or "")
        if seen is None:
            stale[approval.approved_by] = "the report it was given on is unknown"
            continue
        if seen.verdict != final.verdict:
            stale[approval.approved_by] = f"verdict changed from {seen.verdict} to {final.verdict}"
            continue
        now_failing = [
            c.name for c in seen.criteria if c.passed and final_passed.get(c.name) is False
        ]
        if now_failing:
            stale[approval.approved_by] = f"criteria now failing: {', '.join(now_failing)}"
    return stale


def approved_by(approvals: list[Approval]) -> list[ApprovedBy]:
    return [
        ApprovedBy(
            role=a.role,
            uid=a.approved_by,
            approved_at=a.approved_at,
            comment=a.comment,
            metrics_hash=a.metrics_hash,
            designated_person=a.designated_person,
        )
        for a in approvals
    ]


AUTO_APPROVER = "auto-approve"


def auto_approvals(
    requirement: ApprovalRequirement, now: datetime, metrics_hash: str | None
) -> list[Approval]:
    """The approvals a non-production tenant's policy grants on its own: every role slot the
    transition needs, each under its own name (one person fills one role)."""
    return [
        Approval(
            role=role,
            approved_by=f"{AUTO_APPROVER}.{position}",
            approved_at=now,
            comment="auto-approved: non-production tenant policy",
            metrics_hash=metrics_hash,
        )
        for position, role in enumerate(requirement.roles, start=1)
    ]


def may_cancel(request: PromotionInput, user: str, roles: list[Role] | None) -> bool:
    return user == request.requested_by or Role.ADMIN in (roles or [])


def changed_since_read(
    request: PromotionInput,
    strategy: StrategyDoc | None,
    from_stage: LifecycleStage | None,
    expected_last_record_id: str | None,
) -> str | None:
    """Why the strategy is no longer as the request saw it at its start (None: unchanged).

    The final check's early answer; the commit's precondition re-checks the same in the store's
    transaction, so a change that lands in between is still refused there.
    """
    if strategy is None:
        return "the strategy is no longer registered"
    if strategy.lifecycle_stage != from_stage:
        return f"the strategy moved to {strategy.lifecycle_stage}"
    if strategy.last_stage_change_record_id != expected_last_record_id:
        return f"another record ({strategy.last_stage_change_record_id}) landed meanwhile"
    if request.decision == Decision.PROMOTE and strategy.freeze:
        return f"the strategy was frozen ({strategy.freeze_reason})"
    return None


def needs_live_token(request: PromotionInput) -> bool:
    """PAPER -> LIVE (and its renewal): each final authorizer confirms with a token."""
    return request.to_stage == LifecycleStage.LIVE and request.decision == Decision.PROMOTE


def live_token_valid(token_expiry: dict[str, datetime], now: datetime) -> bool:
    """At commit, at least one final authorizer's confirmation is still within its TTL."""
    return any(expiry > now for expiry in token_expiry.values())


def auto_approval_due(
    policy: PromotionPolicy, transition: Transition | None, approvals: list[Approval]
) -> bool:
    """A non-production tenant's policy grants the approvals itself, once, before anyone."""
    return transition is not None and policy.auto_approves(transition) and not approvals


def report_changed(shown_hash: str | None, current: EligibilityReport | None) -> bool:
    """An approval given on another report than the current one is refused (the approver must
    review what is true now)."""
    return current is not None and shown_hash != current.metrics_hash


def request_update_applies(stored: RequestStatus | None, new: RequestStatus) -> bool:
    """A closed request is never reopened or re-closed differently: a late write of an earlier
    state (a retried save that lands after the commit closed the request) changes nothing."""
    return stored is None or stored == RequestStatus.PENDING or stored == new
