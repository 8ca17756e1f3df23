"""The steps of `bench evidence`, each run in a fresh process by bench/evidence.py.

Each step prints one JSON line: its own timings (taken inside the process, after imports) and
what the driver checks values against. The driver adds the process's wall time and peak RSS.

    python -m bench.evidence_steps STEP ARGS...
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

NS_PER_DAY = 86_400 * 10**9
SESSIONS, SYMBOLS = 20, 1_000


def make(
    out: str, rows: str, first_day: str, seed: str = "3", sessions: str = str(SESSIONS)
) -> dict[str, Any]:
    """Signal evaluations as the platform would export them: time-ordered, UTC timestamps."""
    import pandas as pd

    n_rows, rng, n_days = int(rows), np.random.default_rng(int(seed)), int(sessions)
    days = pd.bdate_range(first_day, periods=n_days)
    per_day = n_rows // n_days
    n = per_day * n_days
    base = pd.DatetimeIndex(days).tz_localize("UTC").as_unit("ns").asi8.repeat(per_day)
    within = np.tile(np.linspace(14.5 * 3600e9, 20.9 * 3600e9, per_day).astype(np.int64), n_days)
    score = rng.normal(size=n)
    symbols = pa.array([f"S{i:04d}" for i in range(SYMBOLS)])
    codes = pa.array((np.arange(n) % SYMBOLS).astype(np.int32))
    action = pa.DictionaryArray.from_arrays(
        pa.array(np.where(score > 0, 0, 1).astype(np.int32)), pa.array(["BUY", "SELL"])
    )
    table = pa.table(
        {
            "ts": pa.array(base + within, pa.timestamp("ns", tz="UTC")),
            "symbol": pa.DictionaryArray.from_arrays(codes, symbols).cast(pa.string()),
            "score": score,
            "action": action.cast(pa.string()),
            "confidence": np.round(1 / (1 + np.exp(-np.abs(score))), 6),
            "valid": rng.random(n) > 0.01,
            "error": rng.random(n) < 1e-4,
            "fwd_return": 0.05 * score + rng.normal(size=n),
            "missing_fields": rng.random(n) < 1e-4,
            "schema_error": rng.random(n) < 5e-5,
            "marketdata_stale": rng.random(n) < 1e-4,
        }
    )
    pq.write_table(table, out)
    return {"rows": n}


def ingest(home: str, strategy: str, file: str) -> dict[str, Any]:
    from evidence.files import FileEvidenceSource

    start = time.perf_counter()
    ref, rows = FileEvidenceSource(Path(home) / "evidence").ingest(
        "bench", "quant", strategy, "signal_evaluations", Path(file)
    )
    return {"seconds": time.perf_counter() - start, "rows": rows, "sha256": ref.sha256}


def bare(file: str, out: str) -> dict[str, Any]:
    """A bare Parquet write and read of the same table, for scale."""
    table = pq.read_table(file)
    start = time.perf_counter()
    pq.write_table(table, out)
    wrote = time.perf_counter()
    pq.read_table(out)
    return {"write": wrote - start, "read": time.perf_counter() - wrote}


def polars(file: str) -> dict[str, Any]:
    """polars, reading the stored file: the daily Spearman IC and the hit rate."""
    import polars as pl

    start = time.perf_counter()
    frame = pl.read_parquet(file, columns=["ts", "score", "action", "fwd_return", "valid"])
    day = (pl.col("ts") // NS_PER_DAY).alias("day")
    valid = frame.filter(pl.col("valid"))
    ic = (
        valid.filter(pl.col("score").is_finite() & pl.col("fwd_return").is_finite())
        .group_by(day)
        .agg(pl.corr("score", "fwd_return", method="spearman").alias("ic"))
        .sort("day")
    )
    action = pl.col("action")
    by_action = pl.when(action == "BUY").then(1.0).when(action == "SELL").then(-1.0).otherwise(0.0)
    score = pl.col("score")
    direction = pl.when(score.is_finite()).then(score.sign()).otherwise(by_action)
    fwd = pl.col("fwd_return")
    counted = (direction != 0) & fwd.is_finite() & (fwd != 0)
    hit = counted & ((fwd > 0) == (direction > 0))
    rate = valid.select((hit.sum() / counted.sum()).alias("rate")).item()
    seconds = time.perf_counter() - start
    return {
        "seconds": seconds,
        "days": ic["day"].to_list(),
        "ic": ic["ic"].to_list(),
        "hit_rate": rate,
    }


def reference(file: str) -> dict[str, Any]:
    """pandas groupby with scipy.stats.spearmanr per day: the reference the IC must equal."""
    import pandas as pd
    import scipy.stats as st

    start = time.perf_counter()
    frame = pd.read_parquet(file, columns=["ts", "score", "fwd_return", "valid"])
    frame = frame[frame["valid"]]
    frame["day"] = frame["ts"] // NS_PER_DAY
    ic = frame.groupby("day").apply(
        lambda g: st.spearmanr(g["score"], g["fwd_return"]).statistic, include_groups=False
    )
    return {
        "seconds": time.perf_counter() - start,
        "days": [int(d) for d in ic.index],
        "ic": [float(v) for v in ic],
    }


def _report(home: str, strategy: str, entered: str, now: str, how: str) -> Any:
    from evidence.files import FileEvidenceSource
    from governance.eligibility import build_report
    from governance.policy import default_policy
    from governance.stages import LifecycleStage as S

    source = FileEvidenceSource(Path(home) / "evidence")
    bundle = getattr(source, how)("bench", "quant", strategy)
    return bundle, lambda b: build_report(
        bundle=b,
        policy=default_policy(),
        from_stage=S.OBSERVE,
        target_stage=S.SHADOW,
        stage_entered_at=datetime.fromisoformat(entered),
        now=datetime.fromisoformat(now),
    )


def evaluate(home: str, strategy: str, entered: str, now: str) -> dict[str, Any]:
    """The evaluation activity's work in a warm process: open the evidence, build the report."""
    import evidence.files
    import governance.eligibility
    from governance.metrics.sessions import sessions_between

    # A worker's process: the code imported and the calendar built before the evaluation.
    sessions_between("XNYS", datetime(2026, 1, 1), datetime(2026, 1, 2))
    assert evidence.files and governance.eligibility
    start = time.perf_counter()
    bundle, build = _report(home, strategy, entered, now, "open")
    report = build(bundle)
    return {"seconds": time.perf_counter() - start, "hash": report.metrics_hash, **_ic(bundle)}


