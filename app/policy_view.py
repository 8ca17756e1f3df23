"""A policy version as a reader needs it: the version, the one before it, and what changed."""

from __future__ import annotations

from pydantic import BaseModel

from app.ports import Ports
from governance.errors import NotFound
from governance.identity import Principal, require_person, require_tenant
from governance.policy import PromotionPolicy, default_policy
from governance.policy_diff import FieldChange, diff_policies


class PolicyVersionView(BaseModel):
    policy: PromotionPolicy
    previous: PromotionPolicy | None
    current: bool
    changes: list[FieldChange]
    versions: list[str]  # every version, oldest first


async def policy_version(
    ports: Ports, who: Principal, *, tenant_id: str, policy_version: str
) -> PolicyVersionView:
    require_tenant(who, tenant_id)
    require_person(who)
    versions = await ports.store.list_policy_versions(tenant_id)
    at = next((i for i, p in enumerate(versions) if p.policy_version == policy_version), None)
    if at is None:
        raise NotFound(
            f"no policy version {policy_version} for {tenant_id}", field="policy_version"
        )
    previous = versions[at - 1] if at > 0 else None
    return PolicyVersionView(
        policy=versions[at],
        previous=previous,
        current=at == len(versions) - 1,
        # The first version is compared with the spec's defaults, as its proposal was.
        changes=diff_policies(
            previous, versions[at], default_policy(versions[at].policy_version)
        ).changes,
        versions=[p.policy_version for p in versions],
    )
