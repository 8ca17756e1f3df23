"""The production GovernanceStore on Firestore, at the spec's paths (see store/paths.py).

Documents hold each model's JSON form (timestamps as ISO strings), so record hashes verify after
a round trip. Records, audit events, chain slots and policy versions are written with create()
only. `commit_stage_change` writes one batch whose FIRST write is the create of the record's
chain slot: on real Firestore the batch is atomic; on the Node emulator (measured: a failing
create stops the batch but keeps the writes before it) nothing lands either, because nothing
comes before the slot. Correctness never rests on transaction isolation.
"""

from __future__ import annotations

import hashlib
import os
import time
from datetime import datetime
from typing import Any

from google.api_core import exceptions as gexc
from google.cloud import firestore
from google.cloud.firestore_v1.base_query import FieldFilter
from pydantic import ValidationError

from governance.errors import PreconditionFailed, RecordConflict, RecordCorrupt
from governance.identity import ApiToken
from governance.live import ConfirmationToken, TokenRefused, redeem
from governance.policy import PromotionPolicy
from governance.records import AuditEvent, PromotionRecord, PromotionRequest, StrategyDoc
from governance.roles import Role
from governance.stage_change import (
    StageChange,
    apply_to_strategy,
    audit_event_for,
    build_record,
    check_precondition,
    conflict,
    same_commit,
)
from settings import Settings
from store import paths

CREATE_RACE = (gexc.AlreadyExists, gexc.Conflict, gexc.FailedPrecondition)


def _doc(data: Any) -> Any:
    """A model's JSON form without null fields: an absent field reads back as its None default
    (the Node emulator rejects null values; real Firestore treats both alike for us)."""
    if isinstance(data, dict):
        return {k: _doc(v) for k, v in data.items() if v is not None}
    if isinstance(data, list):
        return [_doc(v) for v in data]
    return data


