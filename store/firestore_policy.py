"""Policy versions (hash-chained) and governed policy changes on Firestore.

Each write is one Firestore transaction: it reads the proposal, its approvals and the policy
chain, lets governance plan it (`plan_decision`; a refusal raises before anything is written)
and writes the plan. On real Firestore the transaction makes the decision serializable and
atomic. The Node emulator keeps the writes made before a failing create, so the contested
create always goes first: the chain slot `promotion_policy/chain/{n}` when a version is
published (two publications racing for one chain position), the approver's own approval
document otherwise (one person approving twice at once); a refused first write lands nothing.
"""

from __future__ import annotations

from typing import Any

from google.cloud import firestore

from governance.audit_chain import AuditHead
from governance.errors import PreconditionFailed, RecordConflict
from governance.policy import PromotionPolicy, load_stored_policy
from governance.policy_chain import chain_version, same_version
from governance.policy_change import (
    DecisionPlan,
    PolicyApproval,
    PolicyProposal,
    ProposalDecision,
    bootstrap_refused,
    plan_decision,
)
from governance.records import AuditEvent
from store import paths
from store.firestore_audit import append_audit, head_of
from store.firestore_commit import CREATE_RACE
from store.firestore_docs import POSITION, positioned

CHAIN = "_chain_position"
ATTEMPTS = 3
Tx = Any  # google's AsyncTransaction (untyped)


def _version_of(data: dict[str, Any]) -> PromotionPolicy:
    return load_stored_policy({k: v for k, v in data.items() if k not in (POSITION, CHAIN)})


def _version_doc(version: PromotionPolicy, position: int) -> dict[str, Any]:
    return {**positioned(version.model_dump(mode="json")), CHAIN: position}


async def _versions(
    client: firestore.AsyncClient, tenant_id: str, tx: Tx = None
) -> list[PromotionPolicy]:
    stream = client.collection(paths.policy_versions(tenant_id)).stream(transaction=tx)
    docs = [snap.to_dict() or {} async for snap in stream]
    # Versions written before the chain have no chain position: they came first, in time order.
    docs.sort(key=lambda d: (d.get(CHAIN, 0), d.get(POSITION, "")))
    return [_version_of(d) for d in docs]


async def _get(client: firestore.AsyncClient, path: str, tx: Tx = None) -> dict[str, Any] | None:
    snap = await client.document(path).get(transaction=tx)
    return snap.to_dict() if snap.exists else None


def _publish(
    client: firestore.AsyncClient,
    tx: Tx,
    tenant_id: str,
    versions: list[PromotionPolicy],
    version: PromotionPolicy,
) -> None:
    """Claim the next chain position (the contested create, first), create the version and
    make it current."""
    position = len(versions) + 1
    tx.create(
        client.document(paths.policy_chain_slot(tenant_id, position)),
        {"policy_version": version.policy_version, "policy_hash": version.policy_hash},
    )
    tx.create(
        client.document(paths.policy_version(tenant_id, version.policy_version)),
        _version_doc(version, position),
    )
    tx.set(client.document(paths.policy(tenant_id)), version.model_dump(mode="json"))


async def _audit_head(client: firestore.AsyncClient, tenant_id: str, tx: Tx) -> AuditHead | None:
    """The tenant's audit chain head, read with the transaction's other reads (Firestore allows
    no read after a write)."""
    return head_of(await _get(client, paths.audit_head(tenant_id), tx))


def _audit(
    client: firestore.AsyncClient,
    tx: Tx,
    tenant_id: str,
    events: list[AuditEvent],
    head: AuditHead | None,
) -> None:
    """Through the store's one audit writer (contract C1): linked into the tenant's chain."""
    append_audit(client, tx, tenant_id, events, head)


async def _in_transaction(client: firestore.AsyncClient, fn: Any) -> Any:
    """Run `fn(tx)` in a transaction; a lost create race reads everything again and re-plans
    (which then refuses, or lands on the next position)."""
    for _ in range(ATTEMPTS):
        try:
            return await firestore.async_transactional(fn)(client.transaction())
        except CREATE_RACE:
            continue
    raise PreconditionFailed(
        f"the tenant's policy kept changing during {ATTEMPTS} attempts", field="policy"
    )


async def put_policy(
    client: firestore.AsyncClient, tenant_id: str, policy: PromotionPolicy
) -> PromotionPolicy:
    async def write(tx: Tx) -> PromotionPolicy:
        versions = await _versions(client, tenant_id, tx)
        stored = next((v for v in versions if v.policy_version == policy.policy_version), None)
        if stored is not None:
            if not same_version(stored, policy):
                raise RecordConflict(
                    f"policy_version {policy.policy_version} already exists with other "
                    "content; publish a new version",
                    field="policy_version",
                )
            tx.set(client.document(paths.policy(tenant_id)), stored.model_dump(mode="json"))
            return stored
        version = chain_version(policy, versions[-1] if versions else None)
        _publish(client, tx, tenant_id, versions, version)
        return version

    found: PromotionPolicy = await _in_transaction(client, write)
    return found


