"""The SQLite audit trail, hash-chained per tenant, and the signed checkpoints stored with it.

`_insert_audit` is the only writer of audit events (contract C1): every path that appends one
(a plain append, a registration, a stage change, a checkpoint) calls it inside its own write
transaction, so the event and the moved head land together or not at all.
"""

from __future__ import annotations

import sqlite3

from governance.audit_chain import AuditHead, link, same_event
from governance.checkpoint import Checkpoint
from governance.errors import RecordConflict
from governance.records import AuditEvent
from store import paths
from store.sqlite_tokens import SqliteTokens


class SqliteAudit(SqliteTokens):
    # -- audit ----------------------------------------------------------------------------
    def _insert_audit(self, conn: sqlite3.Connection, event: AuditEvent) -> None:
        """The only writer of audit events: links the event after the tenant's chain head and
        moves the head, inside the caller's transaction (contract C1)."""
        path = paths.audit_event(event.tenant_id, event.event_id)
        row = conn.execute("SELECT data FROM audit_events WHERE path = ?", (path,)).fetchone()
        if row:
            if not same_event(AuditEvent.model_validate_json(row[0]), event):
                raise RecordConflict(
                    f"a different audit event already exists under id {event.event_id}",
                    field="event_id",
                )
            return
        head_path = paths.audit_head(event.tenant_id)
        raw = self._get(conn, head_path)
        linked, head = link(event, AuditHead.model_validate(raw) if raw else None)
        conn.execute(
            "INSERT INTO audit_events (path, tenant_id, uid, strategy_id, data) "
            "VALUES (?, ?, ?, ?, ?)",
            (path, event.tenant_id, event.uid, event.strategy_id, linked.model_dump_json()),
        )
        self._set(conn, head_path, head.model_dump(mode="json"))

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
