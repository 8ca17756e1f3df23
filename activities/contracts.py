"""Inputs and outputs of activities: the data that crosses the workflow/world boundary."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from governance.assertion import ApprovalAssertion, ApprovalClaim
from governance.policy import PromotionPolicy
from governance.records import StrategyDoc
from governance.stages import LifecycleStage


class StrategyRef(BaseModel):
    model_config = ConfigDict(frozen=True)

    tenant_id: str
    uid: str
    strategy_id: str


class StrategyContext(BaseModel):
    """The strategy, its effective policy (overrides merged) and the approver directory."""

    strategy: StrategyDoc | None
    policy: PromotionPolicy | None
    policy_error: str | None = None
    # Set when this read found a platform breaker's write and recorded its demotion.
    breaker_record_id: str | None = None


class EvaluateInput(BaseModel):
    model_config = ConfigDict(frozen=True)

    tenant_id: str
    uid: str
    strategy_id: str
    target_stage: LifecycleStage
    stage_entered_at: datetime | None
    policy: PromotionPolicy
    now: datetime


class ApproverRef(BaseModel):
    model_config = ConfigDict(frozen=True)

    tenant_id: str
    user: str


class ApproverCheck(BaseModel):
    """An approval to count: the person's directory roles, once their assertion verifies."""

    model_config = ConfigDict(frozen=True)

    claim: ApprovalClaim  # what the approval says
    assertion: ApprovalAssertion | None


class RedeemInput(BaseModel):
    model_config = ConfigDict(frozen=True)

    tenant_id: str
    request_id: str
    user: str
    token: str
    now: datetime


class Notification(BaseModel):
    model_config = ConfigDict(frozen=True)

    event_type: str
    tenant_id: str
    uid: str | None = None
    strategy_id: str | None = None
    message: str
    fields: dict[str, Any] = Field(default_factory=dict)
