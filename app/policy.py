"""Tenant policy: the first version (bootstrap), governed changes (propose, approve, reject,
withdraw), the current version, every version and the check of their hash chain."""

from __future__ import annotations

import uuid

from pydantic import BaseModel, ValidationError

from app.ports import Ports
from governance.identity import Forbidden, Principal, require_person, require_tenant
from governance.policy import PromotionPolicy
from governance.policy_chain import (
    PolicyChainVerification,
    content,
    unstamped,
    verify_policy_chain,
)
from governance.policy_change import (
    PolicyChangeRefused,
    PolicyProposal,
    ProposalAction,
    ProposalDecision,
    bootstrap_event,
    bootstrap_refused,
    bootstrap_version,
    new_proposal,
)
from governance.refusals import RefusalCode


class Published(BaseModel):
    tenant_id: str
    policy_version: str
    policy_hash: str | None
    changed: bool  # False: the same document was already current


async def bootstrap_policy(
    ports: Ports, who: Principal, *, tenant_id: str, policy: PromotionPolicy
) -> Published:
    """A tenant's FIRST policy, published at once by whoever sets up the tenant (a local
    operator: recorded as such). With no policy every promotion is refused, so nothing is
    weakened; every later version is proposed and approved (`propose_policy`)."""
    require_tenant(who, tenant_id)
    require_person(who)
    current = await ports.store.get_policy(tenant_id)
    if current is not None:
        if content(unstamped(current)) == content(unstamped(policy)):
            return Published(
                tenant_id=tenant_id,
                policy_version=current.policy_version,
                policy_hash=current.policy_hash,
                changed=False,
            )
        raise bootstrap_refused(tenant_id)
    version = bootstrap_version(policy, by=who.subject, at=ports.now())
    event = bootstrap_event(
        event_id=str(uuid.uuid4()),
        tenant_id=tenant_id,
        version=version,
        by=who.subject,
        at=version.updated_at or ports.now(),
    )
    stored = await ports.store.bootstrap_policy(tenant_id, version, event)
    return Published(
        tenant_id=tenant_id,
        policy_version=stored.policy_version,
        policy_hash=stored.policy_hash,
        changed=True,
    )


def _require_proven_person(who: Principal, doing: str) -> None:
    require_person(who)
    if not who.authenticated_person:
        # A local operator names themself; a governed change needs who it claims to be.
        raise Forbidden(
            f"{doing} a policy change needs a person's own token, through the API "
            "(--as on the demo stack, or STRATGATE_TOKEN)",
            field="authorization",
        )


async def propose_policy(
    ports: Ports, who: Principal, *, tenant_id: str, policy: PromotionPolicy, reason: str
) -> PolicyProposal:
    require_tenant(who, tenant_id)
    _require_proven_person(who, "proposing")
    current = await ports.store.get_policy(tenant_id)
    versions = await ports.store.list_policy_versions(tenant_id)
    proposal, event = new_proposal(
        proposal_id=str(uuid.uuid4()),
        tenant_id=tenant_id,
        policy=policy,
        reason=reason,
        by=who.subject,
        at=ports.now(),
        current=current,
        published_versions={v.policy_version for v in versions},
        event_id=str(uuid.uuid4()),
    )
    await ports.store.create_policy_proposal(proposal, event)
    return proposal


async def decide_proposal(
    ports: Ports,
    who: Principal,
    *,
    tenant_id: str,
    proposal_id: str,
    action: ProposalAction,
    comment: str = "",
) -> PolicyProposal:
    """Approve, reject or withdraw; the approval that completes the count publishes the
    version in the same store transaction."""
    require_tenant(who, tenant_id)
    _require_proven_person(who, "deciding on")
    roles = await ports.store.get_approver_roles(tenant_id, who.subject) or []
    decision = ProposalDecision(
        tenant_id=tenant_id,
        proposal_id=proposal_id,
        action=action,
        by=who.subject,
        roles=roles,
        at=ports.now(),
        comment=comment,
        event_ids=[str(uuid.uuid4()), str(uuid.uuid4())],
    )
    return await ports.store.decide_policy_proposal(decision)


async def show_proposal(
    ports: Ports, who: Principal, *, tenant_id: str, proposal_id: str
) -> PolicyProposal:
    require_tenant(who, tenant_id)
    found = await ports.store.get_policy_proposal(tenant_id, proposal_id)
    if found is None:
        raise PolicyChangeRefused(
            RefusalCode.NOT_FOUND, f"no policy proposal {proposal_id} for tenant {tenant_id}"
        )
    return found


async def list_proposals(ports: Ports, who: Principal, *, tenant_id: str) -> list[PolicyProposal]:
    require_tenant(who, tenant_id)
    return await ports.store.list_policy_proposals(tenant_id)


async def show_policy(ports: Ports, who: Principal, *, tenant_id: str) -> PromotionPolicy | None:
    require_tenant(who, tenant_id)
    return await ports.store.get_policy(tenant_id)


async def policy_history(ports: Ports, who: Principal, *, tenant_id: str) -> list[PromotionPolicy]:
    require_tenant(who, tenant_id)
    return await ports.store.list_policy_versions(tenant_id)


async def verify_policy(ports: Ports, who: Principal, *, tenant_id: str) -> PolicyChainVerification:
    """The tenant's chain of policy versions and its current policy, checked (for `policy
    history` and `records verify`)."""
    require_tenant(who, tenant_id)
    try:
        versions = await ports.store.list_policy_versions(tenant_id)
        current = await ports.store.get_policy(tenant_id)
    except ValidationError as exc:
        return PolicyChainVerification(
            ok=False,
            checked=0,
            reason=f"a stored policy no longer parses ({exc.error_count()} errors): altered",
        )
    return verify_policy_chain(versions, current)
