"""One stage change: its precondition, the record it produces, and the strategy doc after it.

Both store adapters call these pure functions inside their one atomic commit, so the rules of
`commit_stage_change` (DESIGN.md) live here once.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from governance.errors import PreconditionFailed, RecordConflict
from governance.hashing import canonical_hash
from governance.limits import LimitEnvelope
from governance.records import (
    ApprovedBy,
    AuditEvent,
    EvidenceRef,
    Identifier,
    MetricsSnapshot,
    PromotionRecord,
    RequestStatus,
    RuntimeFingerprint,
    Severity,
    StrategyDoc,
    UtcDatetime,
)
from governance.stages import Decision, LifecycleStage, execution_mode_for, rank

EVENT_TYPE = {
    Decision.PROMOTE: "strategy.promoted",
    Decision.DEMOTE: "strategy.demoted",
    Decision.FREEZE: "strategy.frozen",
    Decision.UNFREEZE: "strategy.unfrozen",
}


class StageChange(BaseModel):
    """Everything a workflow decided; the store adds the chain position and hashes."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    tenant_id: Identifier
    uid: Identifier
    strategy_id: Identifier
    record_id: Identifier
    audit_event_id: Identifier
    decision: Decision
    expected_from_stage: LifecycleStage
    expected_last_record_id: str | None
    to_stage: LifecycleStage
    reason_code: str
    policy_version: str | None
    requested_by: str
    requested_at: UtcDatetime
    effective_at: UtcDatetime
    approved_by: list[ApprovedBy] = Field(default_factory=list)
    # Factories, not instances: pydantic deep-copies an instance default for every change built
    # (measured: half the cost of planning a fleet halt's 10,000 changes).
    metrics_snapshot: MetricsSnapshot = Field(default_factory=MetricsSnapshot)
    evidence_refs: list[EvidenceRef] = Field(default_factory=list)
    runtime_fingerprint: RuntimeFingerprint = Field(default_factory=RuntimeFingerprint)
    # None leaves the freeze as it is; True/False sets or clears it.
    set_freeze: bool | None = None
    freeze_reason: str | None = None
    live_enabled_until: UtcDatetime | None = None
    request_id: str | None = None
    request_status: RequestStatus | None = None
    correlation_id: str | None = None
    severity: Severity = Severity.INFO
    audit_details: dict[str, object] = Field(default_factory=dict)
    # Written in the same transaction: the risk event's own audit entry, so a demotion and
    # the record that it was applied land together or not at all.
    companion_event: AuditEvent | None = None
    # A promotion into PAPER or LIVE: the stage's limit envelope, snapshotted into the record.
    limit_envelope: LimitEnvelope | None = None
    policy_hash: str | None = None
    # The OpenTelemetry trace the committing activity ran in (set there, never by a workflow:
    # reading a span is not deterministic); only the audit event carries it, not the record.
    trace_id: str | None = None


def check_precondition(change: StageChange, doc: StrategyDoc | None) -> StrategyDoc:
    """Refuse unless the strategy is exactly as the workflow last saw it."""
    if doc is None:
        raise PreconditionFailed("strategy is not registered", field="strategy_id")
    if doc.lifecycle_stage != change.expected_from_stage:
        raise PreconditionFailed(
            f"strategy is in {doc.lifecycle_stage}, not {change.expected_from_stage}",
            field="expected_from_stage",
        )
    if doc.last_stage_change_record_id != change.expected_last_record_id:
        raise PreconditionFailed(
            "strategy changed stage since it was read "
            f"(last record {doc.last_stage_change_record_id}, "
            f"expected {change.expected_last_record_id})",
            field="expected_last_record_id",
        )
    _check_direction(change, doc)
    if change.decision in (Decision.PROMOTE, Decision.UNFREEZE) and doc.breaker_active():
        # A breaker's write that landed while the request was in flight preempts it.
        raise PreconditionFailed(
            f"{doc.describe_breaker()}: the breaker's demotion is recorded first",
            field="execution_mode",
        )
    return doc


