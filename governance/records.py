"""The governance documents of the spec's section 3 B-E, as pydantic models."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any, ClassVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_serializer
from pydantic_core.core_schema import SerializerFunctionWrapHandler

from governance.limits import LimitEnvelope
from governance.roles import Role
from governance.stages import (
    Decision,
    ExecutionMode,
    LifecycleStage,
    execution_mode_for,
    safer,
    stage_for_execution_mode,
)


def _utc(value: datetime) -> datetime:
    # One representation per instant keeps canonical hashes stable across stores.
    if value.tzinfo is None:
        raise ValueError("timestamps must carry a timezone (UTC)")
    return value.astimezone(UTC)


UtcDatetime = Annotated[datetime, AfterValidator(_utc)]
Identifier = Annotated[str, Field(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9_.@:\-]+$")]


class _Doc(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class EvidenceRef(_Doc):
    kind: str
    id: str
    sha256: str


class _Evolving(_Doc):
    """A stored model that gained fields after records were written with it.

    Fields named in `ADDED` are left out of its JSON form while they are empty, so a record
    written before they existed dumps, and therefore hashes, exactly as it did then.
    """

    ADDED: ClassVar[tuple[str, ...]] = ()

    @model_serializer(mode="wrap")
    def _omit_empty_additions(self, handler: SerializerFunctionWrapHandler) -> Any:
        data = handler(self)
        if isinstance(data, dict):
            for name in self.ADDED:
                if data.get(name) in (None, [], {}):
                    data.pop(name, None)
        return data


class WaiverRef(_Doc):
    criterion: str
    reason: str


class MetricsSnapshot(_Evolving):
    ADDED = ("waivers",)

    window_start: UtcDatetime | None = None
    window_end: UtcDatetime | None = None
    metrics: dict[str, Any] = Field(default_factory=dict)
    metrics_hash: str | None = None
    # Criteria the tenant's policy waived for this decision, each with the policy's reason.
    waivers: list[WaiverRef] = Field(default_factory=list)


class RuntimeFingerprint(_Doc):
    git_sha: str = "unknown"
    agent_name: str = "stratgate-worker"
    service: str = "stratgate"
    env: str = "embedded"


class Approval(_Evolving):
    """One person's sign-off, with the hash of the eligibility report they were shown."""

    ADDED = ("designated_person",)

    role: Role
    approved_by: Identifier
    approved_at: UtcDatetime
    comment: str = ""
    metrics_hash: str | None = None
    # True when the approver held `designated_person` in the directory as they signed: the
    # designation is fixed in the record, since the directory keeps no history.
    designated_person: bool | None = None


class ApprovedBy(_Evolving):
    ADDED = ("designated_person",)

    role: Role
    uid: Identifier
    approved_at: UtcDatetime
    comment: str = ""
    metrics_hash: str | None = None
    designated_person: bool | None = None


class RequestStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    CANCELLED = "cancelled"
    PREEMPTED = "preempted"
    EXPIRED = "expired"
    INELIGIBLE = "ineligible"


class PromotionRequest(_Doc):
    """Mutable workflow state (spec 3C): updated while approvals are collected."""

    request_id: Identifier
    tenant_id: Identifier
    uid: Identifier
    strategy_id: Identifier
    decision: Decision = Decision.PROMOTE
    from_stage: LifecycleStage
    to_stage: LifecycleStage
    requested_at: UtcDatetime
    requested_by: Identifier
    reason: str = ""
    status: RequestStatus = RequestStatus.PENDING
    status_reason: str | None = None
    approvals: list[Approval] = Field(default_factory=list)
    evidence_refs: list[EvidenceRef] = Field(default_factory=list)
    workflow_id: str | None = None
    record_id: str | None = None
    updated_at: UtcDatetime | None = None