class FirestoreStore:
    def __init__(self, client: firestore.AsyncClient):
        self.client = client

    @classmethod
    def for_emulator(cls, host: str, project: str) -> FirestoreStore:
        os.environ["FIRESTORE_EMULATOR_HOST"] = host  # read by the Google client
        return cls(firestore.AsyncClient(project=project))

    @classmethod
    def from_settings(cls, settings: Settings) -> FirestoreStore:
        if settings.firestore_emulator_host:
            return cls.for_emulator(settings.firestore_emulator_host, settings.firestore_project)
        return cls(firestore.AsyncClient(project=settings.firestore_project))

    # -- plumbing -------------------------------------------------------------------------
    async def _get(self, path: str) -> dict[str, Any] | None:
        snap = await self.client.document(path).get()
        return snap.to_dict() if snap.exists else None

    async def _set(self, path: str, data: dict[str, Any], merge: bool = False) -> None:
        await self.client.document(path).set(_doc(data), merge=merge)

    async def _create(self, path: str, data: dict[str, Any]) -> bool:
        """Create-only; False when the document already exists."""
        try:
            await self.client.document(path).create(_doc(data))
        except CREATE_RACE:
            return False
        return True

    async def _list(self, collection: str, **equal: Any) -> list[dict[str, Any]]:
        query: Any = self.client.collection(collection)
        for field, value in equal.items():
            if value is not None:
                query = query.where(filter=FieldFilter(field, "==", value))
        return [snap.to_dict() async for snap in query.stream()]

    # -- policy ---------------------------------------------------------------------------
    async def get_policy(self, tenant_id: str) -> PromotionPolicy | None:
        data = await self._get(paths.policy(tenant_id))
        return PromotionPolicy.model_validate(data) if data else None

    async def put_policy(self, tenant_id: str, policy: PromotionPolicy) -> PromotionPolicy:
        data = policy.model_dump(mode="json")
        path = paths.policy_version(tenant_id, policy.policy_version)
        versioned = {**data, "_position": f"{time.time_ns():020d}"}
        if not await self._create(path, versioned):
            existing = await self._get(path) or {}
            existing.pop("_position", None)
            if existing != _doc(data):
                raise RecordConflict(
                    f"policy_version {policy.policy_version} already exists with other content; "
                    "publish a new version",
                    field="policy_version",
                )
        await self._set(paths.policy(tenant_id), data)
        return policy

    async def list_policy_versions(self, tenant_id: str) -> list[PromotionPolicy]:
        docs = sorted(
            await self._list(paths.policy_versions(tenant_id)), key=lambda d: d["_position"]
        )
        return [
            PromotionPolicy.model_validate({k: v for k, v in d.items() if k != "_position"})
            for d in docs
        ]

    # -- strategies -----------------------------------------------------------------------
    async def register_strategy(self, doc: StrategyDoc) -> StrategyDoc:
        path = paths.strategy(doc.tenant_id, doc.uid, doc.strategy_id)
        if not await self._create(path, doc.model_dump(mode="json")):
            raise RecordConflict(
                f"strategy {doc.uid}/{doc.strategy_id} is already registered", field="strategy_id"
            )
        entry = {"uid": doc.uid, "strategy_id": doc.strategy_id}
        key = hashlib.sha256(f"{doc.uid}\0{doc.strategy_id}".encode()).hexdigest()
        await self._set(f"{paths.strategy_index(doc.tenant_id)}/{key}", entry)
        return doc

    async def get_strategy(self, tenant_id: str, uid: str, strategy_id: str) -> StrategyDoc | None:
        data = await self._get(paths.strategy(tenant_id, uid, strategy_id))
        return StrategyDoc.model_validate(data) if data else None

    async def list_strategies(self, tenant_id: str, uid: str | None = None) -> list[StrategyDoc]:
        entries = await self._list(paths.strategy_index(tenant_id), uid=uid)
        found = []
        for e in sorted(entries, key=lambda e: (e["uid"], e["strategy_id"])):
            doc = await self.get_strategy(tenant_id, e["uid"], e["strategy_id"])
            if doc is not None:
                found.append(doc)
        return found

    # -- requests -------------------------------------------------------------------------
    async def put_request(self, request: PromotionRequest) -> None:
        path = paths.request(request.tenant_id, request.request_id)
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
        t = change.tenant_id
        record_path = paths.record(t, change.record_id)
        existing = await self._get(record_path)
        if existing is not None:
            landed = _record(change.record_id, existing)
            if same_commit(landed, change):
                return landed  # a retry of a commit that already landed
            raise conflict(change.record_id)
        raw = await self._get(paths.strategy(t, change.uid, change.strategy_id))
        doc = check_precondition(change, StrategyDoc.model_validate(raw) if raw else None)
        record = build_record(change, doc)
        event = audit_event_for(change, record)
        if await self._get(paths.audit_event(t, event.event_id)) is not None:
            # Ids are uuids from the workflow, so a clash is a caller's bug: refuse before writing.
            raise RecordConflict(
                f"an audit event already exists under id {event.event_id}", field="audit_event_id"
            )
        batch = self.client.batch()
        # The contested write goes first: if the slot is taken, nothing of this batch lands.
        slot = paths.chain_slot(t, change.uid, change.strategy_id, record.sequence)
        batch.create(self.client.document(slot), {"record_id": record.record_id})
        batch.create(self.client.document(record_path), record.model_dump(mode="json"))
        batch.create(self.client.document(paths.audit_event(t, event.event_id)), _audit_doc(event))
        strategy_path = paths.strategy(t, change.uid, change.strategy_id)
        batch.set(
            self.client.document(strategy_path),
            apply_to_strategy(doc, record).model_dump(mode="json"),
        )
        if change.request_id and change.request_status is not None:
            batch.set(
                self.client.document(paths.request(t, change.request_id)),
                {
                    "status": change.request_status.value,
                    "record_id": record.record_id,
                    "updated_at": record.effective_at.isoformat(),
                },
                merge=True,
            )
        try:
            await batch.commit()
        except CREATE_RACE:
            again = await self._get(record_path)
            if again is not None and same_commit(_record(change.record_id, again), change):
                return _record(change.record_id, again)
            raise PreconditionFailed(
                f"another stage change took chain position {record.sequence} first",
                field="expected_last_record_id",
            ) from None
        return record

    async def get_record(self, tenant_id: str, record_id: str) -> PromotionRecord | None:
        data = await self._get(paths.record(tenant_id, record_id))
        return _record(record_id, data) if data else None

    async def list_records(
        self, tenant_id: str, uid: str | None = None, strategy_id: str | None = None
    ) -> list[PromotionRecord]:
        docs = await self._list(paths.records(tenant_id), uid=uid, strategy_id=strategy_id)
        records = [_record(str(d.get("record_id")), d) for d in docs]
        return sorted(records, key=lambda r: (r.uid, r.strategy_id, r.sequence))

    # -- audit ----------------------------------------------------------------------------
    async def append_audit_event(self, event: AuditEvent) -> None:
        path = paths.audit_event(event.tenant_id, event.event_id)
        if not await self._create(path, _audit_doc(event)):
            stored = await self._get(path) or {}
            if _audit(stored) != _audit(_audit_doc(event)):
                raise RecordConflict(
                    f"a different audit event already exists under id {event.event_id}",
                    field="event_id",
                )

    async def list_audit_events(
        self, tenant_id: str, uid: str | None = None, strategy_id: str | None = None
    ) -> list[AuditEvent]:
        docs = await self._list(paths.audit_events(tenant_id), uid=uid, strategy_id=strategy_id)
        return [_audit(d) for d in sorted(docs, key=lambda d: (d["_position"], d["event_id"]))]

    # -- approver directory ---------------------------------------------------------------
    async def put_approver(self, tenant_id: str, user: str, roles: list[Role]) -> None:
        data = {"user": user, "roles": sorted({Role(r).value for r in roles})}
        await self._set(paths.approver(tenant_id, user), data)

    async def get_approver_roles(self, tenant_id: str, user: str) -> list[Role] | None:
        data = await self._get(paths.approver(tenant_id, user))
        return [Role(r) for r in data["roles"]] if data else None

    async def list_approvers(self, tenant_id: str) -> dict[str, list[Role]]:
        docs = sorted(await self._list(paths.approvers(tenant_id)), key=lambda d: d["user"])
        return {d["user"]: [Role(r) for r in d["roles"]] for d in docs}

    # -- evaluation reports ---------------------------------------------------------------
    async def put_evaluation_report(self, tenant_id: str, report: dict[str, Any]) -> str:
        metrics_hash = str(report["metrics_hash"])
        await self._create(paths.evaluation_report(tenant_id, metrics_hash), report)
        return metrics_hash

    async def get_evaluation_report(
        self, tenant_id: str, metrics_hash: str
    ) -> dict[str, Any] | None:
        return await self._get(paths.evaluation_report(tenant_id, metrics_hash))

    # -- tokens ---------------------------------------------------------------------------
    async def put_confirmation_token(self, token: ConfirmationToken) -> None:
        path = paths.confirmation_token(token.tenant_id, token.token_hash)
        if not await self._create(path, token.model_dump(mode="json")):
            raise RecordConflict("confirmation token already issued", field="token")

    async def redeem_confirmation_token(
        self, tenant_id: str, token_hash: str, request_id: str, user: str, now: datetime
    ) -> ConfirmationToken:
        path = paths.confirmation_token(tenant_id, token_hash)
        data = await self._get(path)
        stored = ConfirmationToken.model_validate(data) if data else None
        redeemed = redeem(stored, request_id=request_id, user=user, now=now)
        if redeemed == stored:
            return redeemed  # a retry of this very redemption
        # Single use under races: only one create of the marker can succeed.
        marker = paths.confirmation_redemption(tenant_id, token_hash)
        mine = {"redeemed_at": now.isoformat(), "user": user, "request_id": request_id}
        if not await self._create(marker, mine) and await self._get(marker) != mine:
            raise TokenRefused("confirmation token already used", field="confirmation_token")
        await self._set(path, redeemed.model_dump(mode="json"))
        return redeemed

    async def put_api_token(self, token: ApiToken) -> None:
        if not await self._create(paths.api_token(token.token_hash), token.model_dump(mode="json")):
            raise RecordConflict("token already exists", field="token")

    async def get_api_token(self, token_hash: str) -> ApiToken | None:
        data = await self._get(paths.api_token(token_hash))
        return ApiToken.model_validate(data) if data else None

    async def revoke_api_token(self, token_hash: str, now: datetime) -> ApiToken | None:
        token = await self.get_api_token(token_hash)
        if token is None:
            return None
        if token.revoked_at is None:
            token = token.model_copy(update={"revoked_at": now})
            await self._set(paths.api_token(token_hash), token.model_dump(mode="json"))
        return token

    # -- system status --------------------------------------------------------------------
    async def get_system_status(self) -> dict[str, Any]:
        return await self._get(paths.SYSTEM_STATUS) or {}

    async def put_system_status(self, status: dict[str, Any]) -> None:
        await self._set(paths.SYSTEM_STATUS, status)

    async def close(self) -> None:
        self.client.close()


def _record(record_id: str, data: dict[str, Any]) -> PromotionRecord:
    try:
        return PromotionRecord.model_validate(data)
    except ValidationError as exc:
        raise RecordCorrupt(
            f"record {record_id} no longer parses ({exc.error_count()} errors): altered",
            field=record_id,
        ) from None


def _audit_doc(event: AuditEvent) -> dict[str, Any]:
    return {**_doc(event.model_dump(mode="json")), "_position": f"{time.time_ns():020d}"}


def _audit(data: dict[str, Any]) -> AuditEvent:
    return AuditEvent.model_validate({k: v for k, v in data.items() if k != "_position"})
