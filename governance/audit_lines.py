"""The evidence pack's lines: one typed model per fact a section lists."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from governance.limits import LimitEnvelope
from governance.stages import Decision, LifecycleStage


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True)


class TestLine(_Model):
    """One eligibility criterion as the record's snapshot (and the report it cites) hold it."""

    name: str
    value: Any = None
    comparator: str | None = None
    threshold: float | None = None
    unit: str | None = None
    status: str | None = None  # None: the cited report is not in the store


class ApprovalLine(_Model):
    role: str
    person: str
    approved_at: datetime
    designated_person: bool = False
    comment: str = ""


class Deployment(_Model):
    strategy: str
    record_id: str
    record_hash: str
    from_stage: LifecycleStage
    to_stage: LifecycleStage
    reason_code: str
    requested_by: str
    requested_at: datetime
    effective_at: datetime
    policy_version: str | None
    metrics_hash: str | None
    window_start: datetime | None
    window_end: datetime | None
    verdict: str | None
    tests: list[TestLine]
    waivers: list[str]
    approvals: list[ApprovalLine]
    designated_person: str | None
    limit_envelope: LimitEnvelope | None
    # Request to the last approval: how long the people took.
    approve_seconds: float | None


class StageChangeLine(_Model):
    strategy: str
    record_id: str
    effective_at: datetime
    from_stage: LifecycleStage
    to_stage: LifecycleStage
    decision: Decision
    reason_code: str
    requested_by: str
    freeze: bool
    cause: str  # circuit_breaker | tenant_halt | risk_event


class Incident(_Model):
    event_id: str
    ts: datetime
    event_type: str
    severity: str
    strategy: str | None
    kind: str | None
    action: str | None
    explanation: str | None
    record_id: str | None


class Halt(_Model):
    halt_id: str
    halted_at: datetime
    reason: str
    halted_by: str
    scope: str
    drill: bool
    completed_at: datetime | None = None
    gate_closed_ms: float | None = None
    last_record_ms: float | None = None
    strategies: int | None = None
    records: int | None = None
    preempted: int | None = None
    resumed_at: datetime | None = None
    resumed_by: str | None = None
    halted_seconds: float | None = None  # halted to resumed


class PolicyEvent(_Model):
    event_type: str
    ts: datetime
    by: str | None
    details: dict[str, Any]


class PolicyChange(_Model):
    policy_version: str
    published_at: datetime | None
    published_by: str | None
    production: bool
    designated_person_required: bool
    limit_envelopes: dict[str, LimitEnvelope]
    # The governed flow's audit events for this version (proposals, approvals), when present.
    events: list[PolicyEvent] = Field(default_factory=list)


class LimitsInForce(_Model):
    strategy: str
    stage: LifecycleStage
    limit_envelope: LimitEnvelope | None  # None: no record of the stage carries one
    record_id: str | None
