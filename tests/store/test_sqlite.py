"""The embedded store: history is append-only in the database itself, and two processes
committing against one file settle on one winner per chain position."""

from __future__ import annotations

import asyncio
import multiprocessing
import sqlite3
from contextlib import suppress
from pathlib import Path

import pytest

from governance.chain import verify_chain
from governance.errors import RecordCorrupt
from governance.policy import default_policy
from governance.records import StrategyDoc
from governance.stages import LifecycleStage as S
from store.sqlite import SqliteStore
from tests.store.race import race
from tests.store_contract.helpers import change

APPEND_ONLY = ("promotion_records", "audit_events", "chain_slots", "policy_versions")


def seeded(path: Path) -> str:
    """A database with one record, its audit event, chain slot and a policy version."""

    async def seed() -> str:
        store = SqliteStore(path)
        doc = StrategyDoc(tenant_id="t", uid="quant", strategy_id="s1")
        await store.register_strategy(doc)
        record = await store.commit_stage_change(change(doc, S.SHADOW))
        await store.put_policy("t", default_policy())
        await store.close()
        return record.record_id

    return asyncio.run(seed())


def test_wal_mode_and_a_busy_timeout(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "g.db")
    assert store._conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert store._conn.execute("PRAGMA busy_timeout").fetchone()[0] >= 1000
    asyncio.run(store.close())


@pytest.mark.parametrize("table", APPEND_ONLY)
def test_update_and_delete_are_refused_by_the_database(tmp_path: Path, table: str) -> None:
    seeded(tmp_path / "g.db")
    conn = sqlite3.connect(tmp_path / "g.db")  # not through the store: any client at all
    try:
        before = conn.execute(f"SELECT * FROM {table}").fetchall()
        assert before
        for statement in (
            f"UPDATE {table} SET path = path || 'x'",
            f"UPDATE {table} SET path = path",  # even a no-op rewrite
            f"DELETE FROM {table}",
        ):
            with pytest.raises(sqlite3.IntegrityError, match="append-only"):
                conn.execute(statement)
        conn.commit()
        assert conn.execute(f"SELECT * FROM {table}").fetchall() == before
    finally:
        conn.close()


@pytest.mark.parametrize("table", ["promotion_records", "audit_events"])
def test_insert_or_replace_cannot_rewrite_history(tmp_path: Path, table: str) -> None:
    seeded(tmp_path / "g.db")
    conn = sqlite3.connect(tmp_path / "g.db")
    try:
        before = conn.execute(f"SELECT * FROM {table}").fetchall()
        names = [c[1] for c in conn.execute(f"PRAGMA table_info({table})")]
        rewritten = ["replace(data, 'contract', 'rewritten')" if n == "data" else n for n in names]
        with suppress(sqlite3.IntegrityError):  # refusing it is the fix
            conn.execute(
                f"INSERT OR REPLACE INTO {table} ({', '.join(names)}) "
                f"SELECT {', '.join(rewritten)} FROM {table}"
            )
            conn.commit()
        assert conn.execute(f"SELECT * FROM {table}").fetchall() == before
    finally:
        conn.close()


def test_insert_or_replace_cannot_take_over_an_audit_event_position(tmp_path: Path) -> None:
    seeded(tmp_path / "g.db")
    conn = sqlite3.connect(tmp_path / "g.db")  # a client without recursive_triggers
    try:
        before = conn.execute("SELECT * FROM audit_events").fetchall()
        with suppress(sqlite3.IntegrityError):  # refusing it is the fix
            conn.execute(
                "INSERT OR REPLACE INTO audit_events (position, path, tenant_id, data) "
                "VALUES (1, 'tenants/t/audit_events/forged', 't', '{}')"
            )
            conn.commit()
        assert conn.execute("SELECT * FROM audit_events").fetchall() == before
    finally:
        conn.close()


async def test_a_record_that_no_longer_parses_is_named(tmp_path: Path) -> None:
    record_id = await asyncio.to_thread(seeded, tmp_path / "g.db")
    conn = sqlite3.connect(tmp_path / "g.db")
    conn.execute("DROP TRIGGER promotion_records_no_update")  # someone with the file
    conn.execute(
        'UPDATE promotion_records SET data = replace(data, \'"sequence":1\', \'"sequence":"x"\')'
    )
    conn.commit()
    conn.close()
    store = SqliteStore(tmp_path / "g.db")  # reopening restores the trigger, not the row
    try:
        for read in (store.list_records("t"), store.get_record("t", record_id)):
            with pytest.raises(RecordCorrupt) as corrupt:
                await read
            assert corrupt.value.field == record_id and record_id in corrupt.value.message
    finally:
        await store.close()


def test_two_processes_race_one_wins_each_position(tmp_path: Path) -> None:
    db = tmp_path / "race.db"

    async def register() -> None:
        store = SqliteStore(db)
        await store.register_strategy(StrategyDoc(tenant_id="t", uid="quant", strategy_id="s1"))
        await store.close()

    asyncio.run(register())
    rounds = 30
    ctx = multiprocessing.get_context("spawn")  # a fresh interpreter: no inherited threads
    barrier = ctx.Barrier(2, timeout=60)
    results = ctx.Queue()
    procs = [ctx.Process(target=race, args=(db, rounds, barrier, results)) for _ in range(2)]
    for p in procs:
        p.start()
    outcomes = [results.get(timeout=120) for _ in procs]
    for p in procs:
        p.join(timeout=30)
        assert p.exitcode == 0
    for position in range(rounds):
        # Every round: one process committed, the other was refused with PreconditionFailed.
        assert sorted(o[position] for o in outcomes) == ["refused", "won"], position

    async def read() -> list:
        store = SqliteStore(db)
        try:
            return await store.list_records("t", "quant", "s1")
        finally:
            await store.close()

    records = asyncio.run(read())
    assert [r.sequence for r in records] == list(range(1, rounds + 1))  # one per position
    assert verify_chain(records).ok
