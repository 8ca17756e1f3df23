"""Incremental evaluation: per-day summaries kept beside evidence files give the report a full
recomputation gives, exactly, however the evidence was split into files and ingested."""

from __future__ import annotations

import shutil
import threading
import time
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from evidence import partials
from evidence.files import FileEvidenceSource
from evidence.synthetic import Spec, paper_orders, session_days, shadow_fills, signal_evaluations
from governance.eligibility import build_report
from governance.policy import default_policy
from governance.report import EligibilityReport
from governance.stages import LifecycleStage as S

NOW = datetime(2026, 11, 25, 12, tzinfo=UTC)
SPEC = Spec(sessions=8, symbols=20, evals_per_session=250, end=date(2026, 11, 24), gap_rate=0.1)
Columns = dict[str, np.ndarray[Any, Any]]


def evidence(seed: int, discrete: bool = False) -> tuple[Columns, Columns, Columns, datetime]:
    spec = replace(SPEC, seed=seed)
    rng = np.random.default_rng(seed)
    days = session_days(spec)
    signals = signal_evaluations(spec, rng, days)
    if discrete:
        signals["score"] = np.full(len(signals["ts"]), np.nan)
    # Ties in time and in values, and unreported flags on some rows: the hard cases.
    signals["ts"][1::7] = signals["ts"][0:-1:7]
    signals["confidence"] = np.round(signals["confidence"], 2)
    signals["missing_fields"] = np.where(rng.random(len(signals["ts"])) < 0.3, -1, 0)
    entered = days[0].tz_localize("UTC").to_pydatetime()
    return signals, shadow_fills(spec, rng, days), paper_orders(spec, rng, days), entered


def write_parquet(path: Path, columns: Columns) -> Path:
    table = {k: v for k, v in columns.items()}
    for flag in ("missing_fields", "schema_error", "marketdata_stale"):
        if flag in table:
            values = np.asarray(table[flag]).astype(np.int8)
            table[flag] = pa.array(values > 0, mask=values < 0)
    pq.write_table(pa.table(table), path)
    return path


def take(columns: Columns, rows: np.ndarray[Any, Any]) -> Columns:
    return {k: v[rows] for k, v in columns.items()}


def report(source: FileEvidenceSource, how: str, to: S, entered: datetime) -> EligibilityReport:
    frm = {S.SHADOW: S.OBSERVE, S.PAPER: S.SHADOW, S.LIVE: S.PAPER}[to]
    return build_report(
        bundle=getattr(source, how)("t", "u", "s"),
        policy=default_policy(),
        from_stage=frm,
        target_stage=to,
        stage_entered_at=entered,
        now=NOW,
    )


def same(a: EligibilityReport, b: EligibilityReport) -> None:
    assert a.model_dump(mode="json") == b.model_dump(mode="json")
    assert a.metrics_hash == b.metrics_hash


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5, 6])
def test_incremental_equals_full_on_random_splits(tmp_path: Path, seed: int) -> None:
    rng = np.random.default_rng(100 + seed)
    signals, fills, orders, entered = evidence(seed, discrete=seed == 6)
    n = len(signals["ts"])
    # Files are either runs of whole time (sessions, parts of one) or random rows: then days
    # are spread over several files and rows come out of time order within one.
    if seed % 2:
        cuts = np.sort(rng.choice(np.arange(1, n), size=int(rng.integers(1, 6)), replace=False))
        pieces = np.split(np.arange(n), cuts)
    else:
        owner = rng.integers(0, int(rng.integers(2, 5)), size=n)
        pieces = [np.flatnonzero(owner == k) for k in range(owner.max() + 1)]
    source = FileEvidenceSource(tmp_path / "ev")
    write_parquet(tmp_path / "fills.parquet", fills)
    write_parquet(tmp_path / "orders.parquet", orders)
    source.ingest("t", "u", "s", "shadow_fills", tmp_path / "fills.parquet")
    source.ingest("t", "u", "s", "paper_orders", tmp_path / "orders.parquet")
    windows = [entered, entered + timedelta(days=2, hours=16, minutes=7)]
    for i, rows in enumerate(pieces):
        if not len(rows):
            continue
        path = write_parquet(tmp_path / f"part{i}.parquet", take(signals, rows))
        source.ingest("t", "u", "s", "signal_evaluations", path)
        # After each ingest: kept summaries for the earlier files, a new one for this file.
        for start in windows:
            for to in (S.SHADOW, S.PAPER):
                same(report(source, "open", to, start), report(source, "load", to, start))
    kept = list((tmp_path / "ev/t/u/s/signal_evaluations/.partials").iterdir())
    assert len(kept) == sum(1 for p in pieces if len(p))


