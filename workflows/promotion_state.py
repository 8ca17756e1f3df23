"""The promotion workflow's messages (updates, signals, query) and its outcome."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from governance.promotion import Phase
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