def _ic(bundle: Any) -> dict[str, Any]:
    from governance.metrics.signal_days import SignalWindow

    ic = SignalWindow(bundle.signal_summary.days(0, 2**62)).daily_ic()
    return {"days": ic.days.tolist(), "ic": ic.ic.tolist()}


def memory(home: str, strategy: str, entered: str, now: str) -> dict[str, Any]:
    """build_report on columns already in memory (what `bench metrics` times)."""
    from governance.metrics.sessions import sessions_between

    sessions_between("XNYS", datetime(2026, 1, 1), datetime(2026, 1, 2))
    loading = time.perf_counter()
    bundle, build = _report(home, strategy, entered, now, "load")
    start = time.perf_counter()
    report = build(bundle)
    done = time.perf_counter()
    return {"load": start - loading, "seconds": done - start, "hash": report.metrics_hash}


def concurrent(home: str, entered: str, now: str, *strategies: str) -> dict[str, Any]:
    """Several evaluations at once in one process, as a worker runs its activities."""
    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=len(strategies)) as pool:
        jobs = [pool.submit(_report, home, s, entered, now, "open") for s in strategies]
        hashes = [build(b).metrics_hash for b, build in (j.result() for j in jobs)]
    return {"seconds": time.perf_counter() - start, "hashes": hashes}


def register(home: str, strategy: str, entered: str) -> dict[str, Any]:
    """The strategy in the embedded SQLite store, in OBSERVE since `entered`."""
    from governance.policy import default_policy
    from governance.records import StrategyDoc
    from store.sqlite import SqliteStore

    async def go() -> None:
        store = SqliteStore(Path(home) / "stratgate.db")
        try:
            if await store.get_policy("bench") is None:
                await store.put_policy("bench", default_policy())
            doc = StrategyDoc(
                tenant_id="bench",
                uid="quant",
                strategy_id=strategy,
                last_stage_change_at=datetime.fromisoformat(entered).astimezone(UTC),
            )
            if await store.get_strategy("bench", "quant", strategy) is None:
                await store.register_strategy(doc)
        finally:
            await store.close()

    asyncio.run(go())
    return {}


STEPS = {
    "make": make,
    "ingest": ingest,
    "bare": bare,
    "polars": polars,
    "reference": reference,
    "evaluate": evaluate,
    "memory": memory,
    "concurrent": concurrent,
    "register": register,
}

if __name__ == "__main__":
    print(json.dumps(STEPS[sys.argv[1]](*sys.argv[2:])))  # type: ignore[operator]
