"""The strategy registry: register, show, list."""

from __future__ import annotations

from datetime import datetime

from app.ports import Ports
from governance.errors import GovernanceError, UnknownStrategy
from governance.identity import Principal, require_person, require_tenant
from governance.records import StrategyDoc
from governance.registration import strategy_registration
from governance.roles import Role
from governance.stages import LifecycleStage


async def register_strategy(
    ports: Ports,
    who: Principal,
    *,
    tenant_id: str,
    uid: str,
    strategy_id: str,
    stage: LifecycleStage,
    since: datetime | None,
) -> StrategyDoc:
    """In the stage it already lives in on the platform, since a time: no promotion record
    (nothing was promoted), one `strategy.registered` audit event, landing together."""
    require_tenant(who, tenant_id)
    require_person(who)
    now = ports.now()
    entered = since or now
    if entered > now:
        raise GovernanceError(f"{entered.isoformat()} is in the future", field="since")
    doc, event = strategy_registration(tenant_id, uid, strategy_id, stage, entered, now)
    return await ports.store.register_strategy(doc, event)


async def show_strategy(
    ports: Ports, who: Principal, *, tenant_id: str, uid: str, strategy_id: str
) -> StrategyDoc:
    require_tenant(who, tenant_id)
    require_person(who)
    doc = await ports.store.get_strategy(tenant_id, uid, strategy_id)
    if doc is None:
        raise UnknownStrategy(tenant_id, uid, strategy_id)
    return doc


async def list_strategies(
    ports: Ports, who: Principal, *, tenant_id: str, uid: str | None = None
) -> list[StrategyDoc]:
    require_tenant(who, tenant_id)
    require_person(who)
    return await ports.store.list_strategies(tenant_id, uid)


async def my_roles(ports: Ports, who: Principal) -> list[Role]:
    """The caller's roles in the tenant's approver directory (none for a service)."""
    require_tenant(who, who.tenant_id)
    return await ports.store.get_approver_roles(who.tenant_id, who.subject) or []
