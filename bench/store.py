"""Store benchmark: stage-change commits per second through each adapter, against a bare write.

Commits alternate promote/demote on each of `--strategies` strategies until `--commits` have
landed, with one writer and with 8 concurrent writers (each its own strategies). After each commit
the same writer times a bare single-document write (`put_system_status`), so both are measured on
the same data, at the same concurrency and under the same machine load; it prints commits/s, p99
and median commit latency and the ratio of a commit's median latency to a bare write's.

    .venv/bin/python -m bench store [--commits 10000] [--strategies 1000]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from governance.records import StrategyDoc
from governance.stage_change import StageChange
from governance.stages import Decision, LifecycleStage
from store.firestore import FirestoreStore
from store.firestore_rpc import Found, rpc_for
from store.port import GovernanceStore
from store.sqlite import SqliteStore

NOW = datetime(2026, 11, 25, tzinfo=UTC)


def step(doc: StrategyDoc) -> StageChange:
    up = doc.lifecycle_stage == LifecycleStage.OBSERVE
    return StageChange(
        tenant_id=doc.tenant_id,
        uid=doc.uid,
        strategy_id=doc.strategy_id,
        record_id=str(uuid.uuid4()),
        audit_event_id=str(uuid.uuid4()),
        decision=Decision.PROMOTE if up else Decision.DEMOTE,
        expected_from_stage=doc.lifecycle_stage,
        expected_last_record_id=doc.last_stage_change_record_id,
        to_stage=LifecycleStage.SHADOW if up else LifecycleStage.OBSERVE,
        reason_code="bench",
        policy_version="bench",
        requested_by="bench",
        requested_at=NOW,
        effective_at=NOW,
    )


async def run_writers(
    store: GovernanceStore, tenant: str, commits: int, strategies: int, writers: int
) -> tuple[float, list[float], list[float]]:
    docs = [
        StrategyDoc(tenant_id=tenant, uid="u", strategy_id=f"s{i:05d}") for i in range(strategies)
    ]
    for doc in docs:
        await store.register_strategy(doc)
    latencies: list[float] = []
    bare: list[float] = []
    per_writer = commits // writers

    async def writer(w: int, mine: list[StrategyDoc]) -> None:
        current = list(mine)
        for i in range(per_writer):
            k = i % len(current)
            record_doc = current[k]
            change = step(record_doc)  # what the workflow hands the commit activity
            start = time.perf_counter()
            await store.commit_stage_change(change)
            latencies.append(time.perf_counter() - start)
            refreshed = await store.get_strategy(tenant, "u", record_doc.strategy_id)
            assert refreshed is not None
            current[k] = refreshed
            start = time.perf_counter()
            await store.put_system_status({"writer": w, "i": i})
            bare.append(time.perf_counter() - start)

    start = time.perf_counter()
    await asyncio.gather(*(writer(w, docs[w::writers]) for w in range(writers)))
    # commits/s as before (each commit and the read of its result), without the bare writes.
    return time.perf_counter() - start - sum(bare) / writers, latencies, bare


def p99(values: list[float]) -> float:
    return sorted(values)[min(len(values) - 1, int(0.99 * len(values)))]


class Split:
    """Where a Firestore commit's time goes: its read, its `Commit`, and the planning between
    them (the raw calls of store/firestore_rpc.py, timed on the store's own client)."""

    def __init__(self, store: FirestoreStore) -> None:
        self.read: list[float] = []
        self.commit: list[float] = []
        self.between: list[float] = []
        self.rpc = rpc = rpc_for(store.client)
        read, commit = rpc.read, rpc.commit
        read_done = [0.0]

        async def timed_read(paths: Sequence[str]) -> dict[str, Found | None]:
            start = time.perf_counter()
            found = await read(paths)
            read_done[0] = time.perf_counter()
            self.read.append(read_done[0] - start)
            return found

        async def timed_commit(writes: Sequence[Any]) -> None:
            start = time.perf_counter()
            self.between.append(start - read_done[0])
            await commit(writes)
            self.commit.append(time.perf_counter() - start)

        rpc.read, rpc.commit = timed_read, timed_commit  # type: ignore[method-assign]

    def restore(self) -> None:
        del self.rpc.read, self.rpc.commit  # the class's own methods again

    def line(self, bare: list[float]) -> str:
        ms = [statistics.median(v) * 1e3 for v in (self.read, self.commit, self.between, bare)]
        return (
            f"  {'':9} inside a commit (medians): read {ms[0]:.2f} ms, Commit {ms[1]:.2f} ms, "
            f"planning between them {ms[2]:.2f} ms; the two round trips alone "
            f"{(ms[0] + ms[1]) / ms[3]:.1f}x a bare write"
        )


async def bench_backend(
    name: str, make: Callable[[], GovernanceStore], commits: int, strategies: int
) -> None:
    store = make()
    for writers in (1, 8):
        split = Split(store) if isinstance(store, FirestoreStore) and writers == 1 else None
        elapsed, lat, bare = await run_writers(
            store, f"bench-{uuid.uuid4().hex[:6]}", commits, strategies, writers
        )
        if split is not None:
            split.restore()
        print(
            f"  {name:9} {writers} writer{'s' if writers > 1 else ' '}: "
            f"{len(lat) / elapsed:8.0f} commits/s  "
            f"p99 {p99(lat) * 1e3:6.1f} ms  median {statistics.median(lat) * 1e3:5.2f} ms  "
            f"bare write median {statistics.median(bare) * 1e3:5.2f} ms  "
            f"commit/bare-write {statistics.median(lat) / statistics.median(bare):4.1f}x"
        )
        if split is not None:
            print(split.line(bare))
    await store.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="bench store")
    parser.add_argument("--commits", type=int, default=10_000)
    parser.add_argument("--strategies", type=int, default=1_000)
    args = parser.parse_args(argv)
    from tests.support.firestore_emulator import start  # the same emulator the tests use

    tmp = Path(tempfile.mkdtemp(prefix="stratgate-bench-store-"))
    emulator, host = start()
    print(f"store: {args.commits:,} stage changes across {args.strategies:,} strategies")
    try:
        asyncio.run(
            bench_backend(
                "sqlite", lambda: SqliteStore(tmp / "bench.db"), args.commits, args.strategies
            )
        )
        asyncio.run(
            bench_backend(
                "firestore",
                lambda: FirestoreStore.for_emulator(host, "bench"),
                args.commits,
                args.strategies,
            )
        )
    finally:
        emulator.terminate()
