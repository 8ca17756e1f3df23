"""Risk systems and risk approvers: send risk events, freeze a strategy at once."""

from __future__ import annotations

import uuid

from pydantic import BaseModel
from temporalio.service import RPCError

from app.lookup import require_strategy
from app.ports import Ports
from governance.demotion import applied_action, risk_audit_id
from governance.errors import GovernanceError, UnknownStrategy
from governance.identity import (
    RISK_EVENTS_WRITE,
    Forbidden,
    Principal,
    TokenKind,
    require_person,
    require_scope,
    require_tenant,
)
from governance.records import PromotionRecord, Severity
from governance.risk_events import RiskEvent, RiskEventKind
from governance.roles import Role
from governance.stage_change import StageChange
from governance.stages import Decision, LifecycleStage
from workflows import client as wf

MAX_BATCH = 500


class RiskEventSent(BaseModel):
    """One event as a risk system sends it (details already bounded by the caller's parser)."""

    uid: str
    strategy_id: str
    event_id: str
    kind: RiskEventKind
    severity: Severity | None = None
    details: dict[str, object] = {}


class Accepted(BaseModel):
    event_id: str
    workflow_id: str


async def _may_send(ports: Ports, who: Principal, tenant_id: str) -> None:
    require_tenant(who, tenant_id)
    if who.kind == TokenKind.SERVICE:
        require_scope(who, RISK_EVENTS_WRITE)
        return
    roles = await ports.store.get_approver_roles(tenant_id, who.subject) or []
    if who.authenticated_person and Role.RISK_APPROVER not in roles:
        raise Forbidden(
            "posting risk events needs a service token or a risk_approver", field="authorization"
        )


async def send_risk_events(
    ports: Ports, who: Principal, *, tenant_id: str, events: list[RiskEventSent]
) -> list[Accepted]:
    """Each event stored in its strategy's risk history, then signalled to its demotion
    workflow; idempotent by event id. Every strategy is checked first: one unknown refuses
    the batch whole, and nothing is stored or started."""
    await _may_send(ports, who, tenant_id)
    if not 1 <= len(events) <= MAX_BATCH:
        raise GovernanceError(f"a batch carries 1 to {MAX_BATCH} events", field="body")
    for item in events:
        await require_strategy(ports, tenant_id, item.uid, item.strategy_id)
    accepted = []
    for item in events:
        event = RiskEvent(
            event_id=item.event_id,
            kind=item.kind,
            severity=item.severity,
            ts=ports.now(),
            source=who.subject,
            details=item.details,
        )
        workflow_id = await wf.send_risk_event(
            ports.temporal(),
            ports.store,
            ports.task_queue,
            tenant_id=tenant_id,
            uid=item.uid,
            strategy_id=item.strategy_id,
            event=event,
        )
        accepted.append(Accepted(event_id=item.event_id, workflow_id=workflow_id))
    return accepted


async def freeze(
    ports: Ports, who: Principal, *, tenant_id: str, uid: str, strategy_id: str, reason: str
) -> PromotionRecord:
    """A risk approver freezes promotions at once (a safety action needs no second person),
    and any promotion in flight is preempted."""
    require_tenant(who, tenant_id)
    require_person(who)
    roles = await ports.store.get_approver_roles(tenant_id, who.subject) or []
    if who.authenticated_person and Role.RISK_APPROVER not in roles:
        raise Forbidden("freezing needs the risk_approver role", field="authorization")
    doc = await ports.store.get_strategy(tenant_id, uid, strategy_id)
    if doc is None:
        raise UnknownStrategy(tenant_id, uid, strategy_id)
    now = ports.now()
    policy = await ports.store.get_policy(tenant_id)
    record = await ports.store.commit_stage_change(
        StageChange(
            tenant_id=tenant_id,
            uid=uid,
            strategy_id=strategy_id,
            record_id=str(uuid.uuid4()),
            audit_event_id=str(uuid.uuid4()),
            decision=Decision.FREEZE,
            expected_from_stage=doc.lifecycle_stage,
            expected_last_record_id=doc.last_stage_change_record_id,
            to_stage=doc.lifecycle_stage,
            reason_code="manual_freeze",
            policy_version=policy.policy_version if policy else None,
            policy_hash=policy.policy_hash if policy else None,
            requested_by=who.subject,
            requested_at=now,
            effective_at=now,
            set_freeze=True,
            freeze_reason=reason,
            audit_details={"by": who.subject, "via": who.via.value, "reason": reason},
        )
    )
    handle = wf.promotion_handle(ports.temporal(), tenant_id, uid, strategy_id)
    try:
        await handle.signal("preempt_reason_is", f"frozen by {who.subject}: {reason}")
        await handle.cancel()
    except RPCError:
        pass  # no promotion in flight
    return record


class RiskEventOutcome(BaseModel):
    """What a risk event did, once its demotion workflow applied it (`applied` False: not yet)."""

    event_id: str
    applied: bool
    action: Decision | None = None  # demote or freeze; None: no stage change
    from_stage: LifecycleStage | None = None
    to_stage: LifecycleStage | None = None
    frozen: bool = False
    record_id: str | None = None
    explanation: str | None = None


async def risk_event_outcome(
    ports: Ports, who: Principal, *, tenant_id: str, uid: str, strategy_id: str, event_id: str
) -> RiskEventOutcome:
    """Read from the store: the event's own audit entry is written last, in the transaction of
    any demotion it caused, so once it is there the outcome is whole."""
    require_tenant(who, tenant_id)
    await require_strategy(ports, tenant_id, uid, strategy_id)
    audit = await ports.store.get_audit_event(
        tenant_id, risk_audit_id(tenant_id, uid, strategy_id, event_id)
    )
    applied = applied_action(audit) if audit is not None else None
    if applied is None:
        return RiskEventOutcome(event_id=event_id, applied=False)
    action, record_id = applied
    record = await ports.store.get_record(tenant_id, record_id) if record_id else None
    return RiskEventOutcome(
        event_id=event_id,
        applied=True,
        action=record.decision if record else None,
        from_stage=record.from_stage if record else None,
        to_stage=record.to_stage if record else None,
        frozen=bool(record.freeze) if record else False,
        record_id=record_id,
        explanation=action.explanation,
    )
