"""The embedded EvidenceSource: files under a root, one folder per tenant/uid/strategy/kind.

Ingested files are validated whole, then stored as Parquet named by their content hash, so an
evidence reference is an id and a SHA-256 that anyone can recompute. Validation streams: the
file is checked and written one batch at a time, in time order (sorted stably by ts if it was
not), one row group per UTC day, so a report can read a day without decoding its neighbours.

`open` is the path reports take: signal evaluations as per-day summaries kept beside their
files (evidence.partials), the small kinds as columns. `load` gives every kind as columns.
"""

from __future__ import annotations

import hashlib
import itertools
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from evidence.errors import EvidenceSchemaError
from evidence.partials import DaySink, FileSignalSummary, keep
from evidence.schemas import KINDS
from evidence.signal_scan import SORTED_KEY
from governance.evidence_columns import (
    NS_PER_DAY,
    UNREPORTED,
    Columns,
    EvidenceBundle,
    PaperOrders,
    RiskEvents,
    ShadowFills,
    SignalEvaluations,
)
from governance.records import EvidenceRef
from governance.replay import CitedFile

TYPES = {
    "signal_evaluations": SignalEvaluations,
    "shadow_fills": ShadowFills,
    "paper_orders": PaperOrders,
    "risk_events": RiskEvents,
}
FIELD = {
    "signals": "signal_evaluations",
    "fills": "shadow_fills",
    "orders": "paper_orders",
    "risk": "risk_events",
}


class EvidenceSource(Protocol):
    def open(self, tenant_id: str, uid: str, strategy_id: str) -> EvidenceBundle:
        """A strategy's evidence, as the eligibility report reads it."""
        ...

    def open_cited(
        self,
        tenant_id: str,
        uid: str,
        strategy_id: str,
        refs: list[EvidenceRef],
        verify: bool = True,
    ) -> tuple[EvidenceBundle, list[CitedFile]]:
        """Exactly the evidence `refs` cite (what a decision read), and what was found for each
        (verified, missing, altered); see evidence.cited."""
        ...


