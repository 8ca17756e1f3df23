"""Partial results kept beside immutable evidence: one summary per (file, UTC day).

A stored evidence file never changes (it is named by its content hash), so the per-day summary
of its signal evaluations (governance.metrics.signal_days.DayStats: counts, the day's IC, the
sorted confidences) can be computed once and kept beside it, keyed by the file's hash and the
version of the metric code (a hash of the modules that compute it, and NumPy's version). A
re-evaluation then reads only the summaries, plus the rows of the days it cannot take whole:

- a day cut by the window's start or end (a stage entered mid-session, a restart after a
  critical risk event), recomputed on the rows inside the window;
- a day whose rows are spread over several files (the IC is not a sum), recomputed on the union
  of their rows, in the order a full load gives them.

Everything else is added up, and the window's confidence quantiles are selected exactly across
the days' sorted runs, so the report equals a full recomputation bit for bit. The runs are
memory-mapped: a quantile touches a few pages of each, not the whole window.

Layout: `{kind folder}/.partials/{file hash}.{code version}/` with meta.npy (day, min ts,
max ts, run length), counts.npy, ic.npy (NaN: undefined), confidence.npy (the sorted runs)
and hits.npy (a flag per run element); written to a
temporary folder and renamed, so a reader never sees half of one and two writers can race.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import threading
from collections import defaultdict
from collections.abc import Callable
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pyarrow as pa

import governance.metrics.ranking
import governance.metrics.signal_days
import governance.metrics.signal_quality
from evidence import signal_scan
from evidence.signal_scan import DayRows, SignalFile, columns_of, count_after, merge_days
from governance.evidence_columns import NS_PER_DAY
from governance.metrics.signal_days import COUNTS, DayStats, day_stats

FOLDER = ".partials"
IN_FLIGHT = 2  # days summarised at once while the next row group is read: bounds memory
# Files summarised at once in a process, whatever the number of evaluations running: the work
# is CPU-bound (two cores), and this bounds a worker's memory for any number of activities.
SUMMARISING = threading.BoundedSemaphore(2)


def code_version() -> str:
    """The version of the code a summary depends on: change any of it and summaries rebuild."""
    digest = hashlib.sha256(np.__version__.encode())
    for module in (
        governance.metrics.signal_days,
        governance.metrics.signal_quality,
        governance.metrics.ranking,
        signal_scan,
    ):
        digest.update(Path(str(module.__file__)).read_bytes())
    digest.update(Path(__file__).read_bytes())
    return digest.hexdigest()[:16]


_VERSION: list[str] = []


def version() -> str:
    if not _VERSION:
        _VERSION.append(code_version())
    return _VERSION[0]


def summarise_rows(rows: DayRows, ic_pool: Executor | None = None) -> DayStats:
    c = rows.columns
    return day_stats(
        rows.day,
        rows.span,
        c["direction"],
        c["score"],
        c["fwd_return"],
        c["confidence"],
        c["valid"],
        c["error"],
        [c[name] for name in governance.metrics.signal_days.FLAGS],
        ic_pool,
    )


def summarise_file(path: Path, lo: int | None = None, hi: int | None = None) -> list[DayStats]:
    """Every day of one file (rows in [lo, hi]), the next row group read while days compute."""
    out: list[Future[DayStats]] = []
    # Days on one pool, their ICs on another (a pool waiting on itself could deadlock): a file
    # of many days keeps both cores busy with days, a file of one with its two halves.
    with ThreadPoolExecutor(IN_FLIGHT) as pool, ThreadPoolExecutor(IN_FLIGHT) as ic_pool:
        for rows in SignalFile(path).days(lo, hi):
            if len(out) >= IN_FLIGHT:
                out[-IN_FLIGHT].result()  # at most IN_FLIGHT days' rows held at once
            out.append(pool.submit(summarise_rows, rows, ic_pool))
        return [f.result() for f in out]


def _save(folder: Path, days: list[DayStats]) -> None:
    meta = np.array(
        [[d.day, d.min_ts, d.max_ts, len(d.confidence)] for d in days], dtype=np.int64
    ).reshape(-1, 4)
    counts = np.array([[d.counts[n] for n in COUNTS] for d in days], dtype=np.int64)
    ic = np.array([np.nan if d.ic is None else d.ic for d in days], dtype=np.float64)
    np.save(folder / "meta.npy", meta)
    np.save(folder / "counts.npy", counts.reshape(-1, len(COUNTS)))
    np.save(folder / "ic.npy", ic)
    empty = np.zeros(0, dtype=np.float64)
    np.save(folder / "confidence.npy", np.concatenate([empty, *(d.confidence for d in days)]))
    none = np.zeros(0, dtype=bool)
    np.save(folder / "hits.npy", np.concatenate([none, *(d.hit for d in days)]))


def _open(folder: Path) -> list[DayStats]:
    meta = np.load(folder / "meta.npy")
    counts = np.load(folder / "counts.npy")
    ic = np.load(folder / "ic.npy")
    # Memory-mapped: a quantile's binary searches touch a few pages of each day's run.
    confidence = np.load(folder / "confidence.npy", mmap_mode="r")
    hits = np.load(folder / "hits.npy", mmap_mode="r")
    at_c = np.concatenate(([0], np.cumsum(meta[:, 3]))) if len(meta) else np.zeros(1, np.int64)
    return [
        DayStats(
            day=int(m[0]),
            min_ts=int(m[1]),
            max_ts=int(m[2]),
            counts={name: int(v) for name, v in zip(COUNTS, counts[i], strict=True)},
            ic=None if np.isnan(ic[i]) else float(ic[i]),
            confidence=confidence[at_c[i] : at_c[i + 1]],
            hit=hits[at_c[i] : at_c[i + 1]],
        )
        for i, m in enumerate(meta)
    ]


def _folder(path: Path) -> Path:
    return path.parent / FOLDER / f"{path.stem}.{version()}"


def partials(path: Path) -> list[DayStats]:
    """The kept summaries of one stored file, computed and kept first if they are not there."""
    folder = _folder(path)
    if not folder.is_dir():
        with SUMMARISING:
            if not folder.is_dir():  # another evaluation may have kept it meanwhile
                keep(path, summarise_file(path))
    return _open(folder)


def keep(path: Path, days: list[DayStats]) -> None:
    """Keep the summaries of the stored file `path` (computed from its rows as stored)."""
    folder = _folder(path)
    if folder.is_dir():
        return
    folder.parent.mkdir(exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".incoming-", dir=folder.parent))
    try:
        _save(tmp, days)
        os.replace(tmp, folder)  # atomic; if another writer won the race, theirs is as good
    except OSError:
        if not folder.is_dir():
            raise
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


class DaySink:
    """The summaries of the days an ingest writes, computed on other threads while it writes
    (the rows are in memory already: no second read of the file)."""

    def __init__(self) -> None:
        self.pool = ThreadPoolExecutor(max_workers=IN_FLIGHT)
        self.jobs: list[Future[DayStats]] = []

    def day(self, table: pa.Table) -> None:
        if len(self.jobs) >= IN_FLIGHT:
            self.jobs[-IN_FLIGHT].result()  # at most IN_FLIGHT days' rows held at once
        self.jobs.append(self.pool.submit(_summarise_table, table))

    def reset(self) -> None:
        """Forget the days so far (the file is being rewritten in time order)."""
        for job in self.jobs:
            job.result()
        self.jobs = []

    def finish(self) -> list[DayStats]:
        try:
            return [job.result() for job in self.jobs]
        finally:
            self.pool.shutdown()

    def close(self) -> None:
        self.pool.shutdown(cancel_futures=True)


def _summarise_table(table: pa.Table) -> DayStats:
    columns = columns_of(table)
    ts = columns["ts"]
    return summarise_rows(
        DayRows(int(ts[0] // NS_PER_DAY), (int(ts.min()), int(ts.max())), columns)
    )


class FileSignalSummary:
    """governance's SignalSummary over stored signal files and their kept summaries."""

    def __init__(self, files: list[Path], opener: Callable[[Path], list[DayStats]] = partials):
        self.files = files
        # Files' summaries, opened in parallel (a new file is summarised while others load).
        with ThreadPoolExecutor(max_workers=IN_FLIGHT) as pool:
            self.per_file = list(pool.map(opener, files))
        self.by_day: dict[int, list[tuple[int, DayStats]]] = defaultdict(list)
        for index, days in enumerate(self.per_file):
            for d in days:
                self.by_day[d.day].append((index, d))

    def days(self, start_ns: int, end_ns: int) -> list[DayStats]:
        out = []
        for day in sorted(self.by_day):
            parts = [
                (i, d) for i, d in self.by_day[day] if d.max_ts >= start_ns and d.min_ts <= end_ns
            ]
            if not parts:
                continue
            whole = start_ns <= parts[0][1].min_ts and parts[0][1].max_ts <= end_ns
            if len(parts) == 1 and whole:
                out.append(parts[0][1])
                continue
            stats = self._recompute(day, [i for i, _ in parts], start_ns, end_ns)
            if stats is not None:
                out.append(stats)
        return out

    def _recompute(self, day: int, files: list[int], start: int, end: int) -> DayStats | None:
        """The day's summary on its rows inside [start, end], from every file that has some."""
        lo, hi = max(start, day * NS_PER_DAY), min(end, (day + 1) * NS_PER_DAY - 1)
        parts = [r for i in files for r in SignalFile(self.files[i]).days(lo, hi)]
        if not parts:
            return None
        return summarise_rows(merge_days(parts))

    def rows_after(self, ts_ns: int) -> int:
        total = 0
        for path, days in zip(self.files, self.per_file, strict=True):
            if any(d.min_ts <= ts_ns < d.max_ts for d in days):
                total += count_after(path, ts_ns)  # a day straddles the limit: count its rows
            else:
                total += sum(d.counts["rows"] for d in days if d.min_ts > ts_ns)
        return total
