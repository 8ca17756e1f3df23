"""Tenant halts and the batch commit of a fleet's stage changes on Firestore.

A chunk of changes is one batched write (Firestore takes at most 500 writes in one): every read
its plans need in one `get_all`, then the contested creates first (each strategy's chain slot,
then the tenant's audit links, as `firestore_commit` does for one change), then the records,
the audit events and the strategy documents. A chunk whose batch is refused (another writer
took a slot or the audit head meanwhile) falls back to one `commit_stage_change` per change,
which settles each race by itself; ids come from the caller, so nothing lands twice.
"""

from __future__ import annotations

import bisect
from typing import Any

from google.cloud import firestore

from governance.errors import GovernanceError
from governance.fleet_changes import (
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
from governance.stage_change import CommitPlan, Landed, StageChange, conflict, plan_commit
from store import firestore_audit, firestore_commit, paths
from store.firestore_audit import append_audit, head_of, head_ref
from store.firestore_docs import record_of, strategy_changes

MAX_WRITES = 500
CREATE_RACE = firestore_commit.CREATE_RACE


def writes_of(change: StageChange) -> int:
    """Slot, record, strategy, and a link and an event per audit event (+ request closure)."""
    events = 2 if change.companion_event is not None else 1
    return 3 + 2 * events + (1 if change.request_id else 0)


def chunks(changes: list[StageChange]) -> list[list[StageChange]]:
    """Greedy chunks under the batch limit (one write kept for the audit head)."""
    out: list[list[StageChange]] = [[]]
    used = 1
    for change in changes:
        need = writes_of(change)
        if out[-1] and used + need > MAX_WRITES:
            out.append([])
            used = 1
        out[-1].append(change)
        used += need
    return [c for c in out if c]


class FirestoreFleet:
    client: firestore.AsyncClient

    async def _snaps(self, refs: list[Any]) -> dict[str, Any]:
        found = {s.reference.path: s async for s in self.client.get_all(refs)}
        return {
            r.path: (found[r.path].to_dict() if r.path in found and found[r.path].exists else None)
            for r in refs
        }

    # -- halts ----------------------------------------------------------------------------
    async def get_tenant_halt(self, tenant_id: str) -> TenantHalt | None:
        snap = await self.client.document(paths.tenant_halt(tenant_id)).get()
        return TenantHalt.model_validate(snap.to_dict()) if snap.exists else None

    async def start_tenant_halt(self, halt: TenantHalt, event: AuditEvent) -> TenantHalt:
        t = halt.tenant_id
        halt_ref, head = self.client.document(paths.tenant_halt(t)), head_ref(self.client, t)
        for _ in range(firestore_audit.AUDIT_ATTEMPTS):
            data = await self._snaps([halt_ref, head])
            current = (
                TenantHalt.model_validate(data[halt_ref.path]) if data[halt_ref.path] else None
            )
            if current is not None and current.active:
                raise AlreadyHalted(
                    f"tenant {t} is already {current.describe()} (halt {current.halt_id}); "
                    "nothing was written",
                    field="tenant",
                )
            stored = halt.model_copy(update={"sequence": (current.sequence if current else 0) + 1})
            batch = self.client.batch()
            # The halt's number first: of two racing halts, one takes it and the other nothing.
            slot = self.client.document(paths.halt_slot(t, stored.sequence))
            batch.create(slot, {"halt_id": halt.halt_id})
            append_audit(self.client, batch, t, [event], head_of(data[head.path]))
            entry = self.client.document(paths.halt_entry(t, halt.halt_id))
            batch.create(entry, stored.model_dump(mode="json"))
            batch.set(halt_ref, stored.model_dump(mode="json"))
            try:
                await batch.commit()
            except CREATE_RACE:
                await firestore_commit.back_off()
                continue  # another halt or another audit writer: read again
            return stored
        raise firestore_audit.contention()

    async def approve_resume(self, ask: ResumeAsk) -> ResumeStep:
        t = ask.tenant_id
        halt_ref, head = self.client.document(paths.tenant_halt(t)), head_ref(self.client, t)
        for _ in range(firestore_audit.AUDIT_ATTEMPTS):
            data = await self._snaps([halt_ref, head])
            raw = data[halt_ref.path]
            step = plan_resume(TenantHalt.model_validate(raw) if raw else None, ask)
            position = len(step.halt.approvals)
            batch = self.client.batch()
            # The approval's position first: two racing approvers cannot both take it.
            approval = self.client.document(paths.resume_approval(t, step.halt.halt_id, position))
            batch.create(approval, step.approval.model_dump(mode="json"))
            append_audit(self.client, batch, t, resume_events(step), head_of(data[head.path]))
            batch.set(halt_ref, step.halt.model_dump(mode="json"))
            try:
                await batch.commit()
            except CREATE_RACE:
                await firestore_commit.back_off()
                continue
            return step
        raise firestore_audit.contention()

    async def list_tenant_halts(self, tenant_id: str) -> list[TenantHalt]:
        docs = self.client.collection(paths.halt_history(tenant_id)).stream()
        halts = [TenantHalt.model_validate(s.to_dict()) async for s in docs]
        return sorted(halts, key=lambda h: h.sequence)

    async def list_resume_approvals(self, tenant_id: str, halt_id: str) -> list[ResumeApproval]:
        docs = self.client.collection(paths.resume_approvals(tenant_id, halt_id)).stream()
        found = [(s.id, ResumeApproval.model_validate(s.to_dict())) async for s in docs]
        return [a for _, a in sorted(found, key=lambda p: p[0])]

    async def list_strategy_page(
        self, tenant_id: str, cursor: str | None, limit: int
    ) -> StrategyPage:
        """The page after `cursor` in the tenant's strategy index (by entry id), then one read
        of its documents. The index ids are listed and sorted here: the Node emulator ignores
        `order_by("__name__")` and `start_after` (measured), so a server-side cursor would
        loop there."""
        index = self.client.collection(paths.strategy_index(tenant_id))
        ids = sorted([s.id async for s in index.select([]).stream()])
        start = bisect.bisect_right(ids, cursor) if cursor is not None else 0
        page_ids = ids[start : start + limit]
        found_entries = await self._snaps([index.document(i) for i in page_ids])
        entries = [(i, found_entries[index.document(i).path] or {}) for i in page_ids]
        refs = [
            self.client.document(paths.strategy(tenant_id, e["uid"], e["strategy_id"]))
            for _, e in entries
        ]
        found = await self._snaps(refs) if refs else {}
        docs = [StrategyDoc.model_validate(found[r.path]) for r in refs if found[r.path]]
        last = page_ids[-1] if start + limit < len(ids) else None
        return StrategyPage(strategies=docs, cursor=last)

    # -- the batch commit -----------------------------------------------------------------
    async def commit_stage_changes(self, changes: list[StageChange]) -> BatchCommit:
        check_batch(changes)
        records: list[PromotionRecord] = []
        skips: list[SkippedChange] = []
        for chunk in chunks(changes):
            landed, refused = await self._chunk(chunk)
            records += landed
            skips += refused
        return BatchCommit(records=records, skipped=skips)

    async def _chunk(
        self, chunk: list[StageChange]
    ) -> tuple[list[PromotionRecord], list[SkippedChange]]:
        client = self.client
        t = chunk[0].tenant_id
        halt_refs = [client.document(paths.tenant_halt(t)), client.document(paths.SYSTEM_STATUS)]
        head = head_ref(client, t)
        per_change = [
            (
                client.document(paths.record(t, c.record_id)),
                client.document(paths.strategy(t, c.uid, c.strategy_id)),
                [client.document(paths.audit_event(t, e)) for e in _event_ids(c)],
                client.document(paths.request(t, c.request_id)) if c.request_id else None,
            )
            for c in chunk
        ]
        refs = [head, *halt_refs]
        for record_ref, strategy_ref, event_refs, request_ref in per_change:
            refs += [record_ref, strategy_ref, *event_refs]
            refs += [request_ref] if request_ref is not None else []
        snaps = {s.reference.path: s async for s in client.get_all(refs)}

        def data(ref: Any) -> dict[str, Any] | None:
            snap = snaps.get(ref.path)
            return snap.to_dict() if snap is not None and snap.exists else None

        halt_docs = [data(r) for r in halt_refs]
        results: list[PromotionRecord | None] = []
        refused: list[SkippedChange] = []
        plans: list[tuple[StageChange, CommitPlan, Any, Any]] = []
        for change, (record_ref, strategy_ref, event_refs, request_ref) in zip(
            chunk, per_change, strict=True
        ):
            raw, existing = data(strategy_ref), data(record_ref)
            try:
                plan = plan_commit(
                    change,
                    existing=record_of(change.record_id, existing) if existing else None,
                    doc=StrategyDoc.model_validate(raw) if raw else None,
                )
                if isinstance(plan, Landed):
                    results.append(plan.record)  # committed already: a retry
                    continue
                refuse_if_halted(change, *halt_docs)
                if any(data(ref) is not None for ref in event_refs):
                    raise conflict(change.audit_event_id)
            except GovernanceError as exc:
                refused.append(skipped(change, exc))
                continue
            close = request_ref if request_ref is not None and data(request_ref) else None
            plans.append((change, plan, strategy_ref, close))
            results.append(plan.record)
        if plans:
            try:
                await self._write(t, plans, data(head), snaps)
            except CREATE_RACE:
                return await self._one_by_one(chunk)
        return [r for r in results if r is not None], refused

    async def _write(
        self,
        tenant_id: str,
        plans: list[tuple[StageChange, CommitPlan, Any, Any]],
        head: dict[str, Any] | None,
        snaps: dict[str, Any],
    ) -> None:
        client = self.client
        batch = client.batch()
        for change, plan, _, _ in plans:  # the contested creates first (see the module doc)
            slot = paths.chain_slot(tenant_id, change.uid, change.strategy_id, plan.record.sequence)
            batch.create(client.document(slot), {"record_id": plan.record.record_id})
        events = [e for _, plan, _, _ in plans for e in plan.audit_events]
        append_audit(client, batch, tenant_id, events, head_of(head))
        for change, plan, strategy_ref, request_ref in plans:
            batch.create(
                client.document(paths.record(tenant_id, change.record_id)),
                plan.record.model_dump(mode="json"),
            )
            snap = snaps[strategy_ref.path]
            before = StrategyDoc.model_validate(snap.to_dict())
            batch.update(
                strategy_ref,
                strategy_changes(before, plan.strategy),
                option=client.write_option(last_update_time=snap.update_time),
            )
            if request_ref is not None and plan.request is not None:
                status = {
                    "status": plan.request.status.value,
                    "record_id": plan.request.record_id,
                    "updated_at": plan.request.updated_at.isoformat(),
                }
                batch.set(request_ref, status, merge=True)
        await batch.commit()

    async def _one_by_one(
        self, chunk: list[StageChange]
    ) -> tuple[list[PromotionRecord], list[SkippedChange]]:
        """The chunk's batch was refused: each change by the single commit, which settles its
        own races (and recognises what an earlier attempt of it landed)."""
        landed: list[PromotionRecord] = []
        refused: list[SkippedChange] = []
        for change in chunk:
            try:
                landed.append(await firestore_commit.commit_stage_change(self.client, change))
            except GovernanceError as exc:
                refused.append(skipped(change, exc))
        return landed, refused


def _event_ids(change: StageChange) -> list[str]:
    ids = [change.audit_event_id]
    if change.companion_event is not None:
        ids.append(change.companion_event.event_id)
    return ids