def _check_direction(change: StageChange, doc: StrategyDoc) -> None:
    up = rank(change.to_stage) - rank(doc.lifecycle_stage)
    if change.decision == Decision.PROMOTE:
        renewal = (
            up == 0
            and change.to_stage == LifecycleStage.LIVE
            and change.live_enabled_until is not None
        )
        if up != 1 and not renewal:
            raise PreconditionFailed(
                "a promotion moves exactly one stage up (or renews a LIVE enablement)",
                field="to_stage",
            )
        if doc.freeze:
            raise PreconditionFailed(
                f"strategy is frozen ({doc.freeze_reason}): promotions are blocked", field="freeze"
            )
    elif change.decision == Decision.DEMOTE:
        if up >= 0:
            raise PreconditionFailed("a demotion must lower the stage", field="to_stage")
    elif up != 0:
        raise PreconditionFailed(f"a {change.decision} keeps the stage", field="to_stage")
    if change.decision == Decision.UNFREEZE and not doc.freeze:
        raise PreconditionFailed("strategy is not frozen", field="freeze")


def _freeze_of(change: StageChange, current: bool) -> bool:
    """A freeze freezes and an unfreeze unfreezes, whatever else the change says."""
    if change.decision == Decision.FREEZE:
        return True
    if change.decision == Decision.UNFREEZE:
        return False
    return current if change.set_freeze is None else change.set_freeze


def build_record(change: StageChange, doc: StrategyDoc) -> PromotionRecord:
    freeze = _freeze_of(change, doc.freeze)
    fields: dict[str, Any] = {
        "record_id": change.record_id,
        "tenant_id": change.tenant_id,
        "uid": change.uid,
        "strategy_id": change.strategy_id,
        "sequence": doc.chain_length + 1,
        "from_stage": doc.lifecycle_stage,
        "to_stage": change.to_stage,
        "decision": change.decision,
        "policy_version": change.policy_version,
        "requested_by": change.requested_by,
        "requested_at": change.requested_at,
        "approved_by": change.approved_by,
        "effective_at": change.effective_at,
        "reason_code": change.reason_code,
        "freeze": freeze,
        "freeze_reason": (change.freeze_reason or doc.freeze_reason) if freeze else None,
        "request_id": change.request_id,
        "metrics_snapshot": change.metrics_snapshot,
        "evidence_refs": change.evidence_refs,
        "runtime_fingerprint": change.runtime_fingerprint,
        "live_enabled_until": change.live_enabled_until,
        "correlation_id": change.correlation_id,
        "prev_record_hash": doc.last_record_hash,
        "limit_envelope": change.limit_envelope,
        "policy_hash": change.policy_hash,
    }
    # Every value comes from the validated change and document (timestamps already in UTC,
    # ids already Identifiers, models already models), so validating them again only costs
    # (tests/governance/test_stage_change_build.py: equal to the validated record).
    unsigned = PromotionRecord.model_construct(**fields, record_hash="")
    return unsigned.model_copy(update={"record_hash": record_hash(unsigned)})


def record_hash(record: PromotionRecord) -> str:
    """SHA-256 of the canonical JSON of the record without `record_hash`."""
    return canonical_hash(record.model_dump(mode="json", exclude={"record_hash"}))


def apply_to_strategy(doc: StrategyDoc, record: PromotionRecord) -> StrategyDoc:
    update: dict[str, object] = {
        "lifecycle_stage": record.to_stage,
        "execution_mode": execution_mode_for(record.to_stage),
        "policy_version": record.policy_version or doc.policy_version,
        "last_stage_change_at": record.effective_at,
        "last_stage_change_record_id": record.record_id,
        "last_record_hash": record.record_hash,
        "chain_length": record.sequence,
        "freeze": record.freeze,
        "freeze_reason": record.freeze_reason,
        "live_enabled_until": record.live_enabled_until,
    }
    if record.decision == Decision.DEMOTE:
        update["shadow_mode_reason"] = record.reason_code
        update["shadow_mode_activated_at"] = record.effective_at
    elif record.decision == Decision.PROMOTE:
        update["shadow_mode_reason"] = None
        update["shadow_mode_activated_at"] = None
    return doc.model_copy(update=update)


