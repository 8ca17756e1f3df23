"""One chunk of a batch commit planned and written in bulk: three reads for the whole chunk
(records already under its ids, the strategy documents, the chain slots and audit events it
would take) and one `executemany` per table, instead of a savepoint and eight statements per
change.

Bulk is the path of a chunk with nothing unusual in it. Anything else (a record already
there, a retry; a refused precondition; a halt that refuses the change; a slot or event taken;
a request to close) returns None before a single write, and the caller commits the chunk change
by change, which reports each refusal as the per-change path always has. So the bulk path
changes the cost, never the outcome: `tests/store/test_sqlite_bulk.py` compares the stored rows.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from typing import TYPE_CHECKING

from governance.errors import GovernanceError
from governance.records import PromotionRecord, StrategyDoc
from governance.stage_change import CommitPlan, Landed, StageChange, plan_commit
from store import paths

if TYPE_CHECKING:
    from store.sqlite_fleet import ChunkState, SqliteFleet


def _found(conn: sqlite3.Connection, sql: str, keys: list[str]) -> list[tuple[str, ...]]:
    """Rows of `sql` (one `IN (...)` of `keys`); a chunk is at most 500 keys, far below
    SQLite's limit of bound parameters."""
    if not keys:
        return []
    marks = ",".join("?" * len(keys))
    return list(conn.execute(sql.format(marks), keys).fetchall())


def plan_chunk(
    store: SqliteFleet, conn: sqlite3.Connection, chunk: list[StageChange], state: ChunkState
) -> list[CommitPlan] | None:
    """Each change's commit plan, or None when any change needs the per-change path."""
    t = chunk[0].tenant_id
    record_paths = [paths.record(t, c.record_id) for c in chunk]
    if _found(conn, "SELECT path FROM promotion_records WHERE path IN ({})", record_paths):
        return None  # a retry (or a clash of ids): sorted out change by change
    doc_paths = [paths.strategy(t, c.uid, c.strategy_id) for c in chunk]
    found = _found(conn, "SELECT path, data FROM documents WHERE path IN ({})", doc_paths)
    docs = {path: data for path, data in found}
    plans = []
    for change, doc_path in zip(chunk, doc_paths, strict=True):
        raw = docs.get(doc_path)
        try:
            doc = StrategyDoc.model_validate_json(raw) if raw else None
            plan = plan_commit(change, existing=None, doc=doc)
            if isinstance(plan, Landed) or plan.request is not None:
                return None
            store._refuse_if_halted(conn, change, state)
        except GovernanceError:
            return None
        plans.append(plan)
    slots = [_slot(p.record) for p in plans]
    if _found(conn, "SELECT path FROM chain_slots WHERE path IN ({})", slots):
        return None
    linked = [e for p in plans for e in p.audit_events]
    events = [paths.audit_event(t, e.event_id) for e in linked]
    if len(set(events)) != len(events) or any(e.tenant_id != t for e in linked):
        return None
    if _found(conn, "SELECT path FROM audit_events WHERE path IN ({})", events):
        return None
    return plans


def _slot(record: PromotionRecord) -> str:
    return paths.chain_slot(record.tenant_id, record.uid, record.strategy_id, record.sequence)


def write_chunk(
    store: SqliteFleet, conn: sqlite3.Connection, plans: list[CommitPlan], state: ChunkState
) -> bool:
    """Writes every plan of the chunk, or nothing (False: the caller goes change by change).
    One savepoint for the chunk: a clash the reads could not see rolls all of it back."""
    held = state.head
    before = (held.head, held.moved)
    conn.execute("SAVEPOINT bulk_chunk")
    try:
        conn.executemany(
            "INSERT INTO chain_slots (path, record_id) VALUES (?, ?)",
            [(_slot(p.record), p.record.record_id) for p in plans],
        )
        conn.executemany(
            "INSERT INTO promotion_records "
            "(path, tenant_id, uid, strategy_id, sequence, record_id, data) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            _record_rows(p.record for p in plans),
        )
        store._insert_audits(conn, [e for p in plans for e in p.audit_events], held)
        store._set_many(
            conn,
            [
                (paths.strategy(s.tenant_id, s.uid, s.strategy_id), s.model_dump(mode="json"))
                for s in (p.strategy for p in plans)
            ],
        )
    except sqlite3.IntegrityError:
        conn.execute("ROLLBACK TO bulk_chunk")
        conn.execute("RELEASE bulk_chunk")
        held.head, held.moved = before
        return False
    conn.execute("RELEASE bulk_chunk")
    return True


def _record_rows(records: Iterable[PromotionRecord]) -> list[tuple[str | int, ...]]:
    return [
        (
            paths.record(r.tenant_id, r.record_id),
            r.tenant_id,
            r.uid,
            r.strategy_id,
            r.sequence,
            r.record_id,
            r.model_dump_json(),
        )
        for r in records
    ]
