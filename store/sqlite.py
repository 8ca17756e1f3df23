"""The embedded GovernanceStore: one SQLite file, WAL mode, safe for several processes.

Every write runs in `BEGIN IMMEDIATE`, so two processes serialise on the database's write lock;
`commit_stage_change` additionally claims its chain slot (a primary key), so even a writer
that read stale state cannot land a second record at the same chain position.
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from governance.audit_chain import same_event
from governance.chain import ChainSlot, stored_record
from governance.errors import PreconditionFailed, RecordConflict
from governance.onboarding import plan_bulk_registration
from governance.promotion import request_update_applies
from governance.records import (
    AuditEvent,
    PromotionRecord,
    PromotionRequest,
    RequestStatus,
    StrategyDoc,
)
from governance.report import EligibilityReport, stored_report
from governance.risk_events import StoredRiskEvent
from governance.risk_queue import RiskEventRef
from governance.roles import Role
from governance.stage_change import (
    Landed,
    RequestClosure,
    StageChange,
    plan_commit,
)
from store import paths
from store.sqlite_fleet import ChunkState, SqliteFleet


class SqliteStore(SqliteFleet):
    # -- strategies -----------------------------------------------------------------------
    async def register_strategy(
        self, doc: StrategyDoc, event: AuditEvent | None = None
    ) -> StrategyDoc:
        path = paths.strategy(doc.tenant_id, doc.uid, doc.strategy_id)

        def write(conn: sqlite3.Connection) -> StrategyDoc:
            if self._get(conn, path) is not None:
                raise RecordConflict(
                    f"strategy {doc.uid}/{doc.strategy_id} is already registered",
                    field="strategy_id",
                )
            self._set(conn, path, doc.model_dump(mode="json"))
            if event is not None:  # same transaction: a refused event rolls the document back
                self._insert_audit(conn, event)
            return doc

        return await self._run(write, write=True)

    async def register_strategies(
        self, docs: list[StrategyDoc], events: list[AuditEvent]
    ) -> list[StrategyDoc]:
        def write(conn: sqlite3.Connection) -> list[StrategyDoc]:
            # One BEGIN IMMEDIATE: every row and its event land together, or none does.
            found = [
                self._get(conn, paths.strategy(d.tenant_id, d.uid, d.strategy_id)) for d in docs
            ]
            stored = [self._stored_audit(conn, e) for e in events]
            plan = plan_bulk_registration(
                docs,
                events,
                [StrategyDoc.model_validate(f) if f else None for f in found],
                stored,
            )
            for one in plan:
                if one.doc is not None:
                    path = paths.strategy(one.doc.tenant_id, one.doc.uid, one.doc.strategy_id)
                    self._set(conn, path, one.doc.model_dump(mode="json"))
                if one.event is not None:
                    self._insert_audit(conn, one.event)
            return docs

        return await self._run(write, write=True)

    def _stored_audit(self, conn: sqlite3.Connection, event: AuditEvent) -> AuditEvent | None:
        row = conn.execute(
            "SELECT data FROM audit_events WHERE path = ?",
            (paths.audit_event(event.tenant_id, event.event_id),),
        ).fetchone()
        return AuditEvent.model_validate_json(row[0]) if row else None

    async def get_strategy(self, tenant_id: str, uid: str, strategy_id: str) -> StrategyDoc | None:
        data = await self._run(lambda c: self._get(c, paths.strategy(tenant_id, uid, strategy_id)))
        return StrategyDoc.model_validate(data) if data else None

    async def list_strategies(self, tenant_id: str, uid: str | None = None) -> list[StrategyDoc]:
        def read(conn: sqlite3.Connection) -> list[dict[str, Any]]:
            if uid is not None:
                return self._list(conn, paths.strategies(tenant_id, uid))
            # A prefix range, not LIKE: '_' and '%' in ids must not act as wildcards.
            prefix = f"tenants/{tenant_id}/users/"
            rows = conn.execute(
                "SELECT collection, data FROM documents WHERE collection >= ? AND collection < ? "
                "ORDER BY path",
                (prefix, prefix + "\uffff"),
            ).fetchall()
            return [
                json.loads(data)
                for collection, data in rows
                if collection.count("/") == 4 and collection.endswith("/strategies")
            ]

        return [StrategyDoc.model_validate(d) for d in await self._run(read)]

    # -- requests -------------------------------------------------------------------------
    async def put_request(self, request: PromotionRequest) -> None:
        path = paths.request(request.tenant_id, request.request_id)
        data = request.model_dump(mode="json")

        def write(conn: sqlite3.Connection) -> None:
            stored = self._get(conn, path)
            if request_update_applies(
                RequestStatus(stored["status"]) if stored else None, request.status
            ):
                self._set(conn, path, data)

        await self._run(write, write=True)

    async def get_request(self, tenant_id: str, request_id: str) -> PromotionRequest | None:
        data = await self._run(lambda c: self._get(c, paths.request(tenant_id, request_id)))
        return PromotionRequest.model_validate(data) if data else None

    async def list_requests(
        self, tenant_id: str, uid: str | None = None, strategy_id: str | None = None
    ) -> list[PromotionRequest]:
        rows = await self._run(
            lambda c: c.execute(
                "SELECT data FROM documents WHERE collection = ? "
                "AND (? IS NULL OR json_extract(data, '$.uid') = ?) "
                "AND (? IS NULL OR json_extract(data, '$.strategy_id') = ?)",
                (paths.requests(tenant_id), uid, uid, strategy_id, strategy_id),
            ).fetchall()
        )
        found = [PromotionRequest.model_validate_json(r[0]) for r in rows]
        return sorted(found, key=lambda r: r.requested_at)

    # -- records --------------------------------------------------------------------------
    async def commit_stage_change(self, change: StageChange) -> PromotionRecord:
        return await self._run(lambda c: self._commit(c, change), write=True)

    def _commit(
        self, conn: sqlite3.Connection, change: StageChange, chunk: ChunkState | None = None
    ) -> PromotionRecord:
        t = change.tenant_id
        row = conn.execute(
            "SELECT record_id, data FROM promotion_records WHERE path = ?",
            (paths.record(t, change.record_id),),
        ).fetchone()
        raw = self._get(conn, paths.strategy(t, change.uid, change.strategy_id))
        plan = plan_commit(
            change,
            existing=stored_record(row[0], row[1]) if row else None,
            doc=StrategyDoc.model_validate(raw) if raw else None,
        )
        if isinstance(plan, Landed):
            return plan.record  # a retry of a commit that already landed
        self._refuse_if_halted(conn, change, chunk)
        record = plan.record
        slot = paths.chain_slot(t, change.uid, change.strategy_id, record.sequence)
        try:
            conn.execute(
                "INSERT INTO chain_slots (path, record_id) VALUES (?, ?)", (slot, record.record_id)
            )
        except sqlite3.IntegrityError:
            raise PreconditionFailed(
                f"another stage change took chain position {record.sequence} first",
                field="expected_last_record_id",
            ) from None
        conn.execute(
            "INSERT INTO promotion_records "
            "(path, tenant_id, uid, strategy_id, sequence, record_id, data) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                paths.record(t, record.record_id),
                t,
                record.uid,
                record.strategy_id,
                record.sequence,
                record.record_id,
                record.model_dump_json(),
            ),
        )
        for event in plan.audit_events:
            self._insert_audit(conn, event, chunk.head if chunk is not None else None)
        self._set(
            conn,
            paths.strategy(t, change.uid, change.strategy_id),
            plan.strategy.model_dump(mode="json"),
        )
        if plan.request is not None:
            self._close_request(conn, t, plan.request)
        return record

    def _close_request(
        self, conn: sqlite3.Connection, tenant_id: str, close: RequestClosure
    ) -> None:
        path = paths.request(tenant_id, close.request_id)
        data = self._get(conn, path)
        if data is None:
            return  # no request document (a demotion, or a test's bare change): nothing to close
        data.update(
            status=close.status.value,
            record_id=close.record_id,
            updated_at=close.updated_at.isoformat(),
        )
        self._set(conn, path, data)

    async def get_record(self, tenant_id: str, record_id: str) -> PromotionRecord | None:
        row = await self._run(
            lambda c: c.execute(
                "SELECT record_id, data FROM promotion_records WHERE path = ?",
                (paths.record(tenant_id, record_id),),
            ).fetchone()
        )
        return stored_record(row[0], row[1]) if row else None

    async def list_records(
        self, tenant_id: str, uid: str | None = None, strategy_id: str | None = None
    ) -> list[PromotionRecord]:
        rows = await self._run(
            lambda c: c.execute(
                "SELECT record_id, data FROM promotion_records WHERE tenant_id = ? "
                "AND (? IS NULL OR uid = ?) AND (? IS NULL OR strategy_id = ?) "
                "ORDER BY uid, strategy_id, sequence",
                (tenant_id, uid, uid, strategy_id, strategy_id),
            ).fetchall()
        )
        return [stored_record(rid, data) for rid, data in rows]

    async def list_chain_slots(self, tenant_id: str, uid: str, strategy_id: str) -> list[ChainSlot]:
        prefix = paths.chain_slot(tenant_id, uid, strategy_id, 0)[: -len("0000000000")]
        rows = await self._run(
            lambda c: c.execute(
                "SELECT path, record_id FROM chain_slots WHERE path >= ? AND path < ? "
                "ORDER BY path",
                (prefix, prefix + "\uffff"),
            ).fetchall()
        )
        return [
            ChainSlot(
                uid=uid,
                strategy_id=strategy_id,
                sequence=int(path[len(prefix) :]),
                record_id=record_id,
            )
            for path, record_id in rows
        ]

    # -- risk history ---------------------------------------------------------------------
    async def record_risk_event(self, event: StoredRiskEvent) -> bool:
        path = paths.risk_event(event.tenant_id, event.uid, event.strategy_id, event.event_id)

        def write(conn: sqlite3.Connection) -> bool:
            row = conn.execute("SELECT data FROM risk_events WHERE path = ?", (path,)).fetchone()
            if row:
                if not StoredRiskEvent.model_validate_json(row[0]).same_event(event):
                    raise RecordConflict(
                        f"a different risk event already exists under id {event.event_id}",
                        field="event_id",
                    )
                return False
            conn.execute(
                "INSERT INTO risk_events (path, tenant_id, uid, strategy_id, data) "
                "VALUES (?, ?, ?, ?, ?)",
                (path, event.tenant_id, event.uid, event.strategy_id, event.model_dump_json()),
            )
            return True

        return await self._run(write, write=True)

    async def get_risk_event(
        self, tenant_id: str, uid: str, strategy_id: str, event_id: str
    ) -> StoredRiskEvent | None:
        path = paths.risk_event(tenant_id, uid, strategy_id, event_id)
        row = await self._run(
            lambda c: c.execute("SELECT data FROM risk_events WHERE path = ?", (path,)).fetchone()
        )
        return StoredRiskEvent.model_validate_json(row[0]) if row else None

    async def list_risk_events(
        self, tenant_id: str, uid: str, strategy_id: str
    ) -> list[StoredRiskEvent]:
        rows = await self._run(
            lambda c: c.execute(
                "SELECT data FROM risk_events WHERE tenant_id = ? AND uid = ? AND strategy_id = ? "
                "ORDER BY position",
                (tenant_id, uid, strategy_id),
            ).fetchall()
        )
        return [StoredRiskEvent.model_validate_json(r[0]) for r in rows]

    async def list_risk_event_refs(
        self, tenant_id: str, uid: str, strategy_id: str
    ) -> list[RiskEventRef]:
        # Ids, kinds and times only: a backlog of large events is listed without its details.
        rows = await self._run(
            lambda c: c.execute(
                "SELECT json_extract(data, '$.event_id'), json_extract(data, '$.kind'), "
                "json_extract(data, '$.ts') FROM risk_events "
                "WHERE tenant_id = ? AND uid = ? AND strategy_id = ? ORDER BY position",
                (tenant_id, uid, strategy_id),
            ).fetchall()
        )
        return [RiskEventRef(event_id=e, kind=k, ts=t) for e, k, t in rows]

    # -- approver directory ---------------------------------------------------------------
    async def put_approver(
        self, tenant_id: str, user: str, roles: list[Role], event: AuditEvent | None = None
    ) -> None:
        data = {"user": user, "roles": sorted({Role(r).value for r in roles})}

        def write(conn: sqlite3.Connection) -> None:
            if event is not None:
                stored = self._stored_audit(conn, event)
                if stored is not None and same_event(stored, event):
                    return  # a retry of a change that landed: a later change must stand
                self._insert_audit(conn, event)  # a different event under the id: refused
            self._set(conn, paths.approver(tenant_id, user), data)

        await self._run(write, write=True)

    async def get_approver_roles(self, tenant_id: str, user: str) -> list[Role] | None:
        data = await self._run(lambda c: self._get(c, paths.approver(tenant_id, user)))
        return [Role(r) for r in data["roles"]] if data else None

    async def list_approvers(self, tenant_id: str) -> dict[str, list[Role]]:
        docs = await self._run(lambda c: self._list(c, paths.approvers(tenant_id)))
        return {d["user"]: [Role(r) for r in d["roles"]] for d in docs}

    # -- evaluation reports ---------------------------------------------------------------
    async def put_evaluation_report(self, tenant_id: str, report: EligibilityReport) -> str:
        metrics_hash = report.metrics_hash
        path = paths.evaluation_report(tenant_id, metrics_hash)
        data = report.model_dump(mode="json")

        def write(conn: sqlite3.Connection) -> str:
            if self._get(conn, path) is None:
                self._set(conn, path, data)
            return metrics_hash

        return await self._run(write, write=True)

    async def get_evaluation_report(
        self, tenant_id: str, metrics_hash: str
    ) -> EligibilityReport | None:
        data = await self._run(
            lambda c: self._get(c, paths.evaluation_report(tenant_id, metrics_hash))
        )
        return stored_report(data) if data is not None else None

    # -- system status --------------------------------------------------------------------
    async def get_system_status(self) -> dict[str, Any]:
        return await self._run(lambda c: self._get(c, paths.SYSTEM_STATUS)) or {}

    async def put_system_status(self, status: dict[str, Any]) -> None:
        await self._run(lambda c: self._set(c, paths.SYSTEM_STATUS, status), write=True)

    async def close(self) -> None:
        with self._lock:
            self._conn.close()