def audit_event_for(change: StageChange, record: PromotionRecord) -> AuditEvent:
    return AuditEvent(
        event_id=change.audit_event_id,
        event_type=EVENT_TYPE[change.decision],
        severity=change.severity,
        ts=change.effective_at,
        tenant_id=change.tenant_id,
        uid=change.uid,
        strategy_id=change.strategy_id,
        correlation_id=change.correlation_id,
        trace_id=change.trace_id,
        # Plain strings, as the event reads back: the same JSON, and an enum in an `Any` field
        # costs the serializer its inference on every dump (hash, store).
        details={
            "promotion_record_id": record.record_id,
            "from_stage": record.from_stage.value,
            "to_stage": record.to_stage.value,
            "decision": record.decision.value,
            "reason_code": record.reason_code,
            "policy_version": record.policy_version,
            "record_hash": record.record_hash,
            **({"policy_hash": record.policy_hash} if record.policy_hash else {}),
            **change.audit_details,
        },
    )


def same_commit(existing: PromotionRecord, change: StageChange) -> bool:
    """Whether a stored record is this change already committed (a retry), not another one.

    Every field the change decides must match; only what the store adds (chain position,
    hashes) and the runtime fingerprint (a retry may run on another worker) may differ.
    """
    return (
        existing.record_id == change.record_id
        and (existing.tenant_id, existing.uid, existing.strategy_id)
        == (change.tenant_id, change.uid, change.strategy_id)
        and existing.from_stage == change.expected_from_stage
        and existing.to_stage == change.to_stage
        and existing.decision == change.decision
        and existing.reason_code == change.reason_code
        and existing.policy_version == change.policy_version
        and existing.policy_hash == change.policy_hash
        and existing.requested_by == change.requested_by
        and existing.requested_at == change.requested_at
        and existing.effective_at == change.effective_at
        and existing.approved_by == change.approved_by
        and existing.metrics_snapshot == change.metrics_snapshot
        and existing.evidence_refs == change.evidence_refs
        and existing.request_id == change.request_id
        and existing.correlation_id == change.correlation_id
        and existing.live_enabled_until == change.live_enabled_until
        and existing.limit_envelope == change.limit_envelope
        and (change.set_freeze is None or existing.freeze == _freeze_of(change, existing.freeze))
    )


def conflict(record_id: str) -> RecordConflict:
    return RecordConflict(
        f"a different record already exists under id {record_id}", field="record_id"
    )


class RequestClosure(BaseModel):
    """What a commit writes on the request document it closes."""

    model_config = ConfigDict(frozen=True)

    request_id: str
    status: RequestStatus
    record_id: str
    updated_at: UtcDatetime


class CommitPlan(BaseModel):
    """Every write of one stage change, decided before any is made; an adapter applies them all
    in one atomic step: claim chain slot `record.sequence`, create the record and the audit
    events, replace the strategy document with `strategy`, close the request."""

    model_config = ConfigDict(frozen=True)

    record: PromotionRecord
    audit_events: list[AuditEvent]
    strategy: StrategyDoc
    request: RequestClosure | None = None


class Landed(BaseModel):
    """The change was committed already (a retry): its record, and nothing to write."""

    model_config = ConfigDict(frozen=True)

    record: PromotionRecord


def plan_commit(
    change: StageChange, *, existing: PromotionRecord | None, doc: StrategyDoc | None
) -> CommitPlan | Landed:
    """The commit of `change` given what the store holds: the record already under its id (if
    any) and the strategy document. Refuses (PreconditionFailed, RecordConflict) before any
    write; both adapters call this, so the commit's rules exist once."""
    if existing is not None:
        if same_commit(existing, change):
            return Landed(record=existing)
        raise conflict(change.record_id)
    current = check_precondition(change, doc)
    record = build_record(change, current)
    events = [audit_event_for(change, record)]
    if change.companion_event is not None:
        events.append(change.companion_event)
    closure = None
    if change.request_id and change.request_status is not None:
        closure = RequestClosure(
            request_id=change.request_id,
            status=change.request_status,
            record_id=record.record_id,
            updated_at=record.effective_at,
        )
    return CommitPlan(
        record=record,
        audit_events=events,
        strategy=apply_to_strategy(current, record),
        request=closure,
    )
