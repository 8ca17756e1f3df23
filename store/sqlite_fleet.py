"""Tenant halts and the batch commit of a fleet's stage changes in the embedded store.

The halt document lives with the other documents (the gate reads it by path); its history
entries and resume approvals are rows of `fleet_log`, append-only like records. A batch is one
`BEGIN IMMEDIATE` transaction per chunk, written in bulk when nothing in it is unusual
(`store/sqlite_bulk.py`), else each change inside its own savepoint: a change its precondition
refuses rolls back alone and is reported, the others land together.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from governance.errors import GovernanceError
from governance.fleet_changes import (
    HALT_REFUSES,
    BatchCommit,
    SkippedChange,
    StrategyPage,
    check_batch,
    refuse_if_halted,
    skipped,
)
from governance.fleet_events import resume_events
from governance.fleet_halt import (
    AlreadyHalted,
    ResumeApproval,
    ResumeAsk,
    ResumeStep,
    TenantHalt,
    plan_resume,
)
from governance.records import AuditEvent, PromotionRecord, StrategyDoc
from governance.stage_change import StageChange
from store import paths, sqlite_bulk
from store.sqlite_audit import HeldHead
from store.sqlite_policy import SqlitePolicy

# The tenant's halt document and the platform's switch, as read (None: absent).
Halts = tuple[dict[str, Any] | None, dict[str, Any] | None]

# Changes per transaction: the write lock is held for one chunk, not the whole fleet.
SQLITE_CHUNK = 500

FLEET_SCHEMA = """
CREATE TABLE IF NOT EXISTS fleet_log (
    position    INTEGER PRIMARY KEY AUTOINCREMENT,
    path        TEXT NOT NULL UNIQUE,
    tenant_id   TEXT NOT NULL,
    collection  TEXT NOT NULL,
    data        TEXT NOT NULL
);
CREATE TRIGGER IF NOT EXISTS fleet_log_no_overwrite BEFORE INSERT ON fleet_log
WHEN EXISTS (SELECT 1 FROM fleet_log WHERE path = NEW.path OR position = NEW.position) BEGIN
SELECT RAISE(ABORT, 'fleet_log is append-only: overwrite refused'); END;
CREATE TRIGGER IF NOT EXISTS fleet_log_no_update BEFORE UPDATE ON fleet_log BEGIN
SELECT RAISE(ABORT, 'fleet_log is append-only: UPDATE refused'); END;
CREATE TRIGGER IF NOT EXISTS fleet_log_no_delete BEFORE DELETE ON fleet_log BEGIN
SELECT RAISE(ABORT, 'fleet_log is append-only: DELETE refused'); END;
"""


class SqliteFleet(SqlitePolicy):
    # A chunk with nothing unusual in it is written in bulk (`store/sqlite_bulk.py`); False
    # commits every chunk change by change (the tests compare the two).
    bulk_chunks = True

    def __init__(self, db_path: Path | str, busy_timeout_ms: int = 30_000):
        super().__init__(db_path, busy_timeout_ms)
        self._conn.executescript(FLEET_SCHEMA)

    def _commit(
        self, conn: sqlite3.Connection, change: StageChange, chunk: ChunkState | None = None
    ) -> PromotionRecord:
        raise NotImplementedError  # SqliteStore's one commit of a stage change

    def _refuse_if_halted(
        self, conn: sqlite3.Connection, change: StageChange, chunk: ChunkState | None = None
    ) -> None:
        """Read in the commit's own transaction, so a halt stored first always wins (a chunk
        reads them once: nothing in its transaction writes them)."""
        if change.decision not in HALT_REFUSES:
            return  # a demotion or a freeze lands whatever the halts say: nothing to read
        t = change.tenant_id
        if chunk is None or chunk.head.tenant_id != t:
            return refuse_if_halted(change, *self._read_halts(conn, t))
        if chunk.halts is None:
            chunk.halts = self._read_halts(conn, t)
        refuse_if_halted(change, *chunk.halts)

    def _read_halts(self, conn: sqlite3.Connection, tenant_id: str) -> Halts:
        return self._get(conn, paths.tenant_halt(tenant_id)), self._get(conn, paths.SYSTEM_STATUS)

    def _log(self, conn: sqlite3.Connection, tenant_id: str, path: str, data: str) -> None:
        conn.execute(
            "INSERT INTO fleet_log (path, tenant_id, collection, data) VALUES (?, ?, ?, ?)",
            (path, tenant_id, path.rsplit("/", 1)[0], data),
        )

    # -- halts ----------------------------------------------------------------------------
    async def get_tenant_halt(self, tenant_id: str) -> TenantHalt | None:
        data = await self._run(lambda c: self._get(c, paths.tenant_halt(tenant_id)))
        return TenantHalt.model_validate(data) if data else None

    async def start_tenant_halt(self, halt: TenantHalt, event: AuditEvent) -> TenantHalt:
        t = halt.tenant_id

        def write(conn: sqlite3.Connection) -> TenantHalt:
            raw = self._get(conn, paths.tenant_halt(t))
            current = TenantHalt.model_validate(raw) if raw else None
            if current is not None and current.active:
                raise AlreadyHalted(
                    f"tenant {t} is already {current.describe()} (halt {current.halt_id}); "
                    "nothing was written",
                    field="tenant",
                )
            stored = halt.model_copy(update={"sequence": (current.sequence if current else 0) + 1})
            self._log(conn, t, paths.halt_entry(t, halt.halt_id), stored.model_dump_json())
            self._set(conn, paths.tenant_halt(t), stored.model_dump(mode="json"))
            self._insert_audit(conn, event)
            return stored

        return await self._run(write, write=True)

    async def approve_resume(self, ask: ResumeAsk) -> ResumeStep:
        t = ask.tenant_id

        def write(conn: sqlite3.Connection) -> ResumeStep:
            raw = self._get(conn, paths.tenant_halt(t))
            step = plan_resume(TenantHalt.model_validate(raw) if raw else None, ask)
            position = len(step.halt.approvals)
            path = paths.resume_approval(t, step.halt.halt_id, position)
            self._log(conn, t, path, step.approval.model_dump_json())
            self._set(conn, paths.tenant_halt(t), step.halt.model_dump(mode="json"))
            for event in resume_events(step):
                self._insert_audit(conn, event)
            return step

        return await self._run(write, write=True)

    async def list_tenant_halts(self, tenant_id: str) -> list[TenantHalt]:
        rows = await self._run(
            lambda c: c.execute(
                "SELECT data FROM fleet_log WHERE collection = ? ORDER BY position",
                (paths.halt_history(tenant_id),),
            ).fetchall()
        )
        return [TenantHalt.model_validate_json(r[0]) for r in rows]

    async def list_resume_approvals(self, tenant_id: str, halt_id: str) -> list[ResumeApproval]:
        rows = await self._run(
            lambda c: c.execute(
                "SELECT data FROM fleet_log WHERE collection = ? ORDER BY position",
                (paths.resume_approvals(tenant_id, halt_id),),
            ).fetchall()
        )
        return [ResumeApproval.model_validate(json.loads(r[0])) for r in rows]

    async def list_strategy_page(
        self, tenant_id: str, cursor: str | None, limit: int
    ) -> StrategyPage:
        prefix = f"tenants/{tenant_id}/users/"  # a range, not LIKE: ids may hold '_' or '%'
        rows = await self._run(
            lambda c: c.execute(
                "SELECT path, collection, data FROM documents WHERE collection >= ? "
                "AND collection < ? AND path > ? ORDER BY path LIMIT ?",
                (prefix, prefix + "\uffff", cursor or "", limit),
            ).fetchall()
        )
        docs = [
            StrategyDoc.model_validate_json(data)
            for _, collection, data in rows
            if collection.count("/") == 4 and collection.endswith("/strategies")
        ]
        return StrategyPage(strategies=docs, cursor=rows[-1][0] if len(rows) == limit else None)

    # -- the batch commit -----------------------------------------------------------------
    async def commit_stage_changes(self, changes: list[StageChange]) -> BatchCommit:
        check_batch(changes)
        records: list[PromotionRecord] = []
        skips: list[SkippedChange] = []
        for start in range(0, len(changes), SQLITE_CHUNK):
            chunk = changes[start : start + SQLITE_CHUNK]
            landed, refused = await self._run(partial(self._chunk, chunk=chunk), write=True)
            records += landed
            skips += refused
        return BatchCommit(records=records, skipped=skips)

    def _chunk(
        self, conn: sqlite3.Connection, *, chunk: list[StageChange]
    ) -> tuple[list[PromotionRecord], list[SkippedChange]]:
        landed: list[PromotionRecord] = []
        refused: list[SkippedChange] = []
        if not chunk:
            return landed, refused
        # The audit head and the halts, read once for the chunk's transaction (one tenant).
        state = ChunkState(head=self._hold_head(conn, chunk[0].tenant_id))
        if self.bulk_chunks:
            plans = sqlite_bulk.plan_chunk(self, conn, chunk, state)
            if plans is not None and sqlite_bulk.write_chunk(self, conn, plans, state):
                self._store_head(conn, state.head)
                return [p.record for p in plans], refused
        for change in chunk:
            conn.execute("SAVEPOINT one_change")
            before = (state.head.head, state.head.moved)
            try:
                landed.append(self._commit(conn, change, state))
            except GovernanceError as exc:
                conn.execute("ROLLBACK TO one_change")
                state.head.head, state.head.moved = before  # its event was rolled back too
                refused.append(skipped(change, exc))
            conn.execute("RELEASE one_change")
        self._store_head(conn, state.head)
        return landed, refused


@dataclass
class ChunkState:
    """What one chunk's transaction reads once: the tenant's audit head (held, stored at the
    end) and the halt documents (None until a change that a halt refuses asks)."""

    head: HeldHead
    halts: Halts | None = None
