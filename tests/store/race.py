"""One side of the two-process commit race (run in a spawned process by test_sqlite.py)."""

from __future__ import annotations

import asyncio
from multiprocessing.queues import Queue
from multiprocessing.synchronize import Barrier
from pathlib import Path

from governance.errors import PreconditionFailed
from governance.stages import Decision
from governance.stages import LifecycleStage as S
from store.sqlite import SqliteStore
from tests.store_contract.helpers import change


def race(db: Path, rounds: int, barrier: Barrier, results: Queue) -> None:
    results.put(asyncio.run(_race(db, rounds, barrier)))


async def _race(db: Path, rounds: int, barrier: Barrier) -> list[str]:
    """Each round both processes read the same chain head, then both commit on it."""
    store = SqliteStore(db)
    outcomes = []
    try:
        for position in range(rounds):
            doc = await store.get_strategy("t", "quant", "s1")
            assert doc is not None and doc.chain_length == position
            up = doc.lifecycle_stage == S.OBSERVE
            to, decision = (S.SHADOW, Decision.PROMOTE) if up else (S.OBSERVE, Decision.DEMOTE)
            barrier.wait()  # both have read position `position`
            try:
                await store.commit_stage_change(change(doc, to, decision))
                outcomes.append("won")
            except PreconditionFailed:
                outcomes.append("refused")
            barrier.wait()  # both are done before either reads again
    finally:
        await store.close()
    return outcomes