class PromotionRecord(_Evolving):
    """Immutable, hash-chained source of truth for one stage change (spec 3D)."""

    ADDED = ("limit_envelope", "policy_hash")

    record_id: Identifier
    tenant_id: Identifier
    uid: Identifier
    strategy_id: Identifier
    sequence: Annotated[int, Field(ge=1)]
    from_stage: LifecycleStage
    to_stage: LifecycleStage
    decision: Decision
    policy_version: str | None = None
    requested_by: str
    requested_at: UtcDatetime
    approved_by: list[ApprovedBy] = Field(default_factory=list)
    effective_at: UtcDatetime
    reason_code: str
    freeze: bool = False
    freeze_reason: str | None = None
    request_id: str | None = None
    metrics_snapshot: MetricsSnapshot = MetricsSnapshot()
    evidence_refs: list[EvidenceRef] = Field(default_factory=list)
    runtime_fingerprint: RuntimeFingerprint = RuntimeFingerprint()
    live_enabled_until: UtcDatetime | None = None
    correlation_id: str | None = None
    prev_record_hash: str | None = None
    record_hash: str
    # A promotion into PAPER or LIVE: the stage's limits from the policy it was decided under.
    limit_envelope: LimitEnvelope | None = None
    # The cited policy version's `policy_hash` (governance/policy_chain.py); absent on records
    # written before policies were chained, which therefore hash as they did.
    policy_hash: str | None = None


class Severity(StrEnum):
    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"


class AuditEvent(_Evolving):
    """Append-only entry of the centralized audit log (spec 3E).

    The last three fields are the tenant's audit hash chain (`governance/audit_chain.py`): the
    store sets them when it appends the event, inside the write's transaction. Callers build
    events without them; an event stored before the chain existed has none (it dumps, and so
    compares, exactly as it did then).
    """

    ADDED = ("audit_sequence", "prev_event_hash", "event_hash")

    event_id: Identifier
    event_type: str
    severity: Severity = Severity.INFO
    ts: UtcDatetime
    tenant_id: Identifier
    uid: str | None = None
    strategy_id: str | None = None
    correlation_id: str | None = None
    trace_id: str | None = None
    details: dict[str, Any] = Field(default_factory=dict)
    audit_sequence: Annotated[int, Field(ge=1)] | None = None
    prev_event_hash: str | None = None
    event_hash: str | None = None


class StrategyDoc(_Doc):
    """The strategy registry entry (spec 3B) plus the chain head the store maintains."""

    # Other platform services keep their own fields on this document; keep reading it.
    model_config = ConfigDict(extra="ignore", frozen=True)

    tenant_id: Identifier
    uid: Identifier
    strategy_id: Identifier
    status: str = "active"
    lifecycle_stage: LifecycleStage = LifecycleStage.OBSERVE
    # Absent, it is what the stage maps to; only a written `SHADOW_MODE` below it is a breaker.
    execution_mode: ExecutionMode = Field(
        default_factory=lambda data: execution_mode_for(
            data.get("lifecycle_stage", LifecycleStage.OBSERVE)
        )
    )
    policy_version: str | None = None
    last_stage_change_at: UtcDatetime | None = None
    last_stage_change_record_id: str | None = None
    last_record_hash: str | None = None
    chain_length: Annotated[int, Field(ge=0)] = 0
    freeze: bool = False
    freeze_reason: str | None = None
    shadow_mode_reason: str | None = None
    shadow_mode_activated_at: UtcDatetime | None = None
    stage_overrides: dict[str, Any] | None = None
    live_enabled_until: UtcDatetime | None = None

    def effective_stage(self) -> LifecycleStage:
        """The safer of the governed stage and the runtime mode.

        A circuit breaker elsewhere on the platform may set `execution_mode = "SHADOW_MODE"`
        without touching `lifecycle_stage`; that must still hold the strategy down.
        """
        return safer(self.lifecycle_stage, stage_for_execution_mode(self.execution_mode))

    def expected_execution_mode(self) -> ExecutionMode:
        return execution_mode_for(self.lifecycle_stage)

    def breaker_active(self) -> bool:
        """Whether the runtime mode (a platform breaker's write) holds it below its stage."""
        return self.effective_stage() != self.lifecycle_stage

    def describe_breaker(self) -> str:
        since = self.shadow_mode_activated_at
        return (
            f"execution_mode is {self.execution_mode} (circuit breaker: "
            f"{self.shadow_mode_reason or 'no reason given'}"
            + (f", since {since.isoformat()}" if since else "")
            + f"), below lifecycle_stage {self.lifecycle_stage}"
        )
