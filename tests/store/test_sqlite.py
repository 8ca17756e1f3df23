"""The embedded store: history is append-only in the database itself, and two processes
committing against one file settle on one winner."""

from __future__ import annotations

import asyncio
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from governance.chain import verify_chain
from governance.records import StrategyDoc
from store.sqlite import SqliteStore
from tests.store_contract.test_contract import change


async def test_update_and_delete_refused_by_the_database(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "g.db")
    doc = StrategyDoc(tenant_id="t", uid="quant", strategy_id="s1")
    await store.register_strategy(doc)
    from governance.stages import LifecycleStage as S

    await store.commit_stage_change(change(doc, S.SHADOW))
    from governance.policy import default_policy

    await store.put_policy("t", default_policy())
    await store.close()
    conn = sqlite3.connect(tmp_path / "g.db")
    for table in ("promotion_records", "audit_events", "chain_slots", "policy_versions"):
        for statement in (f"UPDATE {table} SET path = path || 'x'", f"DELETE FROM {table}"):
            with pytest.raises(sqlite3.IntegrityError, match="append-only"):
                conn.execute(statement)
    conn.close()


RACER = """
import asyncio, sys, uuid
from store.sqlite import SqliteStore
from governance.errors import PreconditionFailed
from tests.store_contract.test_contract import change
from governance.stages import LifecycleStage as S, Decision

async def main(path, rounds):
    store = SqliteStore(path)
    wins = 0
    for i in range(rounds):
        while True:
            doc = await store.get_strategy("t", "quant", "s1")
            if doc.chain_length >= i + 1:
                break  # the other process took this position
            up = doc.lifecycle_stage == S.OBSERVE
            target, decision = (S.SHADOW, Decision.PROMOTE) if up else (S.OBSERVE, Decision.DEMOTE)
            try:
                await store.commit_stage_change(change(doc, target, decision))
                wins += 1
                break
            except PreconditionFailed:
                continue
    print(wins)

asyncio.run(main(sys.argv[1], int(sys.argv[2])))
"""


async def test_two_processes_race_one_wins_each_position(tmp_path: Path) -> None:
    db = tmp_path / "race.db"
    store = SqliteStore(db)
    await store.register_strategy(StrategyDoc(tenant_id="t", uid="quant", strategy_id="s1"))
    rounds = 40
    procs = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            RACER,
            str(db),
            str(rounds),
            stdout=subprocess.PIPE,
            cwd=Path(__file__).parents[2],
        )
        for _ in range(2)
    ]
    outputs = [await p.communicate() for p in procs]
    wins = [int(out.decode().strip()) for out, _ in outputs]
    records = await store.list_records("t", "quant", "s1")
    assert sum(wins) == len(records) == rounds
    assert [r.sequence for r in records] == list(range(1, rounds + 1))
    assert verify_chain(records).ok
    await store.close()