async def list_policy_versions(
    client: firestore.AsyncClient, tenant_id: str
) -> list[PromotionPolicy]:
    return await _versions(client, tenant_id)


async def bootstrap_policy(
    client: firestore.AsyncClient, tenant_id: str, version: PromotionPolicy, event: AuditEvent
) -> PromotionPolicy:
    async def write(tx: Tx) -> PromotionPolicy:
        versions = await _versions(client, tenant_id, tx)
        if versions or await _get(client, paths.policy(tenant_id), tx) is not None:
            raise bootstrap_refused(tenant_id)
        head = await _audit_head(client, tenant_id, tx)
        first = chain_version(version, None)
        _publish(client, tx, tenant_id, versions, first)
        _audit(client, tx, tenant_id, [event], head)
        return first

    try:
        found: PromotionPolicy = await _in_transaction(client, write)
    except PreconditionFailed:
        raise bootstrap_refused(tenant_id) from None  # another first version won the race
    return found


# -- proposals --------------------------------------------------------------------------------
async def get_proposal(
    client: firestore.AsyncClient, tenant_id: str, proposal_id: str, tx: Tx = None
) -> PolicyProposal | None:
    data = await _get(client, paths.policy_proposal(tenant_id, proposal_id), tx)
    if data is None:
        return None
    stream = client.collection(paths.policy_approvals(tenant_id, proposal_id)).stream(
        transaction=tx
    )
    docs = sorted([s.to_dict() or {} async for s in stream], key=lambda d: d[POSITION])
    approvals = [
        PolicyApproval.model_validate({k: v for k, v in d.items() if k != POSITION}) for d in docs
    ]
    return PolicyProposal.model_validate({**data, "approvals": approvals})


def _proposal_doc(proposal: PolicyProposal) -> dict[str, Any]:
    return proposal.model_dump(mode="json", exclude={"approvals"})


async def create_proposal(
    client: firestore.AsyncClient, proposal: PolicyProposal, event: AuditEvent
) -> None:
    ref = client.document(paths.policy_proposal(proposal.tenant_id, proposal.proposal_id))

    async def write(tx: Tx) -> None:
        if (await ref.get(transaction=tx)).exists:
            raise RecordConflict(
                f"a policy proposal {proposal.proposal_id} already exists", field="proposal_id"
            )
        head = await _audit_head(client, proposal.tenant_id, tx)
        tx.create(ref, _proposal_doc(proposal))
        _audit(client, tx, proposal.tenant_id, [event], head)

    # A lost race (for the proposal id or the audit chain's next link) reads again and re-plans.
    await _in_transaction(client, write)


async def list_proposals(client: firestore.AsyncClient, tenant_id: str) -> list[PolicyProposal]:
    ids = [s.id async for s in client.collection(paths.policy_proposals(tenant_id)).stream()]
    found = [await get_proposal(client, tenant_id, i) for i in ids]
    return sorted((p for p in found if p), key=lambda p: p.proposed_at)


async def decide(client: firestore.AsyncClient, decision: ProposalDecision) -> PolicyProposal:
    t = decision.tenant_id

    async def write(tx: Tx) -> PolicyProposal:
        proposal = await get_proposal(client, t, decision.proposal_id, tx)
        versions = await _versions(client, t, tx)
        current = await _get(client, paths.policy(t), tx)
        head = await _audit_head(client, t, tx)
        plan = plan_decision(
            decision,
            proposal=proposal,
            current=load_stored_policy(current) if current else None,
            last_version=versions[-1] if versions else None,
            published_versions={v.policy_version for v in versions},
        )
        _apply(client, tx, t, versions, plan, head)
        return plan.proposal

    found: PolicyProposal = await _in_transaction(client, write)
    return found


def _apply(
    client: firestore.AsyncClient,
    tx: Tx,
    tenant_id: str,
    versions: list[PromotionPolicy],
    plan: DecisionPlan,
    head: AuditHead | None,
) -> None:
    proposal = plan.proposal
    if plan.publish is not None:
        _publish(client, tx, tenant_id, versions, plan.publish)  # its chain slot comes first
    if plan.approval is not None:
        who = plan.approval.approved_by
        tx.create(
            client.document(paths.policy_approval(tenant_id, proposal.proposal_id, who)),
            positioned(plan.approval.model_dump(mode="json")),
        )
    tx.set(
        client.document(paths.policy_proposal(tenant_id, proposal.proposal_id)),
        _proposal_doc(proposal),
    )
    _audit(client, tx, tenant_id, list(plan.audit_events), head)
