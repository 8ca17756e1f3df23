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
max ts, run length), counts.npy, ic.npy (NaN: undefined), confidence.f64 (the sorted runs, one
after another, raw float64) and hits.bool (a flag per run element, raw bytes). The runs are
written as each day is computed, never gathered in memory; the folder is written under a
temporary name and renamed, so a reader never sees half of one and two writers can race.
"""

from __future__ import annotations

import hashlib
import importlib
import os
import shutil
import tempfile
import threading
from collections import defaultdict, deque
from collections.abc import Callable
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

import governance.metrics.ranking
import governance.metrics.signal_days
import governance.metrics.signal_quality
from evidence import arrow_numpy, signal_scan
from evidence.signal_scan import DayRows, SignalFile, columns_of, count_after, merge_days
from governance.evidence_columns import NS_PER_DAY
from governance.metrics.signal_days import COUNTS, DayStats, day_stats

FOLDER = ".partials"
RUNS, HITS = "confidence.f64", "hits.bool"  # raw, native byte order; lengths in meta.npy
Array = np.ndarray[Any, Any]
IN_FLIGHT = 2  # days summarised at once while the next row group is read: bounds memory
# Files summarised at once in a process, whatever the number of evaluations running: the work
# is CPU-bound (two cores), and this bounds a worker's memory for any number of activities.
SUMMARISING = threading.BoundedSemaphore(2)
# One summariser per folder in a process: a second asker (another evaluation of the strategy, in
# a worker's activities) waits for the first instead of summarising the same file again.
_FOLDER_LOCKS: dict[Path, threading.Lock] = {}
_LOCKS_LOCK = threading.Lock()


def code_version() -> str:
    """The version of the code a summary depends on: change any of it and summaries rebuild.

    With NumPy's version go the CPU features its kernels use (cpu_tuning turns some off): a
    reduction's rounding may depend on the vector width, and a kept summary must be what this
    process would compute, bit for bit.
    """
    digest = hashlib.sha256(np.__version__.encode())
    digest.update(" ".join(sorted(k for k, on in np_cpu_features().items() if on)).encode())
    for module in (
        governance.metrics.signal_days,
        governance.metrics.signal_quality,
        governance.metrics.ranking,
        signal_scan,
        arrow_numpy,
    ):
        digest.update(Path(str(module.__file__)).read_bytes())
    digest.update(Path(__file__).read_bytes())
    return digest.hexdigest()[:16]


def np_cpu_features() -> dict[str, bool]:
    """The CPU features NumPy's kernels may use in this process (after cpu_tuning)."""
    umath = importlib.import_module("numpy._core._multiarray_umath")
    features: dict[str, bool] = getattr(umath, "__cpu_features__", {})
    return features


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
    """Every day of one file (rows in [lo, hi]), in day order."""
    out: list[DayStats] = []
    stream_days(path, out.append, lo=lo, hi=hi)
    return out


def stream_days(
    path: Path,
    sink: Callable[[DayStats], object],
    workers: int = IN_FLIGHT,
    lo: int | None = None,
    hi: int | None = None,
) -> None:
    """Each day of one file summarised on `workers` threads while the next row group is read,
    and handed to `sink` in day order (whatever the number of workers: the same days, the same
    order, each computed on its own rows alone, so the result does not depend on it).

    At most `workers` days' rows are held at once. A file of one day computes its IC on a
    second thread, beside the counts and the confidence sort.
    """
    scan = SignalFile(path)
    one_day = scan.file.metadata.num_row_groups <= 1
    pending: deque[Future[DayStats]] = deque()
    # Days on one pool, a lone day's IC on another (a pool waiting on itself could deadlock).
    # A pool starts its threads on first use: the IC pool of a file of many days never does.
    with ThreadPoolExecutor(workers) as pool, ThreadPoolExecutor(1) as ic_pool:
        for rows in scan.days(lo, hi):
            if len(pending) >= workers:
                sink(pending.popleft().result())
            pending.append(pool.submit(summarise_rows, rows, ic_pool if one_day else None))
        while pending:
            sink(pending.popleft().result())


class _Writer:
    """A file's summaries written day by day as they are computed: the sorted runs go straight
    to their files, so neither the window's runs nor a concatenation of them is held (the
    report then reads them memory-mapped, a few pages each)."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.meta: list[tuple[int, int, int, int]] = []
        self.counts: list[list[int]] = []
        self.ic: list[float] = []
        self.confidence = (folder / RUNS).open("wb")
        self.hits = (folder / HITS).open("wb")

    def add(self, d: DayStats) -> None:
        self.meta.append((d.day, d.min_ts, d.max_ts, len(d.confidence)))
        self.counts.append([d.counts[n] for n in COUNTS])
        self.ic.append(np.nan if d.ic is None else d.ic)
        self.confidence.write(np.ascontiguousarray(d.confidence, dtype=np.float64).data)
        self.hits.write(np.ascontiguousarray(d.hit, dtype=np.bool_).data)

    def close(self) -> None:
        self.confidence.close()
        self.hits.close()
        np.save(self.folder / "meta.npy", np.array(self.meta, dtype=np.int64).reshape(-1, 4))
        counts = np.array(self.counts, dtype=np.int64).reshape(-1, len(COUNTS))
        np.save(self.folder / "counts.npy", counts)
        np.save(self.folder / "ic.npy", np.array(self.ic, dtype=np.float64))


def _mapped(path: Path, dtype: type[np.generic]) -> Array:
    if path.stat().st_size == 0:  # an empty file cannot be mapped
        return np.zeros(0, dtype=dtype)
    return np.memmap(path, dtype=dtype, mode="r")


def _open(folder: Path) -> list[DayStats]:
    meta = np.load(folder / "meta.npy")
    counts = np.load(folder / "counts.npy")
    ic = np.load(folder / "ic.npy")
    # Memory-mapped: a quantile's binary searches touch a few pages of each day's run.
    confidence = _mapped(folder / RUNS, np.float64)
    hits = _mapped(folder / HITS, np.bool_)
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
        with _LOCKS_LOCK:
            lock = _FOLDER_LOCKS.setdefault(folder, threading.Lock())
        with lock, SUMMARISING:
            if not folder.is_dir():  # another evaluation may have kept it meanwhile
                _keep_with(path, lambda writer: stream_days(path, writer.add))
    return _open(folder)


def keep(path: Path, days: list[DayStats]) -> None:
    """Keep the summaries of the stored file `path` (computed from its rows as stored)."""

    def write(writer: _Writer) -> None:
        for d in days:
            writer.add(d)

    _keep_with(path, write)


def _keep_with(path: Path, fill: Callable[[_Writer], None]) -> None:
    folder = _folder(path)
    if folder.is_dir():
        return
    folder.parent.mkdir(exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".incoming-", dir=folder.parent))
    try:
        writer = _Writer(tmp)
        try:
            fill(writer)
        finally:
            writer.close()
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