class FileEvidenceSource:
    def __init__(self, root: Path):
        self.root = Path(root)

    def folder(self, tenant_id: str, uid: str, strategy_id: str, kind: str) -> Path:
        return self.root / tenant_id / uid / strategy_id / kind

    def ingest(
        self, tenant_id: str, uid: str, strategy_id: str, kind: str, path: Path
    ) -> tuple[EvidenceRef, int]:
        """Validate a file and keep it; refuses it whole (nothing kept) on the first bad cell."""
        path = Path(path)
        if kind not in KINDS:
            raise EvidenceSchemaError(path, None, None, f"unknown kind {kind!r}")
        try:
            with path.open("rb") as f:
                digest = hashlib.file_digest(f, "sha256").hexdigest()
        except OSError as exc:
            raise EvidenceSchemaError(path, None, None, f"unreadable: {exc}") from None
        folder = self.folder(tenant_id, uid, strategy_id, kind)
        created = [d for d in (folder, *folder.parents) if not d.exists()]
        folder.mkdir(parents=True, exist_ok=True)
        tmp = folder / f".incoming-{digest[:16]}.parquet"
        # Signal evaluations are summarised per day as they are written (evidence.partials), so
        # the first report reads summaries too.
        sink = DaySink() if kind == "signal_evaluations" else None
        try:
            rows = _write_checked(kind, path, tmp, sink)
            stored = folder / f"{digest}.parquet"
            # Named by the submitted file's hash; the stored content's own is kept beside it,
            # so a replay can tell an altered file (evidence.cited).
            keep_digest(tmp, stored.name)
            tmp.replace(stored)  # atomic: a reader never sees half a file
            if sink is not None:
                keep(stored, sink.finish())
        except BaseException:
            if sink is not None:
                sink.close()
            tmp.unlink(missing_ok=True)
            for d in created:  # nothing partial is kept, not even the folders
                if d.exists() and not any(d.iterdir()):
                    d.rmdir()
            raise
        return EvidenceRef(kind=kind, id=digest[:16], sha256=digest), rows

    def write(
        self,
        tenant_id: str,
        uid: str,
        strategy_id: str,
        kind: str,
        columns: dict[str, np.ndarray[Any, Any]],
        digest: str | None = None,
    ) -> EvidenceRef:
        flags = {c.name for c in KINDS[kind] if c.type == "flag"}
        table = pa.table(
            {
                name: _flag_array(values) if name in flags else pa.array(values)
                for name, values in columns.items()
            }
        )
        folder = self.folder(tenant_id, uid, strategy_id, kind)
        folder.mkdir(parents=True, exist_ok=True)
        tmp = folder / ".incoming.parquet"
        pq.write_table(table, tmp)
        content = hashlib.sha256(tmp.read_bytes()).hexdigest()
        digest = digest or content
        keep_digest(tmp, f"{digest}.parquet", content)  # as ingest does (evidence.cited)
        tmp.replace(folder / f"{digest}.parquet")  # atomic: a reader never sees half a file
        return EvidenceRef(kind=kind, id=digest[:16], sha256=digest)

    def files(self, tenant_id: str, uid: str, strategy_id: str, kind: str) -> list[Path]:
        """The stored files of one kind, in the order every reader takes them (by name)."""
        folder = self.folder(tenant_id, uid, strategy_id, kind)
        return sorted(folder.glob("[0-9a-f]*.parquet"))

    def load(self, tenant_id: str, uid: str, strategy_id: str) -> EvidenceBundle:
        """Every kind as columns in memory (signal evaluations too: large)."""
        parts: dict[str, Any] = {}
        refs: list[EvidenceRef] = []
        for name, kind in FIELD.items():
            files = self.files(tenant_id, uid, strategy_id, kind)
            if files:
                parts[name] = _columns(kind, files)
                refs += _refs(kind, files)
        return EvidenceBundle(**parts, refs=refs)

    def open_cited(
        self,
        tenant_id: str,
        uid: str,
        strategy_id: str,
        refs: list[EvidenceRef],
        verify: bool = True,
    ) -> tuple[EvidenceBundle, list[CitedFile]]:
        from evidence.cited import open_cited

        return open_cited(self, tenant_id, uid, strategy_id, refs, verify)

    def open(self, tenant_id: str, uid: str, strategy_id: str) -> EvidenceBundle:
        """What a report reads: signal evaluations as kept per-day summaries (computed once per
        file and code version), the other kinds as columns. Same report as from `load`."""
        parts: dict[str, Any] = {}
        refs: list[EvidenceRef] = []
        summary = None
        for name, kind in FIELD.items():
            files = self.files(tenant_id, uid, strategy_id, kind)
            if not files:
                continue
            if kind == "signal_evaluations":
                summary = FileSignalSummary(files)
            else:
                parts[name] = _columns(kind, files)
            refs += _refs(kind, files)
        return EvidenceBundle(**parts, refs=refs, signal_summary=summary)


DIGESTS = ".digests"


def keep_digest(path: Path, name: str, content: str | None = None) -> None:
    """Keep the SHA-256 of a stored file's content under `.digests/{name}.sha256`."""
    if content is None:
        with path.open("rb") as f:
            content = hashlib.file_digest(f, "sha256").hexdigest()
    folder = path.parent / DIGESTS
    folder.mkdir(exist_ok=True)
    (folder / f"{name}.sha256").write_text(content)


def _refs(kind: str, files: list[Path]) -> list[EvidenceRef]:
    return [EvidenceRef(kind=kind, id=f.stem[:16], sha256=f.stem) for f in files]


def _columns(kind: str, files: list[Path]) -> Columns:
    """One kind's files as typed columns, stably in time order."""
    table = pa.concat_tables(
        [_flags_as_int8(pq.read_table(f), kind) for f in files],
        promote_options="default",
    )
    data = {c.name: table.column(c.name).to_numpy(zero_copy_only=False) for c in KINDS[kind]}
    order = np.argsort(data["ts"], kind="stable")
    typed = {k: _typed(v[order]) for k, v in data.items()}
    result: Columns = TYPES[kind](**typed)
    return result


