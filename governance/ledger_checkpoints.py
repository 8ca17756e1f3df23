"""The checkpoint half of the ledger verification: every head a checkpoint signed must still be
in the chains, checkpoints chain and verify, and the latest proves each head it holds."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from governance.checkpoint import (
    CHECKPOINT_EVENT,
    Checkpoint,
    Leaf,
    LeafKind,
    proof_for,
    proves,
    signature_problem,
)
from governance.ledger_model import Finding, Key, Ledger, PolicyEntry
from governance.merkle import InclusionProof
from governance.records import AuditEvent, PromotionRecord


def _key_name(key: Key) -> str:
    return f"{key[0]}/{key[1]}"


def current_leaves(ledger: Ledger) -> list[Leaf]:
    """The leaves a checkpoint made now would sign."""
    chains: dict[Key, list[PromotionRecord]] = defaultdict(list)
    for r in ledger.records:
        chains[(r.uid, r.strategy_id)].append(r)
    keys = {(d.uid, d.strategy_id) for d in ledger.strategies} | set(chains)
    leaves = []
    for uid, sid in sorted(keys):
        chain = sorted(chains.get((uid, sid), []), key=lambda r: r.sequence)
        leaves.append(
            Leaf(
                kind=LeafKind.STRATEGY,
                uid=uid,
                strategy_id=sid,
                chain_length=len(chain),
                head_hash=chain[-1].record_hash if chain else None,
            )
        )
    head = ledger.audit_head
    leaves.append(
        Leaf(
            kind=LeafKind.AUDIT,
            chain_length=head.audit_sequence if head else 0,
            head_hash=head.event_hash if head else None,
        )
    )
    leaves += [
        Leaf(
            kind=LeafKind.POLICY,
            strategy_id=p.policy_version,
            chain_length=p.position,
            head_hash=p.policy_hash,
        )
        for p in ledger.policies
    ]
    return leaves


def _leaf_problem(
    leaf: Leaf,
    chains: dict[Key, list[PromotionRecord]],
    docs: set[Key],
    events: dict[int, AuditEvent],
    policies: dict[int, PolicyEntry],
) -> str | None:
    if leaf.kind == LeafKind.STRATEGY:
        key = (leaf.uid or "", leaf.strategy_id or "")
        chain = {r.sequence: r for r in chains.get(key, [])}
        if leaf.chain_length == 0:
            return None if key in docs or chain else f"strategy {_key_name(key)} is gone"
        at = chain.get(leaf.chain_length)
        if at is None:
            return (
                f"it signed {_key_name(key)} at #{leaf.chain_length}; the chain has no record "
                "there (cut short)"
            )
        if at.record_hash != leaf.head_hash:
            return (
                f"it signed {_key_name(key)} #{leaf.chain_length} with hash "
                f"{str(leaf.head_hash)[:12]}; that record's hash is now {at.record_hash[:12]} "
                "(rewritten and rehashed)"
            )
        return None
    if leaf.kind == LeafKind.AUDIT:
        if leaf.chain_length == 0:
            return None
        event = events.get(leaf.chain_length)
        if event is None:
            return f"it signed audit event #{leaf.chain_length}, which is gone (cut short)"
        if event.event_hash != leaf.head_hash:
            return (
                f"it signed audit event #{leaf.chain_length} with hash {str(leaf.head_hash)[:12]}"
                f"; that event's hash is now {str(event.event_hash)[:12]} (rehashed)"
            )
        return None
    policy = policies.get(leaf.chain_length)
    if policy is None or (policy.policy_version, policy.policy_hash) != (
        leaf.strategy_id,
        leaf.head_hash,
    ):
        return (
            f"it signed policy version {leaf.strategy_id} at position {leaf.chain_length}; "
            "the stored versions differ there"
        )
    return None


def checkpoint_findings(
    ledger: Ledger,
    keys: dict[str, Ed25519PublicKey],
    proofs: dict[str, InclusionProof] | None,
) -> Iterable[Finding]:
    chains: dict[Key, list[PromotionRecord]] = defaultdict(list)
    for r in ledger.records:
        chains[(r.uid, r.strategy_id)].append(r)
    docs = {(d.uid, d.strategy_id) for d in ledger.strategies}
    events = {e.audit_sequence: e for e in ledger.audit_events if e.audit_sequence is not None}
    policies = {p.position: p for p in ledger.policies}
    prev: Checkpoint | None = None
    for expected, cp in enumerate(sorted(ledger.checkpoints, key=lambda c: c.body.sequence), 1):
        subject = f"#{cp.body.sequence} {cp.body.checkpoint_id}"
        problem = signature_problem(cp, keys)
        if problem is None and cp.body.tenant_id != ledger.tenant_id:
            problem = f"it is tenant {cp.body.tenant_id}'s checkpoint"
        if problem is None and cp.body.sequence != expected:
            problem = f"sequence {cp.body.sequence} where {expected} was expected (one removed)"
        if problem is None and cp.body.prev_checkpoint_hash != (
            prev.checkpoint_hash() if prev else None
        ):
            problem = "prev_checkpoint_hash does not match the previous checkpoint (reordered)"
        if problem is None and prev is not None and cp.body.created_at < prev.body.created_at:
            problem = "created before the previous checkpoint"
        if problem:
            yield Finding(kind="checkpoint", subject=subject, reason=problem)
            prev = cp
            continue
        for leaf in cp.leaves:
            problem = _leaf_problem(leaf, chains, docs, events, policies)
            if problem:
                yield Finding(kind="checkpoint", subject=subject, reason=problem)
        prev = cp
    by_sequence = {cp.body.sequence: cp for cp in ledger.checkpoints}
    announced = {
        e.details.get("checkpoint_hash")
        for e in ledger.audit_events
        if e.event_type == CHECKPOINT_EVENT
    }
    for cp in ledger.checkpoints:
        if cp.checkpoint_hash() not in announced:
            yield Finding(
                kind="checkpoint",
                subject=f"#{cp.body.sequence} {cp.body.checkpoint_id}",
                reason="no audit event records this checkpoint (inserted, or the trail was cut)",
            )
    for e in ledger.audit_events:
        if e.event_type != CHECKPOINT_EVENT:
            continue
        sequence, cited = e.details.get("sequence"), e.details.get("checkpoint_hash")
        found = by_sequence.get(sequence) if isinstance(sequence, int) else None
        if found is None or found.checkpoint_hash() != cited:
            yield Finding(
                kind="checkpoint",
                subject=f"#{sequence}",
                reason=f"audit event {e.event_id} records checkpoint #{sequence} (hash "
                f"{str(cited)[:12]}), which is {'altered' if found else 'gone'}",
            )
    if prev is not None and signature_problem(prev, keys) is None:
        yield from _proof_findings(prev, proofs)


def leaf_name(leaf: Leaf) -> str:
    return "/".join(str(p) for p in leaf.key() if p is not None)


def proofs_of(cp: Checkpoint) -> dict[str, InclusionProof]:
    found: dict[str, InclusionProof] = {}
    for leaf in cp.leaves:
        proof = proof_for(cp, leaf)
        if proof is not None:
            found[leaf_name(leaf)] = proof
    return found


def _proof_findings(
    latest: Checkpoint, proofs: dict[str, InclusionProof] | None
) -> Iterable[Finding]:
    """Each head the latest checkpoint signed has an inclusion proof under its root."""
    given = proofs_of(latest) if proofs is None else proofs
    for leaf in latest.leaves:
        proof = given.get(leaf_name(leaf))
        if proof is None or not proves(latest, leaf, proof):
            yield Finding(
                kind="checkpoint",
                subject=f"#{latest.body.sequence} {latest.body.checkpoint_id}",
                reason=f"no valid inclusion proof of {leaf_name(leaf)} under its merkle_root",
            )
