"""Strategies, records, chain verification, the audit trail, risk events and the gate."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Query

from activities.halt_file import read_kill_switch
from api.deps import Caller, Deps, temporal
from api.schemas import FreezeIn, RiskEventIn
from governance.chain import ChainVerification, verify_chain
from governance.errors import NotFound, RecordCorrupt
from governance.gate import GateDecision, GateInputs, decide
from governance.identity import (
    RISK_EVENTS_WRITE,
    Forbidden,
    TokenKind,
    require_person,
    require_scope,
    require_tenant,
)
from governance.records import AuditEvent, PromotionRecord, StrategyDoc
from governance.risk_events import RiskEvent
from governance.roles import Role
from governance.stage_change import StageChange
from governance.stages import Decision
from workflows import client as wf

router = APIRouter(prefix="/v1", tags=["registry"])


@router.get("/tenants/{tenant}/strategies", response_model=list[StrategyDoc])
async def list_strategies(tenant: str, d: Deps, who: Caller) -> list[StrategyDoc]:
    require_tenant(who, tenant)
    require_person(who)
    return await d.store.list_strategies(tenant)


@router.get("/tenants/{tenant}/strategies/{uid}/{strategy_id}", response_model=StrategyDoc)
async def read_strategy(
    tenant: str, uid: str, strategy_id: str, d: Deps, who: Caller
) -> StrategyDoc:
    require_tenant(who, tenant)
    require_person(who)
    doc = await d.store.get_strategy(tenant, uid, strategy_id)
    if doc is None:
        raise NotFound(f"strategy {uid}/{strategy_id} is not registered", field="strategy_id")
    return doc


@router.get(
    "/tenants/{tenant}/strategies/{uid}/{strategy_id}/records",
    response_model=list[PromotionRecord],
)
async def read_records(
    tenant: str, uid: str, strategy_id: str, d: Deps, who: Caller
) -> list[PromotionRecord]:
    require_tenant(who, tenant)
    require_person(who)
    return await d.store.list_records(tenant, uid, strategy_id)


@router.get(
    "/tenants/{tenant}/strategies/{uid}/{strategy_id}/chain", response_model=ChainVerification
)
async def verify(
    tenant: str, uid: str, strategy_id: str, d: Deps, who: Caller
) -> ChainVerification:
    require_tenant(who, tenant)
    require_person(who)
    try:
        records = await d.store.list_records(tenant, uid, strategy_id)
    except RecordCorrupt as exc:
        return ChainVerification(
            ok=False, checked=0, first_broken_record_id=exc.field, reason=exc.message
        )
    return verify_chain(records)


@router.get("/tenants/{tenant}/audit-events", response_model=list[AuditEvent])
async def audit_events(
    tenant: str,
    d: Deps,
    who: Caller,
    uid: str | None = Query(default=None, max_length=200),
    strategy_id: str | None = Query(default=None, max_length=200),
) -> list[AuditEvent]:
    require_tenant(who, tenant)
    require_person(who)
    return await d.store.list_audit_events(tenant, uid, strategy_id)


@router.post("/tenants/{tenant}/risk-events", status_code=202)
async def post_risk_events(
    tenant: str, body: RiskEventIn | list[RiskEventIn], d: Deps, who: Caller
) -> dict[str, Any]:
    """One event or a batch; idempotent by `event_id` (the demotion workflow dedups)."""
    require_tenant(who, tenant)
    if who.kind == TokenKind.SERVICE:
        require_scope(who, RISK_EVENTS_WRITE)
    elif Role.RISK_APPROVER not in (await d.store.get_approver_roles(tenant, who.subject) or []):
        raise Forbidden(
            "posting risk events needs a service token or a risk_approver", field="authorization"
        )
    events = body if isinstance(body, list) else [body]
    if not 1 <= len(events) <= 500:
        raise Forbidden("a batch carries 1 to 500 events", field="body")
    # The whole batch is refused if one event names an unknown strategy: nothing half-sent.
    for uid, strategy_id in dict.fromkeys((e.uid, e.strategy_id) for e in events):
        await wf.require_registered(d.store, tenant, uid, strategy_id)
    accepted = []
    for item in events:
        event = RiskEvent(
            event_id=item.event_id,
            kind=item.kind,
            severity=item.severity,
            ts=datetime.now(UTC),
            source=who.subject,
            details=item.details,
        )
        workflow_id = await wf.send_risk_event(
            temporal(d),
            d.store,
            d.task_queue,
            tenant_id=tenant,
            uid=item.uid,
            strategy_id=item.strategy_id,
            event=event,
        )
        accepted.append({"event_id": item.event_id, "workflow_id": workflow_id})
    return {"accepted": accepted}


@router.post(
    "/tenants/{tenant}/strategies/{uid}/{strategy_id}/freeze", response_model=PromotionRecord
)
async def freeze(
    tenant: str, uid: str, strategy_id: str, body: FreezeIn, d: Deps, who: Caller
) -> PromotionRecord:
    """A risk approver freezes promotions at once: a safety action needs no second person."""
    require_tenant(who, tenant)
    require_person(who)
    if Role.RISK_APPROVER not in (await d.store.get_approver_roles(tenant, who.subject) or []):
        raise Forbidden("freezing needs the risk_approver role", field="authorization")
    doc = await d.store.get_strategy(tenant, uid, strategy_id)
    if doc is None:
        raise NotFound(f"strategy {uid}/{strategy_id} is not registered", field="strategy_id")
    now = datetime.now(UTC)
    policy = await d.store.get_policy(tenant)
    record = await d.store.commit_stage_change(
        StageChange(
            tenant_id=tenant,
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
            requested_by=who.subject,
            requested_at=now,
            effective_at=now,
            set_freeze=True,
            freeze_reason=body.reason,
            audit_details={"by": who.subject, "reason": body.reason},
        )
    )
    await _preempt(d, tenant, uid, strategy_id)
    return record


async def _preempt(d: Any, tenant: str, uid: str, strategy_id: str) -> None:
    handle = wf.promotion_handle(temporal(d), tenant, uid, strategy_id)
    try:
        await handle.cancel()
    except Exception:
        return


@router.get("/gate", response_model=GateDecision)
async def gate(
    d: Deps,
    who: Caller,
    tenant: str = Query(max_length=200),
    uid: str = Query(max_length=200),
    strategy: str = Query(max_length=200),
    marketdata_age_ms: float | None = Query(default=None),
    agent_state: str | None = Query(default=None, max_length=32),
    trading_mode: str | None = Query(default=None, max_length=32),
    broker_host: str | None = Query(default=None, max_length=300),
    kill_switch: bool | None = Query(default=None),
) -> GateDecision:
    """For the trading runtime: the mode it may run in now, with every reason."""
    require_tenant(who, tenant)
    status = await d.store.get_system_status()
    halt = read_kill_switch()
    return decide(
        GateInputs(
            now=datetime.now(UTC),
            # The service's own halt switch wins over whatever the caller reports.
            kill_switch=True if halt.engaged else kill_switch,
            kill_switch_reason=halt.reason,
            marketdata_age_ms=marketdata_age_ms,
            agent_state=agent_state,
            trading_mode=trading_mode,
            broker_host=broker_host,
            global_shadow_mode=bool(status.get("is_shadow_mode", False)),
            strategy=await d.store.get_strategy(tenant, uid, strategy),
            policy=await d.store.get_policy(tenant),
        )
    )