def _write_checked(kind: str, source: Path, dest: Path, sink: DaySink | None = None) -> int:
    """Stream the checked batches of `source` into `dest`: in time order, a row group per day.

    Input already in time order (the usual case) is written as it streams, holding one day;
    other input is written as it comes, then read back and sorted stably by ts.
    """
    rows, in_order, last = 0, True, None
    day: list[pa.RecordBatch] = []
    from evidence.validate import batches, stored_schema  # Arrow compute: ingest only

    with pq.ParquetWriter(dest, stored_schema(kind)) as writer:
        for batch in batches(kind, source):
            rows += batch.num_rows
            ts = batch.column("ts").to_numpy()
            if not len(ts):
                continue
            if in_order and (last is None or ts[0] >= last) and bool(np.all(ts[1:] >= ts[:-1])):
                last = int(ts[-1])
                day = _by_day(writer, day, batch, ts, sink)
                continue
            in_order = False
            _flush(writer, day)
            day = []
            if sink is not None:
                sink.reset()  # written again below, in time order
            writer.write_batch(batch)
        _flush(writer, day, sink if in_order else None)
        if in_order:
            writer.add_key_value_metadata({SORTED_KEY: b"1"})
    if not in_order:
        table = pq.read_table(dest)
        order = np.argsort(table.column("ts").to_numpy(), kind="stable")
        table = table.take(pa.array(order))
        with pq.ParquetWriter(dest, stored_schema(kind)) as writer:
            ts = table.column("ts").to_numpy()
            for batch in table.to_batches(max_chunksize=1 << 20):
                n = batch.num_rows
                day = _by_day(writer, day, batch, ts[:n], sink)
                ts = ts[n:]
            _flush(writer, day, sink)
            writer.add_key_value_metadata({SORTED_KEY: b"1"})
    return rows


def _by_day(
    writer: pq.ParquetWriter,
    day: list[pa.RecordBatch],
    batch: pa.RecordBatch,
    ts: Any,
    sink: DaySink | None,
) -> list[pa.RecordBatch]:
    """Write every day `batch` completes; returns the rows of the day still open."""
    days = ts // NS_PER_DAY
    if day and int(day[-1].column("ts")[-1].as_py() // NS_PER_DAY) != int(days[0]):
        _flush(writer, day, sink)
        day = []
    cuts = [0, *(np.flatnonzero(days[1:] != days[:-1]) + 1).tolist(), len(days)]
    for a, b in itertools.pairwise(cuts[:-1]):
        _flush(writer, [*day, batch.slice(a, b - a)], sink)
        day = []
    return [*day, batch.slice(cuts[-2], cuts[-1] - cuts[-2])]


def _flush(
    writer: pq.ParquetWriter, day: list[pa.RecordBatch], sink: DaySink | None = None
) -> None:
    if day:
        table = pa.Table.from_batches(day)
        writer.write_table(table, row_group_size=1 << 20)
        if sink is not None:
            sink.day(table)


def _flag_array(values: np.ndarray[Any, Any]) -> pa.Array:
    """A tri-state flag (1, 0, -1 = not reported) as a nullable Parquet boolean."""
    flags = np.asarray(values).astype(np.int8)
    return pa.array(flags > 0, mask=flags < 0, type=pa.bool_())


def _flags_as_int8(table: pa.Table, kind: str) -> pa.Table:
    """Flag columns as tri-state int8; a file without one reports nothing about it."""
    for column in KINDS[kind]:
        if column.type != "flag":
            continue
        if column.name in table.column_names:
            values = table.column(column.name).cast(pa.int8()).fill_null(UNREPORTED)
            table = table.set_column(table.column_names.index(column.name), column.name, values)
        else:
            absent = pa.array(np.full(len(table), UNREPORTED, dtype=np.int8))
            table = table.append_column(column.name, absent)
    return table


def _typed(values: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    if values.dtype == object:
        return values.astype(str)
    if np.issubdtype(values.dtype, np.datetime64):
        return values.astype("datetime64[ns]").astype(np.int64)
    return values
