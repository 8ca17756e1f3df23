"""The promotion workflow's messages (updates, signals, query) and its outcome."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from governance import approvals as rules
from governance.assertion import ApprovalAssertion
from governance.policy import ApprovalRequirement, PromotionPolicy
from governance.promotion import Phase, PromotionInput
from governance.records import Approval
from governance.report import EligibilityReport
from governance.roles import Role
from governance.stages import Decision, LifecycleStage


class ApproveInput(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    approver: str
    role: Role
    metrics_hash: str | None = None
    comment: str = ""
    # PAPER -> LIVE: each final authorizer confirms with a token from `stratgate live confirm`.
    confirmation_token: str | None = None
    # Signed by the API for the authenticated person: without it the approval does not count.
    assertion: ApprovalAssertion | None = None


class RejectInput(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    user: str
    role: Role
    comment: str = ""


class CancelInput(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    user: str
    reason: str = ""


class PromotionStatus(BaseModel):
    request_id: str
    workflow_id: str
    tenant_id: str
    uid: str
    strategy_id: str
    decision: Decision
    from_stage: LifecycleStage | None
    to_stage: LifecycleStage
    phase: Phase
    status_reason: str | None
    requested_by: str
    requested_at: datetime
    reason: str
    deadline: datetime | None
    policy_version: str | None
    report: EligibilityReport | None
    approvals: list[Approval] = Field(default_factory=list)
    missing_roles: list[Role] = Field(default_factory=list)
    stale_approvals: dict[str, str] = Field(default_factory=dict)
    record_id: str | None = None


class PromotionOutcome(BaseModel):
    phase: Phase
    status_reason: str | None
    record_id: str | None = None


class PromotionState(BaseModel):
    """Everything the promotion workflow knows, in one serialisable object: `status()` and the
    request document are read from it, and it is all a continue-as-new would need to carry."""

    phase: Phase = Phase.VALIDATING
    status_reason: str | None = None
    from_stage: LifecycleStage | None = None
    expected_last_record_id: str | None = None
    stage_entered_at: datetime | None = None
    policy: PromotionPolicy | None = None
    requirement: ApprovalRequirement | None = None
    deadline: datetime | None = None
    report: EligibilityReport | None = None
    # Reports an approval was given on, by metrics_hash (to tell which approvals went stale).
    reports: dict[str, EligibilityReport] = Field(default_factory=dict)
    approvals: list[Approval] = Field(default_factory=list)
    stale: dict[str, str] = Field(default_factory=dict)
    token_expiry: dict[str, datetime] = Field(default_factory=dict)  # final authorizer -> expiry
    record_id: str | None = None
    rejection: str | None = None
    cancellation: str | None = None
    preempt_reason: str | None = None  # what the preempting risk event said
    evidence_updated: bool = False
    changes: int = 0  # approvals, rejections and cancels counted: wakes the approval wait

    def remember(self, report: EligibilityReport) -> None:
        """The latest report; older ones are kept only while an approval cites them."""
        cited = {a.metrics_hash for a in self.approvals}
        self.reports = {h: r for h, r in self.reports.items() if h in cited}
        self.reports[report.metrics_hash] = report
        self.report = report

    def report_hash(self) -> str | None:
        return self.report.metrics_hash if self.report else None

    def people_ended(self) -> bool:
        return bool(self.cancellation or self.rejection)

    def ended_by_people(self) -> tuple[Phase, str | None]:
        """A rejection wins over a cancel that arrived with it."""
        if self.rejection:
            return Phase.REJECTED, self.rejection
        return Phase.CANCELLED, self.cancellation

    def missing_roles(self) -> list[Role]:
        return rules.missing_roles(self.requirement, self.approvals) if self.requirement else []

    def status(self, request: PromotionInput, workflow_id: str) -> PromotionStatus:
        return PromotionStatus(
            request_id=request.request_id,
            workflow_id=workflow_id,
            tenant_id=request.tenant_id,
            uid=request.uid,
            strategy_id=request.strategy_id,
            decision=request.decision,
            from_stage=self.from_stage,
            to_stage=request.to_stage,
            phase=self.phase,
            status_reason=self.status_reason,
            requested_by=request.requested_by,
            requested_at=request.requested_at,
            reason=request.reason,
            deadline=self.deadline,
            policy_version=self.policy.policy_version if self.policy else None,
            report=self.report,
            approvals=self.approvals,
            missing_roles=self.missing_roles(),
            stale_approvals=self.stale,
            record_id=self.record_id,
        )

    def outcome(self) -> PromotionOutcome:
        return PromotionOutcome(
            phase=self.phase, status_reason=self.status_reason, record_id=self.record_id
        )