def test_a_restart_and_future_rows_cut_days_exactly(tmp_path: Path) -> None:
    signals, _, _, entered = evidence(9)
    signals["ts"][-5:] = int((NOW + timedelta(hours=3)).timestamp() * 1e9)  # clock skew
    source = FileEvidenceSource(tmp_path / "ev")
    source.ingest(
        "t", "u", "s", "signal_evaluations", write_parquet(tmp_path / "s.parquet", signals)
    )
    risk = tmp_path / "risk.csv"
    middle = datetime.fromtimestamp(int(np.median(signals["ts"])) / 1e9, tz=UTC)
    risk.write_text(
        f"ts,kind,severity,event_id\n{middle.isoformat()},daily_loss_limit_breached,critical,r1\n"
    )
    source.ingest("t", "u", "s", "risk_events", risk)
    full, kept = (
        report(source, "load", S.SHADOW, entered),
        report(source, "open", S.SHADOW, entered),
    )
    same(kept, full)
    assert full.window.restarted_at is not None
    assert full.criterion("clock_skew_violations").value == 5.0  # type: ignore[union-attr]


def test_summaries_are_kept_per_code_version(tmp_path: Path, monkeypatch: Any) -> None:
    signals, _, _, entered = evidence(3)
    source = FileEvidenceSource(tmp_path / "ev")
    source.ingest(
        "t", "u", "s", "signal_evaluations", write_parquet(tmp_path / "s.parquet", signals)
    )
    first = report(source, "open", S.SHADOW, entered)
    folder = tmp_path / "ev/t/u/s/signal_evaluations/.partials"
    (before,) = folder.iterdir()
    assert before.name.endswith("." + partials.version())
    monkeypatch.setattr(partials, "_VERSION", ["another-version"])
    same(report(source, "open", S.SHADOW, entered), first)
    assert {p.name.split(".")[-1] for p in folder.iterdir()} == {
        before.name.split(".")[-1],
        "another-version",
    }


