"""Contract: every audit event is linked into its tenant's hash chain by the store, on every write
path (plain appends, registrations, stage changes, checkpoints), and checkpoints are create-only."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Coroutine
from datetime import timedelta
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from governance.audit_chain import AuditHead, event_hash, verify_audit_chain
from governance.checkpoint import CHECKPOINT_EVENT, Leaf, LeafKind, make_checkpoint
from governance.errors import RecordConflict
from governance.records import AuditEvent
from governance.registration import strategy_registration
from governance.stages import LifecycleStage as S
from store.port import GovernanceStore
from tests.store_contract.helpers import NOW, change, registered


def _event(tenant: str, n: int) -> AuditEvent:
    return AuditEvent(
        event_id=f"e{n}-{uuid.uuid4().hex[:6]}", event_type="x", ts=NOW, tenant_id=tenant
    )


async def test_every_write_path_links_the_tenant_chain(store: GovernanceStore, tenant: str) -> None:
    assert await store.get_audit_head(tenant) is None
    first = _event(tenant, 1)
    await store.append_audit_event(first)
    doc, reg = strategy_registration(tenant, "quant", "s1", S.OBSERVE, NOW - timedelta(1), NOW)
    await store.register_strategy(doc, reg)
    c = change(doc, S.SHADOW)
    await store.commit_stage_change(c)
    await store.append_audit_event(first)  # a retry: no new link
    events = await store.list_audit_events(tenant)
    assert [e.event_id for e in events] == [first.event_id, reg.event_id, c.audit_event_id]
    assert [e.audit_sequence for e in events] == [1, 2, 3]
    assert events[0].prev_event_hash is None
    assert [e.prev_event_hash for e in events[1:]] == [e.event_hash for e in events[:-1]]
    assert all(e.event_hash == event_hash(e) for e in events)
    head = await store.get_audit_head(tenant)
    assert head == AuditHead(
        audit_sequence=3, event_hash=events[-1].event_hash or "", event_id=c.audit_event_id
    )
    assert verify_audit_chain(events, head).ok
    # Caller-set chain fields are ignored: only the store's head decides them.
    forged = _event(tenant, 9).model_copy(update={"audit_sequence": 1, "event_hash": "f" * 64})
    await store.append_audit_event(forged)
    stored = await store.get_audit_event(tenant, forged.event_id)
    assert stored is not None and stored.audit_sequence == 4 and stored.event_hash != "f" * 64
    # The chain slots of the commit are listed with their records.
    slots = await store.list_chain_slots(tenant, "quant", "s1")
    assert [(s.sequence, s.record_id) for s in slots] == [(1, c.record_id)]
    assert await store.list_chain_slots(tenant, "quant", "nobody") == []


async def test_concurrent_appends_and_commits_keep_one_chain(
    store: GovernanceStore, tenant: str
) -> None:
    docs = [await registered(store, tenant, strategy_id=f"c{i}") for i in range(3)]
    writes: list[Coroutine[Any, Any, object]] = [
        store.append_audit_event(_event(tenant, n)) for n in range(6)
    ]
    writes += [store.commit_stage_change(change(d, S.SHADOW)) for d in docs]
    await asyncio.gather(*writes)
    events = await store.list_audit_events(tenant)
    assert len(events) == 9
    result = verify_audit_chain(events, await store.get_audit_head(tenant))
    assert result.ok, result
    assert sorted(e.audit_sequence or 0 for e in events) == list(range(1, 10))


async def test_tenants_have_their_own_chains(store: GovernanceStore, tenant: str) -> None:
    other = f"{tenant}-other"
    await store.append_audit_event(_event(tenant, 1))
    await store.append_audit_event(_event(other, 1))
    mine, theirs = await store.get_audit_head(tenant), await store.get_audit_head(other)
    assert mine is not None and theirs is not None
    assert mine.audit_sequence == theirs.audit_sequence == 1 and mine != theirs


async def test_checkpoints_are_create_only_and_land_with_their_event(
    store: GovernanceStore, tenant: str
) -> None:
    key = Ed25519PrivateKey.generate()
    leaves = [Leaf(kind=LeafKind.AUDIT, chain_length=0)]
    cp = make_checkpoint(
        tenant_id=tenant,
        checkpoint_id="cp-1",
        sequence=1,
        prev=None,
        created_at=NOW,
        leaves=leaves,
        key=key,
    )

    def event(n: int) -> AuditEvent:
        return AuditEvent(
            event_id=f"cp-event-{n}",
            event_type=CHECKPOINT_EVENT,
            ts=NOW,
            tenant_id=tenant,
            details={"checkpoint_hash": cp.checkpoint_hash()},
        )

    assert await store.list_checkpoints(tenant) == []
    await store.put_checkpoint(cp, event(1))
    assert await store.list_checkpoints(tenant) == [cp]
    with pytest.raises(RecordConflict) as twice:
        await store.put_checkpoint(cp, event(2))
    assert twice.value.field == "checkpoint"
    assert [e.event_id for e in await store.list_audit_events(tenant)] == ["cp-event-1"]
    second = make_checkpoint(
        tenant_id=tenant,
        checkpoint_id="cp-2",
        sequence=2,
        prev=cp,
        created_at=NOW,
        leaves=leaves,
        key=key,
    )
    await store.put_checkpoint(second, event(3))
    assert await store.list_checkpoints(tenant) == [cp, second]
    assert await store.list_checkpoints(f"{tenant}-other") == []
