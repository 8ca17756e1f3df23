"""Request bodies of the HTTP API (responses reuse the domain and workflow models)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from governance.bounds import COMMENT_MAX, REASON_MAX
from governance.onboarding import ROWS_MAX
from governance.records import Identifier, Severity
from governance.risk_events import Details, RiskEventKind
from governance.roles import Role
from governance.stages import LifecycleStage


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PromotionRequestIn(_Body):
    uid: Identifier
    strategy_id: Identifier
    to_stage: LifecycleStage
    reason: str = Field(default="", max_length=REASON_MAX)


class ApproveIn(_Body):
    role: Role
    metrics_hash: str | None = Field(default=None, max_length=128)
    comment: str = Field(default="", max_length=COMMENT_MAX)
    confirmation_token: str | None = Field(default=None, max_length=200)


class RejectIn(_Body):
    role: Role
    comment: str = Field(default="", max_length=COMMENT_MAX)


class CancelIn(_Body):
    reason: str = Field(default="", max_length=REASON_MAX)


class UnfreezeIn(_Body):
    reason: str = Field(default="", max_length=REASON_MAX)


class FreezeIn(_Body):
    reason: str = Field(min_length=1, max_length=REASON_MAX)


class RiskEventIn(_Body):
    event_id: Identifier
    uid: Identifier
    strategy_id: Identifier
    kind: RiskEventKind
    severity: Severity | None = None
    details: Details = Field(default_factory=dict)


class Created(BaseModel):
    request_id: str
    workflow_id: str


class HaltIn(_Body):
    reason: str = Field(min_length=3, max_length=500)


class ResumeIn(_Body):
    role: Role | None = None
    unfreeze: bool = False
    comment: str = Field(default="", max_length=500)


class PlatformResumeIn(_Body):
    reason: str = Field(default="", max_length=REASON_MAX)


class StrategyBatchIn(_Body):
    """Rows as a file holds them (uid, strategy_id, stage, since): validated row by row by the
    use case, so a refusal names the row as `rows[N].field` (N from 1) for a file or a batch."""

    rows: list[Any] = Field(min_length=1, max_length=ROWS_MAX)
