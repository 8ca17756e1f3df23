"""Tenant policy: publish a version, show the current one, list every version."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from app.ports import Ports
from governance.errors import GovernanceError
from governance.identity import Principal, require_person, require_tenant
from governance.policy import PromotionPolicy


class Published(BaseModel):
    tenant_id: str
    policy_version: str
    changed: bool  # False: the same document was already current


def _content(policy: PromotionPolicy) -> dict[str, Any]:
    return policy.model_dump(mode="json", exclude={"updated_at", "updated_by"})


async def publish_policy(
    ports: Ports, who: Principal, *, tenant_id: str, policy: PromotionPolicy
) -> Published:
    """A new version becomes current; a version is never rewritten (a change needs a new
    `policy_version`), and publishing the current document again changes nothing."""
    require_tenant(who, tenant_id)
    require_person(who)
    stamped = policy.model_copy(update={"updated_at": ports.now(), "updated_by": who.subject})
    current = await ports.store.get_policy(tenant_id)
    if current is not None and current.policy_version == stamped.policy_version:
        if _content(current) == _content(stamped):
            return Published(
                tenant_id=tenant_id, policy_version=policy.policy_version, changed=False
            )
        raise GovernanceError(
            f"{policy.policy_version} is already published for {tenant_id} with other content; "
            "publish changes under a new version",
            field="policy_version",
            code="record_conflict",
        )
    await ports.store.put_policy(tenant_id, stamped)
    return Published(tenant_id=tenant_id, policy_version=policy.policy_version, changed=True)


async def show_policy(ports: Ports, who: Principal, *, tenant_id: str) -> PromotionPolicy | None:
    require_tenant(who, tenant_id)
    return await ports.store.get_policy(tenant_id)


async def policy_history(ports: Ports, who: Principal, *, tenant_id: str) -> list[PromotionPolicy]:
    require_tenant(who, tenant_id)
    return await ports.store.list_policy_versions(tenant_id)
