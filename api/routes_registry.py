"""Strategies, records, chain verification, the audit trail, risk events, freeze and the gate
(thin: each route calls one use case of `app`)."""

from __future__ import annotations

import re
from typing import Any

from fastapi import APIRouter, Path, Query

from activities.halt_file import read_kill_switch
from api.deps import Caller, Deps
from api.schemas import FreezeIn, RiskEventIn, StrategyBatchIn
from app import gate as gate_uc
from app import onboarding, registry, risk
from app import records as records_uc
from governance.chain import ChainVerification
from governance.gate import GateDecision
from governance.records import AuditEvent, PromotionRecord, StrategyDoc

router = APIRouter(prefix="/v1", tags=["registry"])
ONE = "/tenants/{tenant}/strategies/{uid}/{strategy_id}"
# The batch registration route, for the body guard's wider limit.
STRATEGY_BATCH = re.compile(r"/v1/tenants/[^/]+/strategies")


@router.post("/tenants/{tenant}/strategies", response_model=onboarding.Onboarded, status_code=201)
async def register_strategies(
    tenant: str, body: StrategyBatchIn, d: Deps, who: Caller
) -> onboarding.Onboarded:
    """A fleet at once: every row lands with its `strategy.registered` event, or none does."""
    return await onboarding.register_rows(d.ports(), who, tenant_id=tenant, rows=body.rows)


@router.get("/tenants/{tenant}/strategies", response_model=list[StrategyDoc])
async def list_strategies(tenant: str, d: Deps, who: Caller) -> list[StrategyDoc]:
    return await registry.list_strategies(d.ports(), who, tenant_id=tenant)


@router.get(ONE, response_model=StrategyDoc)
async def read_strategy(
    tenant: str, uid: str, strategy_id: str, d: Deps, who: Caller
) -> StrategyDoc:
    return await registry.show_strategy(
        d.ports(), who, tenant_id=tenant, uid=uid, strategy_id=strategy_id
    )


@router.get(ONE + "/records", response_model=list[PromotionRecord])
async def read_records(
    tenant: str, uid: str, strategy_id: str, d: Deps, who: Caller
) -> list[PromotionRecord]:
    return await records_uc.list_records(
        d.ports(), who, tenant_id=tenant, uid=uid, strategy_id=strategy_id
    )


@router.get(ONE + "/chain", response_model=ChainVerification)
async def verify(
    tenant: str, uid: str, strategy_id: str, d: Deps, who: Caller
) -> ChainVerification:
    """The chain's links and that the strategy points at its last record."""
    found = await records_uc.verify_records(
        d.ports(), who, tenant_id=tenant, uid=uid, strategy_id=strategy_id
    )
    return found.get((uid, strategy_id), ChainVerification(ok=True, checked=0))


@router.get("/tenants/{tenant}/audit-events", response_model=list[AuditEvent])
async def audit_events(
    tenant: str,
    d: Deps,
    who: Caller,
    uid: str | None = Query(default=None, max_length=200),
    strategy_id: str | None = Query(default=None, max_length=200),
) -> list[AuditEvent]:
    return await records_uc.audit_trail(
        d.ports(), who, tenant_id=tenant, uid=uid, strategy_id=strategy_id
    )


@router.post("/tenants/{tenant}/risk-events", status_code=202)
async def post_risk_events(
    tenant: str, body: RiskEventIn | list[RiskEventIn], d: Deps, who: Caller
) -> dict[str, Any]:
    """One event or a batch; idempotent by `event_id`; refused whole if one names an unknown
    strategy."""
    items = body if isinstance(body, list) else [body]
    events = [risk.RiskEventSent.model_validate(i.model_dump()) for i in items]
    accepted = await risk.send_risk_events(d.ports(), who, tenant_id=tenant, events=events)
    return {"accepted": [a.model_dump() for a in accepted]}


@router.get(ONE + "/risk-events/{event_id}", response_model=risk.RiskEventOutcome)
async def risk_event_outcome(
    tenant: str,
    uid: str,
    strategy_id: str,
    d: Deps,
    who: Caller,
    event_id: str = Path(max_length=200),
) -> risk.RiskEventOutcome:
    """What a risk event did once applied (`applied: false` while it is pending): the way a
    risk system that posted it learns the demotion, record and freeze it caused."""
    return await risk.risk_event_outcome(
        d.ports(), who, tenant_id=tenant, uid=uid, strategy_id=strategy_id, event_id=event_id
    )


@router.post(ONE + "/freeze", response_model=PromotionRecord)
async def freeze(
    tenant: str, uid: str, strategy_id: str, body: FreezeIn, d: Deps, who: Caller
) -> PromotionRecord:
    """A risk approver freezes promotions at once: a safety action needs no second person."""
    return await risk.freeze(
        d.ports(), who, tenant_id=tenant, uid=uid, strategy_id=strategy_id, reason=body.reason
    )


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
    halt = read_kill_switch()  # this host's own switch wins over what the caller reports
    query = gate_uc.GateQuery(
        tenant_id=tenant,
        uid=uid,
        strategy_id=strategy,
        marketdata_age_ms=marketdata_age_ms,
        agent_state=agent_state,
        trading_mode=trading_mode,
        broker_host=broker_host,
        kill_switch=kill_switch,
        local_halt=halt.engaged,
        local_halt_reason=halt.reason,
    )
    return await gate_uc.check_gate(d.ports(), who, query)
