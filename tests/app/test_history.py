"""`stratgate history` as a use case: a strategy's records and audit events in one timeline,
in time order; a typo in the tenant or strategy is refused, never an empty history."""

from __future__ import annotations

from datetime import timedelta

import pytest

from app.history import strategy_history
from app.ports import Ports, Unavailable
from governance.errors import UnknownStrategy, UnknownTenant
from governance.identity import Forbidden, Principal, TokenKind
from governance.records import AuditEvent
from governance.stages import Decision
from governance.stages import LifecycleStage as S
from tests.store_contract.helpers import NOW, change, current, registered

TENANT = "desk"


def person(tenant: str = TENANT) -> Principal:
    return Principal(tenant_id=tenant, subject="compliance", kind=TokenKind.PERSONAL)


async def history(ports: Ports, strategy_id: str = "s1", tenant: str = TENANT) -> list[str]:
    entries = await strategy_history(
        ports,
        person(tenant),
        tenant_id=tenant,
        uid="quant",
        strategy_id=strategy_id,
        workflows=False,
    )
    return [f"{e.at:%H:%M} {e.source.split()[0]} {e.what} | {e.who} | {e.why}" for e in entries]


async def test_records_and_audit_events_in_time_order(ports: Ports) -> None:
    store = ports.store
    doc = await registered(store, TENANT)
    await store.commit_stage_change(change(doc, S.SHADOW, requested_by="alice"))
    later = NOW + timedelta(minutes=5)
    demote = change(
        await current(store, doc),
        S.OBSERVE,
        Decision.DEMOTE,
        reason_code="marketdata_stale",
        requested_by="risk",
        requested_at=later,
        effective_at=later,
        set_freeze=True,
    )
    await store.commit_stage_change(demote)
    await store.append_audit_event(
        AuditEvent(
            event_id="note-1",
            event_type="risk.event_received",
            ts=NOW + timedelta(minutes=1),
            tenant_id=TENANT,
            uid="quant",
            strategy_id="s1",
            details={"source": "risk-engine", "reason": "drawdown"},
        )
    )
    lines = await history(ports)
    # Each stage change is its record and its own audit event, at the same instant.
    assert [ln.split(" |")[0] for ln in lines if " record" in ln] == [
        "15:00 record promote OBSERVE -> SHADOW",
        "15:05 record demote SHADOW -> OBSERVE frozen",
    ]
    assert "15:01 audit risk.event_received | risk-engine | drawdown" in lines
    times = [ln[:5] for ln in lines]
    assert times == sorted(times) and len(lines) >= 5, lines


async def test_a_typo_is_refused_not_an_empty_history(ports: Ports) -> None:
    await registered(ports.store, TENANT)
    with pytest.raises(UnknownStrategy):
        await history(ports, "s2")
    with pytest.raises(UnknownTenant):
        await history(ports, tenant="dsk")
    with pytest.raises(Forbidden):
        await strategy_history(
            ports, person("other"), tenant_id=TENANT, uid="quant", strategy_id="s1"
        )
    with pytest.raises(Unavailable):  # the workflows' side needs Temporal: said, not skipped
        await strategy_history(ports, person(), tenant_id=TENANT, uid="quant", strategy_id="s1")
