"""What a demoting risk event writes: its stage change and its risk/incident audit event."""

from __future__ import annotations

import uuid
from datetime import datetime

from governance.records import AuditEvent, EvidenceRef, RuntimeFingerprint, StrategyDoc
from governance.risk_events import DemotionAction, RiskEvent
from governance.stage_change import StageChange
from governance.stages import Decision


def risk_audit_id(tenant_id: str, uid: str, strategy_id: str, event_id: str) -> str:
    """The id of a risk event's own audit entry, derived so that applying the event twice finds
    the first application instead of writing a second one (event ids are per strategy)."""
    key = f"{tenant_id}/{uid}/{strategy_id}/{event_id}"
    return f"risk-{uuid.uuid5(_NAMESPACE, key)}"


_NAMESPACE = uuid.UUID("5b7f2e8a-1c4d-4e0b-8f55-2d8c9a3b6e71")


def risk_change_ids(tenant_id: str, uid: str, strategy_id: str, event_id: str) -> tuple[str, str]:
    """The record id and audit event id of the demotion an event causes, derived from the event
    so that a retried or re-delivered application commits under the same ids (exactly once)."""
    key = f"{tenant_id}/{uid}/{strategy_id}/{event_id}"
    return str(uuid.uuid5(_NAMESPACE, "record/" + key)), str(uuid.uuid5(_NAMESPACE, "audit/" + key))


def demotion_change(
    *,
    event: RiskEvent,
    action: DemotionAction,
    strategy: StrategyDoc,
    policy_version: str | None,
    record_id: str,
    audit_event_id: str,
    now: datetime,
    fingerprint: RuntimeFingerprint | None = None,
    companion_event: AuditEvent | None = None,
    policy_hash: str | None = None,
) -> StageChange:
    assert action.decision in (Decision.DEMOTE, Decision.FREEZE)
    return StageChange(
        tenant_id=strategy.tenant_id,
        uid=strategy.uid,
        strategy_id=strategy.strategy_id,
        record_id=record_id,
        audit_event_id=audit_event_id,
        decision=action.decision,
        expected_from_stage=strategy.lifecycle_stage,
        expected_last_record_id=strategy.last_stage_change_record_id,
        to_stage=action.target_stage,
        reason_code=action.reason_code,
        policy_version=policy_version,
        requested_by=f"risk:{event.source}",
        requested_at=event.ts,
        effective_at=now,
        evidence_refs=incident_refs(event),
        runtime_fingerprint=fingerprint or RuntimeFingerprint(),
        set_freeze=True if action.freeze and not strategy.freeze else None,
        freeze_reason=action.freeze_reason,
        correlation_id=event.event_id,
        severity=action.severity,
        audit_details={"risk_event_id": event.event_id, "kind": event.kind.value},
        companion_event=companion_event,
        policy_hash=policy_hash,
    )


def incident_refs(event: RiskEvent) -> list[EvidenceRef]:
    """Evidence pointers carried by the event (trace ids, payload hashes), never payloads."""
    refs = [EvidenceRef(kind="risk_event", id=event.event_id, sha256="")]
    for key in ("trace_id", "payload_hash"):
        value = event.details.get(key)
        if isinstance(value, str) and value:
            refs.append(
                EvidenceRef(kind=key, id=value, sha256=value if key == "payload_hash" else "")
            )
    return refs


def risk_audit_event(
    *,
    event: RiskEvent,
    action: DemotionAction,
    tenant_id: str,
    uid: str,
    strategy_id: str,
    audit_event_id: str,
    record_id: str | None,
    now: datetime,
) -> AuditEvent:
    """The audit trail entry for the event itself (an incident for data-integrity events)."""
    return AuditEvent(
        event_id=audit_event_id,
        event_type=action.audit_event_type,
        severity=action.severity,
        ts=now,
        tenant_id=tenant_id,
        uid=uid,
        strategy_id=strategy_id,
        correlation_id=event.event_id,
        trace_id=str(event.details.get("trace_id")) if event.details.get("trace_id") else None,
        details={
            "risk_event_id": event.event_id,
            "kind": event.kind.value,
            "source": event.source,
            "action": action.decision.value if action.decision else "none",
            "target_stage": action.target_stage.value,
            "freeze": action.freeze,
            "incident": action.incident,
            "explanation": action.explanation,
            "promotion_record_id": record_id,
            "evidence": [r.model_dump() for r in incident_refs(event)],
            # The whole decision, so a retried application returns it instead of deciding again.
            "outcome": action.model_dump(mode="json"),
        },
    )


def applied_action(audit: AuditEvent) -> tuple[DemotionAction, str | None] | None:
    """The action a stored risk audit entry records, and its record id (None: not one of ours)."""
    outcome = audit.details.get("outcome")
    if not isinstance(outcome, dict):
        return None
    record_id = audit.details.get("promotion_record_id")
    return DemotionAction.model_validate(outcome), record_id if isinstance(record_id, str) else None
