"""The production GovernanceStore on Firestore, at the spec's paths (see store/paths.py).

Documents hold each model's JSON form (see store/firestore_docs.py), so record hashes verify after
a round trip. Records, audit events, chain slots and policy versions are written with create()
only. `commit_stage_change` writes one batch whose FIRST write is the create of the record's
chain slot: on real Firestore the batch is atomic; on the Node emulator (measured: a failing
create stops the batch but keeps the writes before it) nothing lands either, because nothing
comes before the slot. Correctness never rests on transaction isolation.

The strategy document is shared with other platform services, so a commit only merges the fields
it sets, under the `update_time` it read: on real Firestore a concurrent write elsewhere on the
document fails the batch and the commit starts over from a fresh read (the Node emulator ignores
that precondition; the chain slot still settles races between commits).
"""

from __future__ import annotations

import hashlib
import os
from typing import Any

from google.cloud import firestore

from governance.audit_chain import AuditHead
from governance.chain import ChainSlot
from governance.checkpoint import Checkpoint
from governance.errors import RecordConflict
from governance.policy import PromotionPolicy, load_stored_policy
from governance.policy_change import PolicyProposal, ProposalDecision
from governance.promotion import request_update_applies
from governance.records import (
    AuditEvent,
    PromotionRecord,
    PromotionRequest,
    RequestStatus,
    StrategyDoc,
)
from governance.report import EligibilityReport
from governance.risk_events import StoredRiskEvent
from governance.risk_queue import RiskEventRef
from governance.stage_change import (
    StageChange,
)
from settings import Settings
from store import firestore_audit, firestore_commit, firestore_onboard, firestore_policy, paths
from store.firestore_audit import append_audit, head_of, head_ref, write_with_audit
from store.firestore_docs import (
    POSITION,
    audit_of,
    positioned,
    record_of,
    report_doc,
    report_of,
    unpositioned,
)
from store.firestore_fleet import FirestoreFleet
from store.firestore_identity import FirestoreIdentity
from store.firestore_project import firestore_project

CREATE_RACE = firestore_commit.CREATE_RACE
AUDIT_ATTEMPTS = firestore_commit.AUDIT_ATTEMPTS


