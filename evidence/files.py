"""The embedded EvidenceSource: files under a root, one folder per tenant/uid/strategy/kind.

Ingested files are validated whole, then stored as Parquet named by their content hash, so an
evidence reference is an id and a SHA-256 that anyone can recompute.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from evidence.schemas import KINDS
from evidence.validate import validate
from governance.evidence_columns import (
    UNREPORTED,
    EvidenceBundle,
    PaperOrders,
    RiskEvents,
    ShadowFills,
    SignalEvaluations,
)
from governance.records import EvidenceRef

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
    def load(self, tenant_id: str, uid: str, strategy_id: str) -> EvidenceBundle: ...


class FileEvidenceSource:
    def __init__(self, root: Path):
        self.root = Path(root)

    def folder(self, tenant_id: str, uid: str, strategy_id: str, kind: str) -> Path:
        return self.root / tenant_id / uid / strategy_id / kind

    def ingest(
        self, tenant_id: str, uid: str, strategy_id: str, kind: str, path: Path
    ) -> tuple[EvidenceRef, int]:
        """Validate a file and keep it; refuses it whole (nothing kept) on the first bad cell."""
        columns = validate(kind, Path(path))
        digest = hashlib.sha256(Path(path).read_bytes()).hexdigest()
        self.write(tenant_id, uid, strategy_id, kind, columns, digest)
        return EvidenceRef(kind=kind, id=digest[:16], sha256=digest), len(columns["ts"])

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
        digest = digest or hashlib.sha256(tmp.read_bytes()).hexdigest()
        tmp.replace(folder / f"{digest}.parquet")  # atomic: a reader never sees half a file
        return EvidenceRef(kind=kind, id=digest[:16], sha256=digest)

    def load(self, tenant_id: str, uid: str, strategy_id: str) -> EvidenceBundle:
        parts: dict[str, Any] = {}
        refs: list[EvidenceRef] = []
        for name, kind in FIELD.items():
            files = sorted(self.folder(tenant_id, uid, strategy_id, kind).glob("[0-9a-f]*.parquet"))
            if not files:
                continue
            table = pa.concat_tables(
                [_flags_as_int8(pq.read_table(f), kind) for f in files],
                promote_options="default",
            )
            data = {
                c.name: table.column(c.name).to_numpy(zero_copy_only=False) for c in KINDS[kind]
            }
            order = np.argsort(data["ts"], kind="stable")
            typed = {k: _typed(v[order]) for k, v in data.items()}
            parts[name] = TYPES[kind](**typed)
            refs += [EvidenceRef(kind=kind, id=f.stem[:16], sha256=f.stem) for f in files]
        return EvidenceBundle(**parts, refs=refs)


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
