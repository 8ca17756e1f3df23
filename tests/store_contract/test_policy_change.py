"""The PolicyChangeStore contract on both adapters: proposals, create-only approvals, the atomic
publication of an approved version, refusals that write nothing, and the bootstrap."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from governance.errors import GovernanceError, RecordConflict
from governance.policy import PromotionPolicy, default_policy
from governance.policy_chain import verify_policy_chain
from governance.policy_change import (
    PolicyProposal,
    ProposalAction,
    ProposalDecision,
    ProposalStatus,
    bootstrap_event,
    bootstrap_version,
    new_proposal,
)
from governance.roles import Role
from store.port import GovernanceStore
from tests.store_contract.helpers import NOW

APPROVER = [Role.POLICY_APPROVER]


async def bootstrap(store: GovernanceStore, tenant: str) -> PromotionPolicy:
    version = bootstrap_version(default_policy("v1"), by="local_operator:ops", at=NOW)
    event = bootstrap_event(
        event_id=str(uuid.uuid4()), tenant_id=tenant, version=version, by="ops", at=NOW
    )
    return await store.bootstrap_policy(tenant, version, event)


async def propose(
    store: GovernanceStore, tenant: str, policy: PromotionPolicy, by: str = "quant"
) -> PolicyProposal:
    versions = await store.list_policy_versions(tenant)
    proposal, event = new_proposal(
        proposal_id=str(uuid.uuid4()),
        tenant_id=tenant,
        policy=policy,
        reason="tighten the drawdown limit",
        by=by,
        at=NOW + timedelta(seconds=len(await store.list_policy_proposals(tenant))),
        current=await store.get_policy(tenant),
        published_versions={v.policy_version for v in versions},
        event_id=str(uuid.uuid4()),
    )
    await store.create_policy_proposal(proposal, event)
    return proposal


def decision(
    tenant: str,
    proposal: PolicyProposal,
    by: str,
    action: ProposalAction = ProposalAction.APPROVE,
    roles: list[Role] | None = None,
) -> ProposalDecision:
    return ProposalDecision(
        tenant_id=tenant,
        proposal_id=proposal.proposal_id,
        action=action,
        by=by,
        roles=APPROVER if roles is None else roles,
        at=NOW + timedelta(minutes=5),
        event_ids=[str(uuid.uuid4()), str(uuid.uuid4())],
    )


def weakened(version: str) -> PromotionPolicy:
    data = default_policy(version).model_dump(mode="json")
    data["live_controls"]["enablement_seconds"] = 7 * 86_400
    return PromotionPolicy.model_validate(data)


def tightened(version: str) -> PromotionPolicy:
    data = default_policy(version).model_dump(mode="json")
    data["risk_thresholds"]["daily_loss_limit"] = 0.01
    return PromotionPolicy.model_validate(data)


async def state(store: GovernanceStore, tenant: str) -> tuple[object, ...]:
    return (
        await store.get_policy(tenant),
        await store.list_policy_versions(tenant),
        await store.list_policy_proposals(tenant),
        await store.list_audit_events(tenant),
    )


async def test_bootstrap_once_then_proposals_only(store: GovernanceStore, tenant: str) -> None:
    first = await bootstrap(store, tenant)
    assert first.policy_hash and first.prev_policy_hash is None
    assert [e.event_type for e in await store.list_audit_events(tenant)] == ["policy.bootstrapped"]
    before = await state(store, tenant)
    with pytest.raises(GovernanceError) as refused:
        await bootstrap(store, tenant)
    assert refused.value.code == "policy_approval_required"
    assert await state(store, tenant) == before


async def test_non_weakening_change_publishes_after_one_approval(
    store: GovernanceStore, tenant: str
) -> None:
    v1 = await bootstrap(store, tenant)
    proposal = await propose(store, tenant, tightened("v2"))
    assert proposal.required_approvals == 1
    assert await store.get_policy_proposal(tenant, proposal.proposal_id) == proposal
    with pytest.raises(RecordConflict):
        await store.create_policy_proposal(proposal, (await store.list_audit_events(tenant))[-1])
    done = await store.decide_policy_proposal(decision(tenant, proposal, "frank"))
    assert done.status == ProposalStatus.PUBLISHED
    assert [a.approved_by for a in done.approvals] == ["frank"]
    assert await store.get_policy_proposal(tenant, proposal.proposal_id) == done
    current = await store.get_policy(tenant)
    assert current is not None and current.policy_version == "v2"
    assert current.prev_policy_hash == v1.policy_hash
    assert current.policy_hash == done.published_policy_hash
    assert current.proposal_id == proposal.proposal_id and current.updated_by == "quant"
    versions = await store.list_policy_versions(tenant)
    assert [v.policy_version for v in versions] == ["v1", "v2"]
    assert verify_policy_chain(versions, current).ok
    types = [e.event_type for e in await store.list_audit_events(tenant)]
    assert types == [
        "policy.bootstrapped",
        "policy.proposed",
        "policy.approved",
        "policy.published",
    ]
    # Closed now: any further decision is refused and writes nothing.
    before = await state(store, tenant)
    for by in ("grace", "frank"):
        with pytest.raises(GovernanceError) as closed:
            await store.decide_policy_proposal(decision(tenant, proposal, by))
        assert closed.value.code == "policy_proposal_closed"
    assert await state(store, tenant) == before


async def test_live_weakening_needs_two_distinct_approvers(
    store: GovernanceStore, tenant: str
) -> None:
    await bootstrap(store, tenant)
    proposal = await propose(store, tenant, weakened("v2"))
    assert proposal.required_approvals == 2
    refusals = [
        (decision(tenant, proposal, "quant"), "policy_self_approval"),
        (decision(tenant, proposal, "mallory", roles=[Role.RISK_APPROVER]), "policy_role_required"),
    ]
    for refused_decision, code in refusals:
        before = await state(store, tenant)
        with pytest.raises(GovernanceError) as refused:
            await store.decide_policy_proposal(refused_decision)
        assert refused.value.code == code
        assert await state(store, tenant) == before
    one = await store.decide_policy_proposal(decision(tenant, proposal, "frank"))
    assert one.status == ProposalStatus.PENDING and one.missing_approvals == 1
    current = await store.get_policy(tenant)
    assert current is not None and current.policy_version == "v1"  # not yet
    before = await state(store, tenant)
    with pytest.raises(GovernanceError) as twice:
        await store.decide_policy_proposal(decision(tenant, proposal, "frank"))
    assert twice.value.code == "policy_duplicate_approval"
    assert await state(store, tenant) == before
    two = await store.decide_policy_proposal(decision(tenant, proposal, "grace"))
    assert two.status == ProposalStatus.PUBLISHED
    assert [a.approved_by for a in two.approvals] == ["frank", "grace"]
    current = await store.get_policy(tenant)
    assert current is not None and current.live_controls.enablement_seconds == 7 * 86_400


async def test_stale_and_already_published_proposals_are_refused(
    store: GovernanceStore, tenant: str
) -> None:
    await bootstrap(store, tenant)
    first = await propose(store, tenant, tightened("v2"))
    rival = await propose(store, tenant, weakened("v3"))
    same_name = await propose(store, tenant, weakened("v2"), by="ada")
    await store.decide_policy_proposal(decision(tenant, first, "frank"))
    before = await state(store, tenant)
    with pytest.raises(GovernanceError) as stale:
        await store.decide_policy_proposal(decision(tenant, rival, "grace"))
    assert stale.value.code == "policy_proposal_stale"
    with pytest.raises(GovernanceError) as exists:
        await store.decide_policy_proposal(decision(tenant, same_name, "grace"))
    assert exists.value.code in ("policy_proposal_stale", "policy_version_exists")
    assert await state(store, tenant) == before


async def test_reject_and_withdraw_close_without_publishing(
    store: GovernanceStore, tenant: str
) -> None:
    await bootstrap(store, tenant)
    a = await propose(store, tenant, tightened("v2"))
    b = await propose(store, tenant, weakened("v3"))
    with pytest.raises(GovernanceError) as not_theirs:
        await store.decide_policy_proposal(
            decision(tenant, a, "frank", action=ProposalAction.WITHDRAW)
        )
    assert not_theirs.value.code == "forbidden"
    rejected = await store.decide_policy_proposal(
        decision(tenant, a, "frank", action=ProposalAction.REJECT)
    )
    withdrawn = await store.decide_policy_proposal(
        decision(tenant, b, "quant", action=ProposalAction.WITHDRAW)
    )
    assert (rejected.status, withdrawn.status) == (
        ProposalStatus.REJECTED,
        ProposalStatus.WITHDRAWN,
    )
    assert rejected.closed_by == "frank" and withdrawn.closed_by == "quant"
    assert [v.policy_version for v in await store.list_policy_versions(tenant)] == ["v1"]
    listed = await store.list_policy_proposals(tenant)
    assert [p.proposal_id for p in listed] == [a.proposal_id, b.proposal_id]
    with pytest.raises(GovernanceError) as gone:
        await store.decide_policy_proposal(
            decision(tenant, a.model_copy(update={"proposal_id": "nope"}), "frank")
        )
    assert gone.value.code == "not_found"