class FirestoreStore(FirestoreFleet, FirestoreIdentity):
    @classmethod
    def for_emulator(cls, host: str, project: str) -> FirestoreStore:
        os.environ["FIRESTORE_EMULATOR_HOST"] = host  # read by the Google client
        return cls(firestore.AsyncClient(project=project))

    @classmethod
    def from_settings(cls, settings: Settings) -> FirestoreStore:
        project = firestore_project(settings)  # refuses to start without one
        if settings.firestore_emulator_host:
            return cls.for_emulator(settings.firestore_emulator_host, project)
        return cls(firestore.AsyncClient(project=project))

    # -- policy ---------------------------------------------------------------------------
    async def get_policy(self, tenant_id: str) -> PromotionPolicy | None:
        data = await self._get(paths.policy(tenant_id))
        return load_stored_policy(data) if data else None

    async def put_policy(self, tenant_id: str, policy: PromotionPolicy) -> PromotionPolicy:
        return await firestore_policy.put_policy(self.client, tenant_id, policy)

    async def list_policy_versions(self, tenant_id: str) -> list[PromotionPolicy]:
        return await firestore_policy.list_policy_versions(self.client, tenant_id)

    async def bootstrap_policy(
        self, tenant_id: str, version: PromotionPolicy, event: AuditEvent
    ) -> PromotionPolicy:
        return await firestore_policy.bootstrap_policy(self.client, tenant_id, version, event)

    # -- policy changes -------------------------------------------------------------------
    async def create_policy_proposal(self, proposal: PolicyProposal, event: AuditEvent) -> None:
        await firestore_policy.create_proposal(self.client, proposal, event)

    async def get_policy_proposal(self, tenant_id: str, proposal_id: str) -> PolicyProposal | None:
        return await firestore_policy.get_proposal(self.client, tenant_id, proposal_id)

    async def list_policy_proposals(self, tenant_id: str) -> list[PolicyProposal]:
        return await firestore_policy.list_proposals(self.client, tenant_id)

    async def decide_policy_proposal(self, decision: ProposalDecision) -> PolicyProposal:
        return await firestore_policy.decide(self.client, decision)

    # -- strategies -----------------------------------------------------------------------
    async def register_strategy(
        self, doc: StrategyDoc, event: AuditEvent | None = None
    ) -> StrategyDoc:
        path = paths.strategy(doc.tenant_id, doc.uid, doc.strategy_id)
        refused = RecordConflict(
            f"strategy {doc.uid}/{doc.strategy_id} is already registered", field="strategy_id"
        )
        # The index entry first (idempotent): a strategy that exists is always listed.
        entry = {"uid": doc.uid, "strategy_id": doc.strategy_id}
        key = hashlib.sha256(f"{doc.uid}\0{doc.strategy_id}".encode()).hexdigest()
        await self._set(f"{paths.strategy_index(doc.tenant_id)}/{key}", entry)
        for _ in range(AUDIT_ATTEMPTS):
            found, stored_event, head = await self._get_all(
                path,
                paths.audit_event(doc.tenant_id, event.event_id if event else "-"),
                paths.audit_head(doc.tenant_id),
            )
            if found is not None or (event is not None and stored_event is not None):
                raise refused  # checked before anything is written
            # One batch, the contested creates first: on a clash nothing of it lands (see above).
            batch = self.client.batch()
            if event is not None:
                append_audit(self.client, batch, doc.tenant_id, [event], head_of(head))
            batch.create(self.client.document(path), doc.model_dump(mode="json"))
            try:
                await batch.commit()
            except CREATE_RACE:
                if await self._get(path) is not None:
                    raise refused from None
                await firestore_commit.back_off()
                continue  # another writer took the audit position: link after it
            return doc
        raise firestore_audit.contention()

    async def register_strategies(
        self, docs: list[StrategyDoc], events: list[AuditEvent]
    ) -> list[StrategyDoc]:
        return await firestore_onboard.register_strategies(self.client, docs, events)

    async def get_strategy(self, tenant_id: str, uid: str, strategy_id: str) -> StrategyDoc | None:
        data = await self._get(paths.strategy(tenant_id, uid, strategy_id))
        return StrategyDoc.model_validate(data) if data else None

    async def list_strategies(self, tenant_id: str, uid: str | None = None) -> list[StrategyDoc]:
        # A user's strategies are one collection (including any another service wrote there);
        # the users of a tenant come from the index (the emulator has no collection groups).
        if uid is not None:
            uids = {uid}
        else:
            uids = {e["uid"] for e in await self._list(paths.strategy_index(tenant_id))}
        found = []
        for user in uids:
            found += [
                StrategyDoc.model_validate(d)
                for d in await self._list(paths.strategies(tenant_id, user))
            ]
        return sorted(found, key=lambda d: (d.uid, d.strategy_id))

    # -- requests -------------------------------------------------------------------------
    async def put_request(self, request: PromotionRequest) -> None:
        path = paths.request(request.tenant_id, request.request_id)
        stored = await self._get(path)
        # Read then write: the only writers of a request are its own workflow's activities.
        if request_update_applies(
            RequestStatus(stored["status"]) if stored else None, request.status
        ):
            await self._set(path, request.model_dump(mode="json"))

    async def get_request(self, tenant_id: str, request_id: str) -> PromotionRequest | None:
        data = await self._get(paths.request(tenant_id, request_id))
        return PromotionRequest.model_validate(data) if data else None

    async def list_requests(
        self, tenant_id: str, uid: str | None = None, strategy_id: str | None = None
    ) -> list[PromotionRequest]:
        docs = await self._list(paths.requests(tenant_id), uid=uid, strategy_id=strategy_id)
        return sorted(
            (PromotionRequest.model_validate(d) for d in docs), key=lambda r: r.requested_at
        )

    # -- records --------------------------------------------------------------------------
    async def commit_stage_change(self, change: StageChange) -> PromotionRecord:
        return await firestore_commit.commit_stage_change(self.client, change)

    async def get_record(self, tenant_id: str, record_id: str) -> PromotionRecord | None:
        data = await self._get(paths.record(tenant_id, record_id))
        return record_of(record_id, data) if data else None

    async def list_records(
        self, tenant_id: str, uid: str | None = None, strategy_id: str | None = None
    ) -> list[PromotionRecord]:
        docs = await self._list(paths.records(tenant_id), uid=uid, strategy_id=strategy_id)
        records = [record_of(str(d.get("record_id")), d) for d in docs]
        return sorted(records, key=lambda r: (r.uid, r.strategy_id, r.sequence))

    async def list_chain_slots(self, tenant_id: str, uid: str, strategy_id: str) -> list[ChainSlot]:
        collection = self.client.collection(f"{paths.strategy(tenant_id, uid, strategy_id)}/chain")
        slots = [
            ChainSlot(
                uid=uid,
                strategy_id=strategy_id,
                sequence=int(snap.id),
                record_id=str((snap.to_dict() or {}).get("record_id")),
            )
            async for snap in collection.stream()
        ]
        return sorted(slots, key=lambda slot: slot.sequence)

    # -- risk history ---------------------------------------------------------------------
    async def record_risk_event(self, event: StoredRiskEvent) -> bool:
        path = paths.risk_event(event.tenant_id, event.uid, event.strategy_id, event.event_id)
        if await self._create(path, positioned(event.model_dump(mode="json"))):
            return True
        stored = StoredRiskEvent.model_validate(unpositioned(await self._get(path) or {}))
        if not stored.same_event(event):
            raise RecordConflict(
                f"a different risk event already exists under id {event.event_id}",
                field="event_id",
            )
        return False

    async def get_risk_event(
        self, tenant_id: str, uid: str, strategy_id: str, event_id: str
    ) -> StoredRiskEvent | None:
        data = await self._get(paths.risk_event(tenant_id, uid, strategy_id, event_id))
        return StoredRiskEvent.model_validate(unpositioned(data)) if data else None

    async def list_risk_events(
        self, tenant_id: str, uid: str, strategy_id: str
    ) -> list[StoredRiskEvent]:
        docs = await self._list(paths.risk_events(tenant_id, uid, strategy_id))
        docs.sort(key=lambda d: (d["_position"], d["event_id"]))
        return [StoredRiskEvent.model_validate(unpositioned(d)) for d in docs]

    async def list_risk_event_refs(
        self, tenant_id: str, uid: str, strategy_id: str
    ) -> list[RiskEventRef]:
        # A projection: a backlog of large events is listed without its details.
        query = self.client.collection(paths.risk_events(tenant_id, uid, strategy_id)).select(
            ["event_id", "kind", "ts", POSITION]
        )
        docs = [snap.to_dict() or {} async for snap in query.stream()]
        docs.sort(key=lambda d: (d[POSITION], d["event_id"]))
        return [RiskEventRef(event_id=d["event_id"], kind=d["kind"], ts=d["ts"]) for d in docs]

    # -- audit ----------------------------------------------------------------------------
    async def append_audit_event(self, event: AuditEvent) -> None:
        await write_with_audit(self.client, event)

    async def get_audit_event(self, tenant_id: str, event_id: str) -> AuditEvent | None:
        data = await self._get(paths.audit_event(tenant_id, event_id))
        return audit_of(data) if data else None

    async def list_audit_events(
        self, tenant_id: str, uid: str | None = None, strategy_id: str | None = None
    ) -> list[AuditEvent]:
        docs = await self._list(paths.audit_events(tenant_id), uid=uid, strategy_id=strategy_id)
        return [audit_of(d) for d in sorted(docs, key=lambda d: (d["_position"], d["event_id"]))]

    async def get_audit_head(self, tenant_id: str) -> AuditHead | None:
        snap = await head_ref(self.client, tenant_id).get()
        return head_of(snap.to_dict() if snap.exists else None)

    # -- checkpoints ----------------------------------------------------------------------
    async def put_checkpoint(self, checkpoint: Checkpoint, event: AuditEvent) -> None:
        await firestore_audit.put_checkpoint(self.client, checkpoint, event)

    async def list_checkpoints(self, tenant_id: str) -> list[Checkpoint]:
        return await firestore_audit.list_checkpoints(self.client, tenant_id)

    # -- evaluation reports ---------------------------------------------------------------
    async def put_evaluation_report(self, tenant_id: str, report: EligibilityReport) -> str:
        metrics_hash = report.metrics_hash
        await self._create(paths.evaluation_report(tenant_id, metrics_hash), report_doc(report))
        return metrics_hash

    async def get_evaluation_report(
        self, tenant_id: str, metrics_hash: str
    ) -> EligibilityReport | None:
        data = await self._get(paths.evaluation_report(tenant_id, metrics_hash))
        return report_of(data) if data is not None else None

    # -- system status --------------------------------------------------------------------
    async def get_system_status(self) -> dict[str, Any]:
        return await self._get(paths.SYSTEM_STATUS) or {}

    async def put_system_status(self, status: dict[str, Any]) -> None:
        await self._set(paths.SYSTEM_STATUS, status)

    async def close(self) -> None:
        self.client.close()
