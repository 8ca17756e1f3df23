"""A SQLite batch holds the tenant's audit head and its halt documents for each chunk's
transaction (store/sqlite_fleet.py `ChunkState`): the audit chain must still be exact across
chunks, with changes refused before and after their event was linked, and a halt must still win."""

from __future__ import annotations

from pathlib import Path

import pytest

from governance.audit_chain import verify_audit_chain
from governance.chain import verify_chain
from governance.fleet_events import halted_event
from governance.fleet_halt import HaltPolicy, new_halt
from governance.records import AuditEvent
from governance.stages import Decision
from governance.stages import LifecycleStage as S
from store import sqlite_fleet
from store.sqlite import SqliteStore
from tests.store_contract.helpers import NOW, change, current, registered


@pytest.fixture
def store(tmp_path: Path) -> SqliteStore:
    return SqliteStore(tmp_path / "chunks.db")


async def test_a_held_head_chains_exactly_across_chunks_and_refusals(
    store: SqliteStore, tenant: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sqlite_fleet, "SQLITE_CHUNK", 3)
    docs = [await registered(store, tenant, S.OBSERVE, f"s{i}") for i in range(8)]
    await store.append_audit_event(  # the head before the batch is not the chain's start
        AuditEvent(event_id="before", event_type="x", ts=NOW, tenant_id=tenant)
    )
    taken = AuditEvent(event_id="taken", event_type="x", ts=NOW, tenant_id=tenant)
    await store.append_audit_event(taken)
    stale = docs[1].model_copy(update={"last_stage_change_record_id": "someone-else"})
    changes = [change(d, S.SHADOW) for d in [docs[0], stale, *docs[2:]]]
    # Refused after its chain slot, its record and its own event were written and the head
    # moved: its companion event's id is taken by a different event (RecordConflict in
    # `_insert_audit`), in the second chunk.
    clash = taken.model_copy(update={"event_type": "another"})
    changes[4] = changes[4].model_copy(update={"companion_event": clash})
    result = await store.commit_stage_changes(changes)
    assert [s.strategy_id for s in result.skipped] == ["s1", "s4"]
    assert [s.code for s in result.skipped] == ["precondition_failed", "record_conflict"]
    assert len(result.records) == 6
    events = await store.list_audit_events(tenant)
    head = await store.get_audit_head(tenant)
    assert verify_audit_chain(events, head).ok
    assert [e.audit_sequence for e in events] == list(range(1, 9))
    assert head is not None and head.event_id == events[-1].event_id
    landed = [e.details["promotion_record_id"] for e in events[2:]]
    assert landed == [r.record_id for r in result.records]  # in the order asked
    for doc in (docs[1], docs[4]):  # nothing of a refused change was written
        assert (await current(store, doc)).chain_length == 0
        assert await store.list_records(tenant, doc.uid, doc.strategy_id) == []
    for record in result.records:
        assert verify_chain(await store.list_records(tenant, record.uid, record.strategy_id)).ok
    # A single commit after the batch links after the head the batch stored.
    after = await store.commit_stage_change(change(await current(store, docs[0]), S.PAPER))
    events = await store.list_audit_events(tenant)
    assert events[-1].details["promotion_record_id"] == after.record_id
    assert verify_audit_chain(events, await store.get_audit_head(tenant)).ok


async def test_a_chunk_whose_every_change_is_refused_leaves_the_head(
    store: SqliteStore, tenant: str
) -> None:
    doc = await registered(store, tenant)
    await store.append_audit_event(
        AuditEvent(event_id="only", event_type="x", ts=NOW, tenant_id=tenant)
    )
    head = await store.get_audit_head(tenant)
    stale = doc.model_copy(update={"last_stage_change_record_id": "someone-else"})
    result = await store.commit_stage_changes([change(stale, S.SHADOW)])
    assert result.records == [] and len(result.skipped) == 1
    assert await store.get_audit_head(tenant) == head


async def test_a_halt_read_once_per_chunk_still_refuses_every_unfreeze(
    store: SqliteStore, tenant: str
) -> None:
    docs = [await registered(store, tenant, S.SHADOW, f"s{i}") for i in range(3)]
    frozen = []
    for d in docs:
        await store.commit_stage_change(
            change(d, S.SHADOW, Decision.FREEZE, set_freeze=True, freeze_reason="r")
        )
        frozen.append(await current(store, d))
    halt = new_halt(
        halt_id="h1",
        tenant_id=tenant,
        by="bob",
        via="api_token",
        reason="desk incident",
        at=NOW,
        policy=HaltPolicy(),
        current=None,
    )
    await store.start_tenant_halt(halt, halted_event(halt))
    unfreezes = [change(d, S.SHADOW, Decision.UNFREEZE, set_freeze=False) for d in frozen]
    result = await store.commit_stage_changes(unfreezes)
    assert result.records == []
    assert [s.code for s in result.skipped] == ["tenant_halted"] * 3
