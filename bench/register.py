"""Onboarding benchmark: a fleet registered from one file, the way a desk runs it.

`stratgate strategy register --tenant bench --from fleet.csv` in a fresh process (embedded SQLite
store, or the Firestore emulator with `--store firestore`), then every strategy, its event and
the tenant's audit chain are checked. Baselines measured in the same run, on the same store:
a bare write of the same documents and events (one SQLite transaction of plain inserts; plain
batched sets on Firestore: no validation, no chain, no checks) and single registrations
(`stratgate strategy register --uid --strategy`, one process each, on a sample, extrapolated).
Target: 10,000 in <= 10 s on the embedded store.

    .venv/bin/python -m bench register [--rows 10000] [--store sqlite|firestore] [--singles 20]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from governance.audit_chain import verify_audit_chain
from governance.onboarding import OnboardingRow, batch_registration
from governance.stages import LifecycleStage
from store.port import GovernanceStore

STRATGATE = Path(sys.prefix, "bin", "stratgate")
TENANT = "bench"
TARGET_SECONDS = 10.0


def write_fleet(path: Path, rows: int) -> list[OnboardingRow]:
    stages = list(LifecycleStage)
    start = datetime(2026, 10, 1, 9, 30, tzinfo=UTC)
    fleet = [
        OnboardingRow(
            uid=f"desk{i % 25:02d}",
            strategy_id=f"strat-{i:06d}",
            stage=stages[i % len(stages)],
            since=start + timedelta(minutes=i),
        )
        for i in range(rows)
    ]
    lines = ["uid,strategy_id,stage,since"]
    lines += [f"{r.uid},{r.strategy_id},{r.stage},{r.since.isoformat()}" for r in fleet if r.since]
    path.write_text("\n".join(lines) + "\n")
    return fleet


def cli(env: dict[str, str], *args: str) -> tuple[float, str]:
    started = time.perf_counter()
    done = subprocess.run(
        [str(STRATGATE), *args], capture_output=True, text=True, env=env, timeout=3600
    )
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"stratgate {' '.join(args[:3])} failed: {done.stderr.strip()}")
    return elapsed, done.stdout


async def check(store: GovernanceStore, rows: int) -> str:
    docs = [d for d in await store.list_strategies(TENANT) if d.strategy_id.startswith("strat-")]
    events = await store.list_audit_events(TENANT)
    registered = [e for e in events if e.event_type == "strategy.registered"]
    chain = verify_audit_chain(events, await store.get_audit_head(TENANT))
    if len(docs) != rows or len(registered) < rows or not chain.ok:
        raise SystemExit(f"check failed: {len(docs)} strategies, {len(registered)} events, {chain}")
    return f"{len(docs):,} strategies, {len(registered):,} events, audit chain verifies"


def bare_sqlite(path: Path, rows: list[OnboardingRow]) -> float:
    """The same documents and events as plain inserts in one transaction, fsync as the store."""
    docs, events = batch_registration(TENANT, rows, datetime.now(UTC))
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = FULL")
    conn.execute("CREATE TABLE docs (path TEXT PRIMARY KEY, data TEXT)")
    conn.execute("CREATE TABLE events (path TEXT PRIMARY KEY, data TEXT)")
    started = time.perf_counter()
    conn.execute("BEGIN IMMEDIATE")
    conn.executemany(
        "INSERT INTO docs VALUES (?, ?)",
        [(f"{d.uid}/{d.strategy_id}", json.dumps(d.model_dump(mode="json"))) for d in docs],
    )
    conn.executemany(
        "INSERT INTO events VALUES (?, ?)", [(e.event_id, e.model_dump_json()) for e in events]
    )
    conn.execute("COMMIT")
    elapsed = time.perf_counter() - started
    conn.close()
    return elapsed


async def bare_firestore(host: str, rows: list[OnboardingRow]) -> float:
    """The same documents and events as plain batched sets of 500 (no checks, no chain)."""
    from google.cloud import firestore

    os.environ["FIRESTORE_EMULATOR_HOST"] = host
    client = firestore.AsyncClient(project="bench-bare")
    docs, events = batch_registration(TENANT, rows, datetime.now(UTC))
    writes: list[tuple[str, dict[str, Any]]] = [
        (f"bare/{TENANT}/strategies/{d.uid}-{d.strategy_id}", d.model_dump(mode="json"))
        for d in docs
    ] + [(f"bare/{TENANT}/events/{e.event_id}", e.model_dump(mode="json")) for e in events]
    started = time.perf_counter()
    for i in range(0, len(writes), 500):
        batch = client.batch()
        for path, data in writes[i : i + 500]:
            batch.set(client.document(path), data)
        await batch.commit()
    elapsed = time.perf_counter() - started
    client.close()
    return elapsed


def open_check_store(kind: str, home: Path, host: str | None) -> GovernanceStore:
    if kind == "firestore":
        from store.firestore import FirestoreStore

        assert host is not None
        return FirestoreStore.for_emulator(host, "bench-register")
    from store.sqlite import SqliteStore

    return SqliteStore(home / "stratgate.db")


async def checked(kind: str, home: Path, host: str | None, rows: int) -> str:
    store = open_check_store(kind, home, host)
    try:
        return await check(store, rows)
    finally:
        await store.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="bench register")
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--store", choices=("sqlite", "firestore"), default="sqlite")
    parser.add_argument("--singles", type=int, default=20, help="single registrations sampled")
    args = parser.parse_args(argv)
    home = Path(tempfile.mkdtemp(prefix="stratgate-bench-register-"))
    fleet = write_fleet(home / "fleet.csv", args.rows)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("STRATGATE_", "FIRESTORE_"))}
    env["STRATGATE_HOME"] = str(home)
    emulator, host = None, None
    if args.store == "firestore":
        from tests.support.firestore_emulator import start  # the emulator the tests use

        emulator, host = start()
        env.update(
            STRATGATE_STORE="firestore",
            FIRESTORE_EMULATOR_HOST=host,
            FIRESTORE_PROJECT="bench-register",
        )
    try:
        size = (home / "fleet.csv").stat().st_size
        print(
            f"register: {args.rows:,} strategies from one CSV file ({size:,} bytes), {args.store}"
        )
        seconds, out = cli(
            env,
            "strategy",
            "register",
            "--tenant",
            TENANT,
            "--from",
            str(home / "fleet.csv"),
            "--json",
        )
        answer = json.loads(out)
        assert answer["registered"] == args.rows, answer
        print(
            f"  stratgate strategy register --from FILE (fresh process): {seconds:.2f} s, "
            f"{args.rows / seconds:,.0f} strategies/s"
        )
        print(f"  check: {asyncio.run(checked(args.store, home, host, args.rows))}")
        if args.store == "sqlite":
            bare = bare_sqlite(home / "bare.db", fleet)
            bare_name = "bare SQLite insert of the same documents and events, one transaction"
        else:
            assert host is not None
            bare = asyncio.run(bare_firestore(host, fleet))
            bare_name = "bare batched sets of the same documents and events (500 a batch)"
        print(f"  baseline, {bare_name}: {bare:.3f} s")
        singles = []
        for i in range(args.singles):
            t, _ = cli(
                env,
                "strategy",
                "register",
                "--tenant",
                TENANT,
                "--uid",
                "single",
                "--strategy",
                f"one-{i}",
                "--stage",
                "PAPER",
                "--json",
            )
            singles.append(t)
        per_single = sum(singles) / len(singles)
        print(
            f"  baseline, single registrations: {per_single * 1000:.0f} ms each "
            f"(mean of {args.singles}, one process each) -> {per_single * args.rows:,.0f} s "
            f"for {args.rows:,}"
        )
        print(
            f"  ratio: the file takes {seconds / bare:.1f}x the bare write; single "
            f"registrations would take {per_single * args.rows / seconds:.0f}x the file"
        )
        if args.store == "sqlite":
            met = "met" if seconds <= TARGET_SECONDS * args.rows / 10_000 else "NOT met"
            print(f"  target <= {TARGET_SECONDS:.0f} s per 10,000: {met}")
    finally:
        if emulator is not None:
            emulator.terminate()
            emulator.wait(10)
