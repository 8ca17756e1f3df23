"""Verification of a tenant's whole governance ledger, as a store holds it or as an export bundle
carries it: the same pure checks for `stratgate records verify` and `records verify-export`.

What is checked, each finding naming the object and why:
- every strategy's record chain (`governance/chain.py`);
- each strategy document agrees with its last record: the chain head, the stage, the execution
  mode the stage implies (a circuit breaker may only hold it lower), freeze and LIVE enablement
  as that record set them; a strategy with no records agrees with its registration event;
- chain slots and records agree: every slot names an existing record of its position, every
  record has its slot;
- the tenant's audit chain (`governance/audit_chain.py`), and that records and their
  stage-change events cite each other with the same hash; registered strategies exist;
- policy versions: positions 1..n, the current policy is the last version, every cited version
  exists;
- checkpoints: signed by a known key, chained, their leaves give their root, and every head they
  signed is still in the chains (so a chain cut short, or rehashed from its first record, is
  caught); each checkpoint's audit event still finds its checkpoint; each chain head has an
  inclusion proof in the latest checkpoint.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from governance.audit_chain import verify_audit_chain
from governance.chain import ChainSlot, ChainVerification, verify_chain
from governance.ledger_checkpoints import checkpoint_findings, current_leaves, proofs_of
from governance.ledger_model import (
    Finding,
    Key,
    Ledger,
    LedgerVerification,
    PolicyEntry,
    policy_hash,
)
from governance.merkle import InclusionProof
from governance.policy_chain import verify_policy_chain
from governance.records import AuditEvent, PromotionRecord, StrategyDoc
from governance.stage_change import EVENT_TYPE
from governance.stages import LifecycleStage, rank, stage_for_execution_mode

STAGE_CHANGE_EVENTS = frozenset(EVENT_TYPE.values())
REGISTERED = "strategy.registered"


def _key_name(key: Key) -> str:
    return f"{key[0]}/{key[1]}"


def head_check(doc: StrategyDoc | None, records: list[PromotionRecord]) -> str | None:
    """The strategy doc must point at the last record: catches a chain cut short at its end, or
    a last record rewritten with a recomputed hash, which the links alone cannot show."""
    last = max(records, key=lambda r: r.sequence) if records else None
    if doc is None:
        return "records exist for a strategy that is not in the registry"
    expected = (len(records), last.record_id if last else None, last.record_hash if last else None)
    actual = (doc.chain_length, doc.last_stage_change_record_id, doc.last_record_hash)
    if expected == actual:
        return None
    return (
        f"chain head: the strategy points at record {doc.last_stage_change_record_id} "
        f"(#{doc.chain_length}, hash {str(doc.last_record_hash)[:12]}), the stored chain "
        f"ends at {last.record_id if last else 'nothing'} (#{len(records)})"
    )


def doc_agreement(doc: StrategyDoc, last: PromotionRecord) -> str | None:
    """What the strategy document says that its last record did not set (None: they agree)."""
    if doc.lifecycle_stage != last.to_stage:
        return (
            f"the strategy document says {doc.lifecycle_stage}, its last record "
            f"{last.record_id} set {last.to_stage}"
        )
    held = stage_for_execution_mode(doc.execution_mode)
    if rank(held) > rank(doc.lifecycle_stage):
        return (
            f"execution_mode {doc.execution_mode} is above the stage {doc.lifecycle_stage} "
            "(only a circuit breaker's lower mode may differ from the stage)"
        )
    if doc.freeze != last.freeze:
        return f"freeze is {doc.freeze}, the last record {last.record_id} set {last.freeze}"
    if doc.live_enabled_until != last.live_enabled_until:
        return (
            f"live_enabled_until is {doc.live_enabled_until}, the last record "
            f"{last.record_id} set {last.live_enabled_until}"
        )
    return None


def _registration_agreement(doc: StrategyDoc, event: AuditEvent | None) -> str | None:
    if event is None:
        # Registered before registrations had events, or copied by `store migrate`: accepted
        # only where it cannot trade (OBSERVE, no freeze, no chain head).
        if doc.lifecycle_stage == LifecycleStage.OBSERVE and not (doc.chain_length or doc.freeze):
            return None
        return (
            f"a strategy at {doc.lifecycle_stage} with no records and no registration audit "
            "event (not registered here)"
        )
    stage = event.details.get("lifecycle_stage")
    if stage != doc.lifecycle_stage.value:
        return f"the strategy document says {doc.lifecycle_stage}, its registration set {stage}"
    if doc.freeze or doc.chain_length or doc.last_stage_change_record_id:
        return "a strategy with no records shows a freeze or a chain head"
    return None


def _verify_strategy(
    key: Key,
    doc: StrategyDoc | None,
    records: list[PromotionRecord],
    registration: AuditEvent | None,
) -> ChainVerification:
    result = verify_chain(records)
    if not result.ok:
        return result
    last = max(records, key=lambda r: r.sequence) if records else None
    problem = head_check(doc, records)
    if problem is None and doc is not None:
        if last is not None:
            problem = doc_agreement(doc, last)
        else:
            problem = _registration_agreement(doc, registration)
    if problem is None:
        return result
    return ChainVerification(
        ok=False,
        checked=len(records),
        first_broken_record_id=(doc.last_stage_change_record_id if doc else None)
        or (last.record_id if last else None),
        reason=problem,
    )


def _slot_findings(
    slots: Sequence[ChainSlot], records: Sequence[PromotionRecord]
) -> Iterable[Finding]:
    by_id = {r.record_id: r for r in records}
    slotted: set[tuple[str, str, int]] = set()
    for slot in slots:
        where = f"{slot.uid}/{slot.strategy_id}#{slot.sequence}"
        slotted.add((slot.uid, slot.strategy_id, slot.sequence))
        record = by_id.get(slot.record_id)
        if record is None:
            yield Finding(
                kind="chain_slot",
                subject=where,
                reason=f"the slot names record {slot.record_id}, which does not exist",
            )
        elif (record.uid, record.strategy_id, record.sequence) != (
            slot.uid,
            slot.strategy_id,
            slot.sequence,
        ):
            yield Finding(
                kind="chain_slot",
                subject=where,
                reason=f"the slot names record {slot.record_id}, which is #{record.sequence} "
                f"of {record.uid}/{record.strategy_id}",
            )
    for r in records:
        if (r.uid, r.strategy_id, r.sequence) not in slotted:
            yield Finding(
                kind="record",
                subject=r.record_id,
                reason=f"no chain slot claims position #{r.sequence} for it (inserted)",
            )


def _cross_findings(
    records: Sequence[PromotionRecord], events: Sequence[AuditEvent]
) -> Iterable[Finding]:
    """Records and their stage-change events cite each other with the same hash."""
    cited: dict[str, AuditEvent] = {}
    for e in events:
        if e.event_type in STAGE_CHANGE_EVENTS:
            rid = e.details.get("promotion_record_id")
            if isinstance(rid, str):
                cited[rid] = e
    by_id = {r.record_id: r for r in records}
    for r in records:
        event = cited.get(r.record_id)
        if event is None:
            yield Finding(
                kind="record",
                subject=r.record_id,
                reason="no stage-change audit event cites this record (forged, or its event "
                "was removed)",
            )
        elif event.details.get("record_hash") != r.record_hash:
            yield Finding(
                kind="record",
                subject=r.record_id,
                reason=f"its audit event {event.event_id} cites hash "
                f"{str(event.details.get('record_hash'))[:12]}, the record's is "
                f"{r.record_hash[:12]} (rehashed)",
            )
    for rid, event in cited.items():
        if rid not in by_id:
            yield Finding(
                kind="audit_event",
                subject=event.event_id,
                reason=f"cites record {rid}, which does not exist (deleted)",
            )


def _policy_findings(ledger: Ledger) -> Iterable[Finding]:
    positions = [p.position for p in ledger.policies]
    if positions != list(range(1, len(positions) + 1)):
        yield Finding(
            kind="policy",
            subject="versions",
            reason=f"policy version positions are {positions}, not 1..{len(positions)}",
        )
    versions = {p.policy_version for p in ledger.policies}
    if ledger.policies and ledger.current_policy_hash != ledger.policies[-1].policy_hash:
        yield Finding(
            kind="policy",
            subject="current",
            reason=f"the current policy is not the last published version "
            f"{ledger.policies[-1].policy_version}",
        )
    elif not ledger.policies and ledger.current_policy_hash is not None:
        yield Finding(kind="policy", subject="current", reason="a current policy with no versions")
    if ledger.policy_documents:
        # The current policy is checked against the last version by hash just above.
        chain = verify_policy_chain(ledger.policy_documents, ledger.policy_documents[-1])
        if not chain.ok:
            yield Finding(
                kind="policy",
                subject=chain.first_broken_version or "chain",
                reason=f"policy chain: {chain.reason}",
            )
    stamped = {p.policy_version: p.policy_hash for p in ledger.policy_documents}
    for r in ledger.records:
        cited = stamped.get(r.policy_version or "")
        if r.policy_hash is not None and cited is not None and cited != r.policy_hash:
            yield Finding(
                kind="policy",
                subject=r.policy_version or "",
                reason=f"record {r.record_id} cites policy hash {r.policy_hash[:12]}, the stored "
                f"version's is {cited[:12]}",
            )
        if r.policy_version is not None and r.policy_version not in versions:
            yield Finding(
                kind="policy",
                subject=r.policy_version,
                reason=f"record {r.record_id} cites policy version {r.policy_version}, which "
                "is not stored",
            )


def verify_ledger(
    ledger: Ledger,
    keys: dict[str, Ed25519PublicKey],
    *,
    proofs: dict[str, InclusionProof] | None = None,
) -> LedgerVerification:
    """Every check of the module docstring; `keys` are the trusted checkpoint public keys by
    key_id; `proofs` the inclusion proofs to check (None: computed from the latest checkpoint)."""
    chains: dict[Key, list[PromotionRecord]] = defaultdict(list)
    for r in ledger.records:
        chains[(r.uid, r.strategy_id)].append(r)
    docs = {(d.uid, d.strategy_id): d for d in ledger.strategies}
    registrations: dict[Key, AuditEvent] = {}
    for e in ledger.audit_events:
        if e.event_type == REGISTERED and e.uid and e.strategy_id:
            registrations[(e.uid, e.strategy_id)] = e
    unreadable = {p.subject: p for p in ledger.problems if p.kind == "strategy"}
    findings = [p for p in ledger.problems if p.kind != "strategy"]
    results: dict[str, ChainVerification] = {
        name: ChainVerification(
            ok=False, checked=0, first_broken_record_id=p.record_id, reason=p.reason
        )
        for name, p in unreadable.items()
    }
    for key in sorted(set(docs) | set(chains)):
        if _key_name(key) in unreadable:
            continue
        results[_key_name(key)] = _verify_strategy(
            key, docs.get(key), chains.get(key, []), registrations.get(key)
        )
    for key, event in registrations.items():
        if key not in docs:
            findings.append(
                Finding(
                    kind="strategy",
                    subject=_key_name(key),
                    reason=f"registered (audit event {event.event_id}) but its strategy "
                    "document is gone",
                )
            )
    findings += _slot_findings(ledger.chain_slots, ledger.records)
    audit = verify_audit_chain(ledger.audit_events, ledger.audit_head)
    if not audit.ok:
        findings.append(
            Finding(
                kind="audit_event",
                subject=audit.first_broken_event_id or "chain",
                reason=audit.reason or "broken",
            )
        )
    findings += _cross_findings(ledger.records, ledger.audit_events)
    findings += _policy_findings(ledger)
    findings += checkpoint_findings(ledger, keys, proofs)
    ok = not findings and all(v.ok for v in results.values())
    return LedgerVerification(
        ok=ok,
        tenant_id=ledger.tenant_id,
        chains=dict(sorted(results.items())),
        audit=audit,
        checkpoints=len(ledger.checkpoints),
        findings=findings,
    )


__all__ = [
    "Finding",
    "Ledger",
    "LedgerVerification",
    "PolicyEntry",
    "current_leaves",
    "policy_hash",
    "proofs_of",
    "verify_ledger",
]
