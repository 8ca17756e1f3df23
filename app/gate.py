"""The execution gate, built one way for the API and the CLI: may this strategy trade now?"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from app.ports import Ports
from governance.envelope import envelope_in_force
from governance.errors import GovernanceError
from governance.fleet_halt import global_halt_of
from governance.gate import GateDecision, GateInputs, GateReason, decide
from governance.identity import Principal, require_tenant

T = TypeVar("T")


class GateQuery(BaseModel):
    """What the trading runtime reports, plus this host's own kill-switch reading."""

    tenant_id: str
    uid: str
    strategy_id: str
    marketdata_age_ms: float | None = None
    agent_state: str | None = None
    trading_mode: str | None = None
    broker_host: str | None = None
    kill_switch: bool | None = None  # as the caller reports it
    # The service's own halt switch (EXECUTION_HALTED / EXECUTION_HALT_FILE), read at the edge:
    # when engaged it wins over whatever the caller reports.
    local_halt: bool = False
    local_halt_reason: str | None = None


async def check_gate(ports: Ports, who: Principal, query: GateQuery) -> GateDecision:
    require_tenant(who, query.tenant_id)
    unreadable: list[GateReason] = []
    store = ports.store
    status = await _read(store.get_system_status(), "system_status", unreadable)
    # One document for a tenant-wide halt: stored, it closes every gate of the tenant.
    halt = await _read(store.get_tenant_halt(query.tenant_id), "tenant_halt", unreadable)
    doc = await _read(
        store.get_strategy(query.tenant_id, query.uid, query.strategy_id), "strategy", unreadable
    )
    policy = await _read(store.get_policy(query.tenant_id), "policy", unreadable)
    records = await _read(
        store.list_records(query.tenant_id, query.uid, query.strategy_id), "records", unreadable
    )
    decision = decide(
        GateInputs(
            now=ports.now(),
            kill_switch=True if query.local_halt else query.kill_switch,
            kill_switch_reason=query.local_halt_reason if query.local_halt else None,
            marketdata_age_ms=query.marketdata_age_ms,
            agent_state=query.agent_state,
            trading_mode=query.trading_mode,
            broker_host=query.broker_host,
            # An unreadable platform toggle is unknown, and the gate treats unknown as on.
            global_shadow_mode=_shadow_toggle(status),
            strategy=doc,
            policy=policy,
            limit_envelope=envelope_in_force(doc, records or []),
            limits_unreadable=records is None,
            tenant_halt=halt,
            tenant_halt_unreadable=any(r.code == "tenant_halt_unreadable" for r in unreadable),
            global_halt=global_halt_of(status),
        )
    )
    return decision.model_copy(update={"reasons": [*decision.reasons, *unreadable]})


async def _read(pending: Awaitable[T], what: str, unreadable: list[GateReason]) -> T | None:
    """A stored document, or None (unknown, so the gate fails closed) if it no longer parses."""
    try:
        return await pending
    except (ValidationError, GovernanceError) as exc:
        message = exc.message if isinstance(exc, GovernanceError) else str(exc).splitlines()[0]
        unreadable.append(GateReason(code=f"{what}_unreadable", message=f"{what}: {message}"))
        return None


def _shadow_toggle(status: dict[str, Any] | None) -> bool | None:
    if status is None:
        return None
    value = status.get("is_shadow_mode", False)  # an absent toggle is the platform's default: off
    return value if isinstance(value, bool) else None
