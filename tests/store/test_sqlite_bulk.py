"""A SQLite chunk written in bulk (store/sqlite_bulk.py) stores exactly the rows the change by
change path stores; anything unusual in a chunk falls back to that path before a write; a
clash the reads could not see rolls the whole chunk back; a retry lands nothing twice."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from governance.audit_chain import verify_audit_chain
from governance.chain import verify_chain
from governance.fleet_changes import halt_changes
from governance.fleet_events import halted_event
from governance.fleet_halt import HaltPolicy, TenantHalt, new_halt
from governance.records import StrategyDoc
from governance.stage_change import StageChange
from governance.stages import LifecycleStage as S
from store import paths, sqlite_bulk, sqlite_fleet
from store.sqlite import SqliteStore
from store.sqlite_fleet import ChunkState
from tests.store_contract.helpers import NOW

TENANT = "t-bulk"
STAGES = [S.LIVE, S.PAPER, S.SHADOW, S.OBSERVE]


def rows(store: SqliteStore) -> dict[str, list[tuple[object, ...]]]:
    """Every row a stage change writes (documents without their write time)."""
    c = store._conn
    return {
        "records": c.execute("SELECT * FROM promotion_records ORDER BY path").fetchall(),
        "events": c.execute("SELECT * FROM audit_events ORDER BY position").fetchall(),
        "slots": c.execute("SELECT * FROM chain_slots ORDER BY path").fetchall(),
        "documents": c.execute(
            "SELECT path, collection, data FROM documents ORDER BY path"
        ).fetchall(),
    }


def statements(store: SqliteStore) -> list[str]:
    seen: list[str] = []
    store._conn.set_trace_callback(seen.append)
    return seen


async def fleet(tmp_path: Path, name: str, n: int = 12) -> tuple[SqliteStore, TenantHalt]:
    store = SqliteStore(tmp_path / f"{name}.db")
    for i in range(n):
        await store.register_strategy(
            StrategyDoc(
                tenant_id=TENANT,
                uid="quant",
                strategy_id=f"s{i:02d}",
                lifecycle_stage=STAGES[i % 4],
                last_stage_change_at=NOW,
            )
        )
    halt = new_halt(
        halt_id="h-bulk",
        tenant_id=TENANT,
        by="bob",
        via="api_token",
        reason="bulk drill",
        at=NOW,
        policy=HaltPolicy(),
        current=None,
    )
    return store, await store.start_tenant_halt(halt, halted_event(halt))


async def changes_of(store: SqliteStore, halt: TenantHalt) -> list[StageChange]:
    return halt_changes(await store.list_strategies(TENANT), halt, None, NOW)


@pytest.fixture(autouse=True)
def small_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sqlite_fleet, "SQLITE_CHUNK", 5)  # 12 changes: chunks of 5, 5, 2


async def test_bulk_stores_the_same_rows_as_change_by_change(tmp_path: Path) -> None:
    bulk, halt = await fleet(tmp_path, "bulk")
    one_by_one, _ = await fleet(tmp_path, "one")
    one_by_one.bulk_chunks = False
    seen = statements(bulk)
    a = await bulk.commit_stage_changes(await changes_of(bulk, halt))
    b = await one_by_one.commit_stage_changes(await changes_of(one_by_one, halt))
    assert len(a.records) == 12 and a == b
    assert rows(bulk) == rows(one_by_one)
    assert not [s for s in seen if "SAVEPOINT one_change" in s]  # the bulk path was taken
    events = await bulk.list_audit_events(TENANT)
    assert verify_audit_chain(events, await bulk.get_audit_head(TENANT)).ok
    for r in a.records:
        assert verify_chain(await bulk.list_records(TENANT, r.uid, r.strategy_id)).ok


async def test_a_refused_change_falls_back_and_is_reported_as_change_by_change(
    tmp_path: Path,
) -> None:
    bulk, halt = await fleet(tmp_path, "bulk")
    one_by_one, _ = await fleet(tmp_path, "one")
    one_by_one.bulk_chunks = False
    seen = statements(bulk)
    results = []
    for store in (bulk, one_by_one):
        changes = await changes_of(store, halt)
        # The second change's strategy moved after it was read: its precondition fails.
        changes[1] = changes[1].model_copy(update={"expected_last_record_id": "someone-else"})
        results.append(await store.commit_stage_changes(changes))
    a, b = results
    assert [s.code for s in a.skipped] == ["precondition_failed"] and a == b
    assert rows(bulk) == rows(one_by_one)
    fell_back = [s for s in seen if "SAVEPOINT one_change" in s]
    assert len(fell_back) == 5  # the first chunk only, change by change; the others in bulk


async def test_a_clash_the_reads_missed_rolls_the_whole_chunk_back(tmp_path: Path) -> None:
    store, halt = await fleet(tmp_path, "clash")
    chunk = (await changes_of(store, halt))[:5]
    before = rows(store)

    def attempt(conn: sqlite3.Connection) -> bool:
        state = ChunkState(head=store._hold_head(conn, TENANT))
        plans = sqlite_bulk.plan_chunk(store, conn, chunk, state)
        assert plans is not None
        # Another writer takes the fourth change's chain slot between the reads and the write.
        r = plans[3].record
        slot = paths.chain_slot(TENANT, r.uid, r.strategy_id, r.sequence)
        conn.execute("INSERT INTO chain_slots (path, record_id) VALUES (?, 'other')", (slot,))
        head = (state.head.head, state.head.moved)
        written = sqlite_bulk.write_chunk(store, conn, plans, state)
        assert (state.head.head, state.head.moved) == head  # the held head is put back
        return written

    assert await store._run(attempt, write=True) is False
    after = rows(store)
    assert after["records"] == before["records"] and after["events"] == before["events"]
    assert after["documents"] == before["documents"]
    assert len(after["slots"]) == len(before["slots"]) + 1  # only the other writer's slot


async def test_a_retried_batch_lands_each_change_once(tmp_path: Path) -> None:
    store, halt = await fleet(tmp_path, "retry")
    changes = await changes_of(store, halt)
    first = await store.commit_stage_changes(changes)
    written = rows(store)
    again = await store.commit_stage_changes(changes)  # the activity retried after a crash
    assert again.records == first.records and not again.skipped
    assert rows(store) == written
