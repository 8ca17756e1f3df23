"""The SQLite audit trail, hash-chained per tenant, and the signed checkpoints stored with it.

`_insert_audit` is the only writer of audit events (contract C1), with `_insert_audits`, its
form for a batch's chunk: every path that appends one (a plain append, a registration, a stage
change, a checkpoint) calls it inside its own write transaction, so the event and the moved
head land together or not at all.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from governance.audit_chain import AuditHead, link, same_event
from governance.checkpoint import Checkpoint
from governance.errors import RecordConflict
from governance.records import AuditEvent
from store import paths
from store.sqlite_base import SqliteBase


@dataclass
class HeldHead:
    """A tenant's audit chain head held in memory for the rest of one write transaction (a
    batch's chunk): read once, moved by each event linked, stored once by `_store_head` before
    the transaction commits. Nothing else writes inside that transaction, so the held head is
    the stored one; a change rolled back to its savepoint puts back the head it started from."""

    tenant_id: str
    head: AuditHead | None
    moved: bool = False


class SqliteAudit(SqliteBase):
    # -- audit ----------------------------------------------------------------------------
    def _insert_audit(
        self, conn: sqlite3.Connection, event: AuditEvent, held: HeldHead | None = None
    ) -> None:
        """The only writer of audit events: links the event after the tenant's chain head and
        moves the head, inside the caller's transaction (contract C1); with `held`, the head
        held for the transaction (stored by `_store_head`)."""
        path = paths.audit_event(event.tenant_id, event.event_id)
        row = conn.execute("SELECT data FROM audit_events WHERE path = ?", (path,)).fetchone()
        if row:
            if not same_event(AuditEvent.model_validate_json(row[0]), event):
                raise RecordConflict(
                    f"a different audit event already exists under id {event.event_id}",
                    field="event_id",
                )
            return
        if held is not None and held.tenant_id != event.tenant_id:
            held = None  # another tenant's chain: its own head, read and stored now
        head = held.head if held is not None else self._read_head(conn, event.tenant_id)
        linked, head = link(event, head)
        conn.execute(
            "INSERT INTO audit_events (path, tenant_id, uid, strategy_id, data) "
            "VALUES (?, ?, ?, ?, ?)",
            (path, event.tenant_id, event.uid, event.strategy_id, linked.model_dump_json()),
        )
        if held is not None:
            held.head, held.moved = head, True
        else:
            self._set(conn, paths.audit_head(event.tenant_id), head.model_dump(mode="json"))

    def _insert_audits(
        self, conn: sqlite3.Connection, events: list[AuditEvent], held: HeldHead
    ) -> None:
        """`_insert_audit` of new events of `held`'s tenant, in one statement. The caller has
        checked that each is of that tenant and none is stored yet (an insert that finds one
        is refused by the table's trigger, and the caller rolls back). Each is linked after the
        one before, in order."""
        rows = []
        head = held.head
        for event in events:
            linked, head = link(event, head)
            path = paths.audit_event(event.tenant_id, event.event_id)
            rows.append(
                (path, event.tenant_id, event.uid, event.strategy_id, linked.model_dump_json())
            )
        conn.executemany(
            "INSERT INTO audit_events (path, tenant_id, uid, strategy_id, data) "
            "VALUES (?, ?, ?, ?, ?)",
            rows,
        )
        if rows:
            held.head, held.moved = head, True

    def _read_head(self, conn: sqlite3.Connection, tenant_id: str) -> AuditHead | None:
        raw = self._get(conn, paths.audit_head(tenant_id))
        return AuditHead.model_validate(raw) if raw else None

    def _hold_head(self, conn: sqlite3.Connection, tenant_id: str) -> HeldHead:
        return HeldHead(tenant_id=tenant_id, head=self._read_head(conn, tenant_id))

    def _store_head(self, conn: sqlite3.Connection, held: HeldHead) -> None:
        if held.moved and held.head is not None:
            self._set(conn, paths.audit_head(held.tenant_id), held.head.model_dump(mode="json"))

    async def append_audit_event(self, event: AuditEvent) -> None:
        await self._run(lambda c: self._insert_audit(c, event), write=True)

    async def get_audit_event(self, tenant_id: str, event_id: str) -> AuditEvent | None:
        path = paths.audit_event(tenant_id, event_id)
        row = await self._run(
            lambda c: c.execute("SELECT data FROM audit_events WHERE path = ?", (path,)).fetchone()
        )
        return AuditEvent.model_validate_json(row[0]) if row else None

    async def list_audit_events(
        self, tenant_id: str, uid: str | None = None, strategy_id: str | None = None
    ) -> list[AuditEvent]:
        rows = await self._run(
            lambda c: c.execute(
                "SELECT data FROM audit_events WHERE tenant_id = ? "
                "AND (? IS NULL OR uid = ?) AND (? IS NULL OR strategy_id = ?) ORDER BY position",
                (tenant_id, uid, uid, strategy_id, strategy_id),
            ).fetchall()
        )
        return [AuditEvent.model_validate_json(r[0]) for r in rows]

    async def get_audit_head(self, tenant_id: str) -> AuditHead | None:
        raw = await self._run(lambda c: self._get(c, paths.audit_head(tenant_id)))
        return AuditHead.model_validate(raw) if raw else None

    # -- checkpoints ----------------------------------------------------------------------
    async def put_checkpoint(self, checkpoint: Checkpoint, event: AuditEvent) -> None:
        body = checkpoint.body
        path = paths.checkpoint(body.tenant_id, body.sequence)

        def write(conn: sqlite3.Connection) -> None:
            try:
                conn.execute(
                    "INSERT INTO checkpoints (path, tenant_id, sequence, data) VALUES (?, ?, ?, ?)",
                    (path, body.tenant_id, body.sequence, checkpoint.model_dump_json()),
                )
            except sqlite3.IntegrityError:
                raise RecordConflict(
                    f"checkpoint #{body.sequence} already exists", field="checkpoint"
                ) from None
            self._insert_audit(conn, event)

        await self._run(write, write=True)

    async def list_checkpoints(self, tenant_id: str) -> list[Checkpoint]:
        rows = await self._run(
            lambda c: c.execute(
                "SELECT data FROM checkpoints WHERE tenant_id = ? ORDER BY sequence", (tenant_id,)
            ).fetchall()
        )
        return [Checkpoint.model_validate_json(r[0]) for r in rows]