def test_a_file_out_of_time_order_is_stored_in_time_order(tmp_path: Path) -> None:
    signals, _, _, entered = evidence(4)
    shuffled = take(signals, np.random.default_rng(0).permutation(len(signals["ts"])))
    source = FileEvidenceSource(tmp_path / "ev")
    ref, _ = source.ingest(
        "t", "u", "s", "signal_evaluations", write_parquet(tmp_path / "s.parquet", shuffled)
    )
    stored = pq.ParquetFile(tmp_path / f"ev/t/u/s/signal_evaluations/{ref.sha256}.parquet")
    ts = stored.read(columns=["ts"]).column("ts").to_numpy()
    assert np.all(ts[1:] >= ts[:-1])
    # One row group per UTC day: a day is read without decoding its neighbours.
    assert stored.metadata.num_row_groups == len(np.unique(ts // 86_400_000_000_000))
    same(report(source, "open", S.SHADOW, entered), report(source, "load", S.SHADOW, entered))


def test_files_written_before_this_version_out_of_time_order(tmp_path: Path) -> None:
    """`write` keeps rows as given (as earlier versions stored them): summaries sort them."""
    signals, _, _, entered = evidence(5)
    source = FileEvidenceSource(tmp_path / "ev")
    order = np.random.default_rng(1).permutation(len(signals["ts"]))
    half = len(order) // 2
    source.write("t", "u", "s", "signal_evaluations", take(signals, order[:half]))
    source.write("t", "u", "s", "signal_evaluations", take(signals, np.sort(order[half:])))
    for start in (entered, entered + timedelta(days=1, hours=15)):
        same(report(source, "open", S.SHADOW, start), report(source, "load", S.SHADOW, start))


@pytest.mark.parametrize("seed", [11, 12, 13])
def test_summaries_do_not_depend_on_the_number_of_threads(tmp_path: Path, seed: int) -> None:
    """A file's days summarised on 1, 2, 3 or 5 threads: the same days, in the same order,
    with the same bytes kept (counts, ICs, sorted runs and hits)."""
    rng = np.random.default_rng(seed)
    signals, _, _, _ = evidence(seed, discrete=seed == 13)
    n = len(signals["ts"])
    source = FileEvidenceSource(tmp_path / "ev")
    cuts = np.sort(rng.choice(np.arange(1, n), size=2, replace=False))
    for i, rows in enumerate(np.split(np.arange(n), cuts)):
        source.ingest(
            "t",
            "u",
            "s",
            "signal_evaluations",
            write_parquet(tmp_path / f"p{i}.parquet", take(signals, rows)),
        )
    files = source.files("t", "u", "s", "signal_evaluations")
    assert len(files) == 3
    for path in files:
        kept = partials._open(partials._folder(path))  # written by ingest, as it wrote the days
        for workers in (1, 2, 3, 5):
            days: list[partials.DayStats] = []
            partials.stream_days(path, days.append, workers=workers)
            assert [d.day for d in days] == [d.day for d in kept]
            for a, b in zip(days, kept, strict=True):
                assert (a.min_ts, a.max_ts, a.counts, a.ic) == (b.min_ts, b.max_ts, b.counts, b.ic)
                assert a.confidence.tobytes() == np.asarray(b.confidence).tobytes()
                assert a.hit.tobytes() == np.asarray(b.hit).tobytes()
    # And summaries recomputed by a report (no kept ones) are byte for byte the ingest's.
    before = {str(p.relative_to(tmp_path)): p.read_bytes() for p in tmp_path.rglob(".partials/*/*")}
    shutil.rmtree(tmp_path / "ev/t/u/s/signal_evaluations/.partials")
    FileEvidenceSource(tmp_path / "ev").open("t", "u", "s")
    after = {str(p.relative_to(tmp_path)): p.read_bytes() for p in tmp_path.rglob(".partials/*/*")}
    assert after == before and len(before) == 3 * 5


def test_two_askers_of_one_file_summarise_it_once(tmp_path: Path, monkeypatch: Any) -> None:
    """A worker's activities evaluating one strategy at once: the second waits for the first's
    summary instead of computing it again (one summariser per folder in a process)."""
    signals, _, _, _ = evidence(5)
    source = FileEvidenceSource(tmp_path / "ev")
    source.ingest(
        "t", "u", "s", "signal_evaluations", write_parquet(tmp_path / "a.parquet", signals)
    )
    (path,) = source.files("t", "u", "s", "signal_evaluations")
    shutil.rmtree(path.parent / partials.FOLDER)  # as after a change of the metric code
    calls: list[Path] = []
    real = partials.stream_days

    def slow(p: Path, sink: Any, *args: Any, **kwargs: Any) -> None:
        calls.append(p)
        time.sleep(0.3)  # both askers are in partials() while the first summarises
        real(p, sink, *args, **kwargs)

    monkeypatch.setattr(partials, "stream_days", slow)
    out: list[Any] = []
    askers = [threading.Thread(target=lambda: out.append(partials.partials(path))) for _ in "ab"]
    for a in askers:
        a.start()
    for a in askers:
        a.join()
    assert calls == [path]
    assert [len(days) for days in out] == [len(out[0])] * 2 and out[0]
