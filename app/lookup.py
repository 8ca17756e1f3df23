"""Finding what a command names, and saying in the domain's words when it is not there.

A typo in a tenant or strategy id must read "unknown tenant" / "unknown strategy", and a request
that has ended must say how it ended, never "workflow not found" from the engine underneath.
"""

from __future__ import annotations

from app.ports import Ports
from governance.errors import (
    GovernanceError,
    NotFound,
    RequestEnded,
    UnknownStrategy,
    UnknownTenant,
)
from governance.records import PromotionRequest, RequestStatus, StrategyDoc


async def require_strategy(ports: Ports, tenant_id: str, uid: str, strategy_id: str) -> StrategyDoc:
    doc = await ports.store.get_strategy(tenant_id, uid, strategy_id)
    if doc is not None:
        return doc
    if await ports.store.get_policy(tenant_id) is None and not await ports.store.list_strategies(
        tenant_id
    ):
        raise UnknownTenant(tenant_id)
    raise UnknownStrategy(tenant_id, uid, strategy_id)


def ended(request: PromotionRequest) -> str:
    """How a request ended, in one sentence."""
    how = request.status.value if request.status != RequestStatus.APPROVED else "committed"
    said = f": {request.status_reason}" if request.status_reason else ""
    record = f" (record {request.record_id})" if request.record_id else ""
    return (
        f"request {request.request_id} ({request.from_stage} -> {request.to_stage}) "
        f"ended {how}{said}{record}"
    )


async def no_request_in_flight(
    ports: Ports, tenant_id: str, uid: str, strategy_id: str
) -> GovernanceError:
    """The refusal for acting on a strategy with no open request: unknown, never requested,
    or ended (and how)."""
    await require_strategy(ports, tenant_id, uid, strategy_id)
    requests = await ports.store.list_requests(tenant_id, uid, strategy_id)
    if not requests:
        return NotFound(
            f"no promotion request for {uid}/{strategy_id}: none has been made",
            field="strategy_id",
        )
    last = requests[-1]
    if last.status == RequestStatus.PENDING:  # the engine has it no longer, the store still
        return NotFound(
            f"no promotion request in flight for {uid}/{strategy_id}", field="strategy_id"
        )
    return RequestEnded(f"{ended(last)}; nothing was changed", field="strategy_id")
