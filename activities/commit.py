"""Writing stage changes, requests and audit events. Each is idempotent under retry."""

from __future__ import annotations

import structlog
from temporalio import activity

from activities.contracts import Notification, RedeemInput
from activities.errors import refusal
from activities.stage_log import log_stage_change, traced_change, traced_event
from governance.errors import GovernanceError
from governance.identity import hash_token
from governance.live import ConfirmationToken
from governance.records import AuditEvent, PromotionRecord, PromotionRequest, RuntimeFingerprint
from governance.stage_change import EVENT_TYPE, StageChange
from store.port import GovernanceStore


class CommitActivities:
    def __init__(self, store: GovernanceStore, runtime: RuntimeFingerprint | None = None):
        self.store = store
        self.runtime = runtime

    @activity.defn(name="commit_stage_change")
    async def commit_stage_change(self, change: StageChange) -> PromotionRecord:
        """The one transaction of DESIGN.md; a retry with the same record id writes nothing."""
        if self.runtime is not None:
            # Records name the worker that wrote them; a retry runs on the same deployment.
            change = change.model_copy(update={"runtime_fingerprint": self.runtime})
        change = traced_change(change)
        try:
            record = await self.store.commit_stage_change(change)
        except GovernanceError as exc:
            raise refusal(exc) from None
        log_stage_change(record, EVENT_TYPE[change.decision], change.correlation_id)
        return record

    @activity.defn(name="save_request")
    async def save_request(self, request: PromotionRequest) -> None:
        await self.store.put_request(request)

    @activity.defn(name="append_audit_event")
    async def append_audit_event(self, event: AuditEvent) -> None:
        try:
            await self.store.append_audit_event(traced_event(event))
        except GovernanceError as exc:
            raise refusal(exc) from None

    @activity.defn(name="redeem_confirmation_token")
    async def redeem_confirmation_token(self, inp: RedeemInput) -> ConfirmationToken:
        try:
            return await self.store.redeem_confirmation_token(
                inp.tenant_id, hash_token(inp.token), inp.request_id, inp.user, inp.now
            )
        except GovernanceError as exc:
            raise refusal(exc) from None

    @activity.defn(name="notify")
    async def notify(self, note: Notification) -> None:
        """Operator/user notification; the structured log is the default sink."""
        structlog.get_logger("stratgate.notify").info(
            note.message,
            event_type=note.event_type,
            tenant_id=note.tenant_id,
            uid=note.uid,
            strategy_id=note.strategy_id,
            **note.fields,
        )
