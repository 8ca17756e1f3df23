"""Applying one risk event: record it, decide, preempt what it forbids, commit the demotion.

The whole effect is idempotent by the event's id: the event's own audit entry (with the action
taken) is written in the same transaction as the demotion it caused, or alone when it caused
none, so a retried activity finds that entry and returns the same outcome without deciding again.
"""

from __future__ import annotations

import asyncio
from datetime import datetime

from pydantic import BaseModel, Field
from temporalio import activity
from temporalio.client import Client, WorkflowExecutionStatus, WorkflowFailureError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError

from activities.errors import refusal
from activities.reconcile import reconcile_breaker
from activities.stage_log import log_stage_change, traced_change, traced_event
from governance.demotion import (
    applied_action,
    demotion_change,
    risk_audit_event,
    risk_audit_id,
    risk_change_ids,
)
from governance.errors import GovernanceError, PreconditionFailed, RecordConflict
from governance.policy import PromotionPolicy, effective_policy
from governance.promotion import promotion_workflow_id
from governance.records import AuditEvent, RequestStatus, RuntimeFingerprint, StrategyDoc
from governance.risk_events import (
    DemotionAction,
    Posture,
    RiskEvent,
    StoredRiskEvent,
    action_for,
    forbids,
    preemption_reason,
)
from governance.risk_queue import RiskEventRef
from governance.stage_change import EVENT_TYPE
from governance.stages import LifecycleStage
from store.port import GovernanceStore

# How long a preempted promotion may take to end before the activity tries again.
PREEMPTION_WAIT_SECONDS = 10.0


# Bounds on what one activity call carries (each event's details are at most 16 KiB).
STORE_CHUNK = 32
APPLY_BATCH = 25
BACKLOG_PAGE = 2_000


class StoreRiskEvents(BaseModel):
    """Events signalled to the workflow directly, to be put in the risk history first."""

    tenant_id: str
    uid: str
    strategy_id: str
    events: list[RiskEvent] = Field(max_length=STORE_CHUNK)
    now: datetime


class ApplyRiskEvents(BaseModel):
    """Stored events to apply, by id, in this order."""

    tenant_id: str
    uid: str
    strategy_id: str
    event_ids: list[str] = Field(max_length=APPLY_BATCH)
    warnings: list[datetime]
    now: datetime


class ListBacklog(BaseModel):
    tenant_id: str
    uid: str
    strategy_id: str
    limit: int = BACKLOG_PAGE


class AppliedEvent(BaseModel):
    event_id: str
    kind: str
    action: str  # the decision taken, or "none"
    record_id: str | None
    target_stage: LifecycleStage | None = None
    explanation: str


class AppliedBatch(BaseModel):
    applied: list[AppliedEvent]
    warnings: list[datetime]  # the warning budget's timestamps after the batch


class ApplyRiskEvent(BaseModel):
    """One event being applied (inside `apply_risk_events`)."""

    tenant_id: str
    uid: str
    strategy_id: str
    event: RiskEvent
    warnings: list[datetime]
    record_id: str
    audit_event_id: str
    now: datetime


class RiskOutcome(BaseModel):
    action: DemotionAction | None
    record_id: str | None = None
    error: str | None = None

    def applied(self, event: RiskEvent) -> AppliedEvent:
        action = self.action
        return AppliedEvent(
            event_id=event.event_id,
            kind=event.kind.value,
            action=action.decision.value if action and action.decision else "none",
            record_id=self.record_id,
            target_stage=action.target_stage if action else None,
            explanation=action.explanation if action else (self.error or ""),
        )


class RiskActivities:
    def __init__(
        self, store: GovernanceStore, client: Client, fingerprint: RuntimeFingerprint | None = None
    ):
        self.store = store
        self.client = client
        self.fingerprint = fingerprint or RuntimeFingerprint()

    @activity.defn(name="store_risk_events")
    async def store_risk_events(self, inp: StoreRiskEvents) -> list[RiskEventRef]:
        refs = []
        for event in inp.events:
            stored = StoredRiskEvent.of(inp.tenant_id, inp.uid, inp.strategy_id, event, inp.now)
            try:
                await self.store.record_risk_event(stored)
            except RecordConflict:
                # Another event under the same id is already in the history: that one counts.
                activity.logger.warning("risk event id reused: %s", event.event_id)
                continue
            refs.append(RiskEventRef.of(event))
        return refs

    @activity.defn(name="apply_risk_events")
    async def apply_risk_events(self, inp: ApplyRiskEvents) -> AppliedBatch:
        warnings, applied = list(inp.warnings), []
        for position, event_id in enumerate(inp.event_ids):
            stored = await self.store.get_risk_event(
                inp.tenant_id, inp.uid, inp.strategy_id, event_id
            )
            if stored is None:
                applied.append(
                    AppliedEvent(
                        event_id=event_id,
                        kind="unknown",
                        action="none",
                        record_id=None,
                        explanation="not in the risk history",
                    )
                )
                continue
            event = stored.event()
            record_id, audit_event_id = risk_change_ids(
                inp.tenant_id, inp.uid, inp.strategy_id, event_id
            )
            outcome = await self.apply_one(
                ApplyRiskEvent(
                    tenant_id=inp.tenant_id,
                    uid=inp.uid,
                    strategy_id=inp.strategy_id,
                    event=event,
                    warnings=warnings,
                    record_id=record_id,
                    audit_event_id=audit_event_id,
                    now=inp.now,
                )
            )
            if outcome.action is not None:
                warnings = list(outcome.action.warnings)
            applied.append(outcome.applied(event))
            activity.heartbeat(position)
        return AppliedBatch(applied=applied, warnings=warnings)

    @activity.defn(name="unapplied_risk_events")
    async def unapplied_risk_events(self, inp: ListBacklog) -> list[RiskEventRef]:
        """Stored events not yet applied (no audit entry of their own), oldest first."""
        backlog = []
        for ref in await self.store.list_risk_event_refs(inp.tenant_id, inp.uid, inp.strategy_id):
            marker = risk_audit_id(inp.tenant_id, inp.uid, inp.strategy_id, ref.event_id)
            if await self.store.get_audit_event(inp.tenant_id, marker) is None:
                backlog.append(ref)
                if len(backlog) >= inp.limit:
                    break
        return backlog

    async def apply_one(self, inp: ApplyRiskEvent) -> RiskOutcome:
        """The whole effect of one event, exactly once: a retry returns the stored outcome."""
        marker = risk_audit_id(inp.tenant_id, inp.uid, inp.strategy_id, inp.event.event_id)
        done = await self.store.get_audit_event(inp.tenant_id, marker)
        if done is not None and (applied := applied_action(done)) is not None:
            return RiskOutcome(action=applied[0], record_id=applied[1])  # a retry: same answer
        while True:
            strategy, policy = await self._read(inp)
            if strategy is None:
                return RiskOutcome(action=None, error="strategy is not registered")
            await self.store.record_risk_event(
                StoredRiskEvent.of(inp.tenant_id, inp.uid, inp.strategy_id, inp.event, inp.now)
            )
            posture = Posture(
                lifecycle_stage=strategy.lifecycle_stage,
                freeze=strategy.freeze,
                warnings=inp.warnings,
            )
            action = action_for(inp.event, policy, posture)
            if action.decision is not None:
                return await self._demote(inp, strategy, policy, action, marker)
            if await self._preempted_forbidden(inp, action):
                continue  # the promotion may have landed before it ended: decide afresh
            await self.store.append_audit_event(
                traced_event(self._audit(inp, action, marker, None))
            )
            return RiskOutcome(action=action)

    async def _read(self, inp: ApplyRiskEvent) -> tuple[StrategyDoc | None, PromotionPolicy | None]:
        # Independent reads: one wait, not two, on the latency path.
        strategy, policy = await asyncio.gather(
            self.store.get_strategy(inp.tenant_id, inp.uid, inp.strategy_id),
            self.store.get_policy(inp.tenant_id),
        )
        strategy, _ = await reconcile_breaker(self.store, strategy, inp.now)
        if strategy is None:
            return None, None
        try:
            policy = effective_policy(policy, strategy.stage_overrides) if policy else None
        except GovernanceError:
            policy = None  # an unusable override fails closed like a missing policy
        return strategy, policy

    async def _demote(
        self,
        inp: ApplyRiskEvent,
        strategy: StrategyDoc,
        policy: PromotionPolicy | None,
        action: DemotionAction,
        marker: str,
    ) -> RiskOutcome:
        # The preemption goes out first and runs beside the commit: the chain slot, not the
        # order of these two calls, is what stops a promotion from landing after a demotion.
        preempting = asyncio.create_task(self._cancel_promotion(inp, action))
        change = demotion_change(
            event=inp.event,
            action=action,
            strategy=strategy,
            policy_version=policy.policy_version if policy else None,
            record_id=inp.record_id,
            audit_event_id=inp.audit_event_id,
            now=inp.now,
            fingerprint=self.fingerprint,
            companion_event=self._audit(inp, action, marker, inp.record_id),
            policy_hash=policy.policy_hash if policy else None,
        )
        change = traced_change(change)
        try:
            record = await self.store.commit_stage_change(change)
        except PreconditionFailed as exc:
            await preempting
            # The strategy moved under us (a promotion landed first): retry on fresh state.
            raise ApplicationError(
                f"retrying on fresh state: {exc.message}", type=exc.code
            ) from None
        except GovernanceError as exc:
            await preempting
            raise refusal(exc) from None
        await preempting
        log_stage_change(record, EVENT_TYPE[record.decision], inp.event.event_id)
        return RiskOutcome(action=action, record_id=record.record_id)

    def _audit(
        self, inp: ApplyRiskEvent, action: DemotionAction, marker: str, record_id: str | None
    ) -> AuditEvent:
        return risk_audit_event(
            event=inp.event,
            action=action,
            tenant_id=inp.tenant_id,
            uid=inp.uid,
            strategy_id=inp.strategy_id,
            audit_event_id=marker,
            record_id=record_id,
            now=inp.now,
        )

    async def _preempted_forbidden(self, inp: ApplyRiskEvent, action: DemotionAction) -> bool:
        """Cancel a request in flight that this event forbids, and wait until it has ended.

        An event that lowers nothing (a kill-switch at SHADOW) still forbids SHADOW -> PAPER.
        True when one was preempted (the caller decides again on the state it left).
        """
        if action.ceiling == LifecycleStage.LIVE and not action.freezes:
            return False  # nothing is forbidden (a warning within its budget)
        handle = self.client.get_workflow_handle(
            promotion_workflow_id(inp.tenant_id, inp.uid, inp.strategy_id)
        )
        try:
            description = await handle.describe()
        except RPCError:
            return False  # none was ever started
        if description.status != WorkflowExecutionStatus.RUNNING:
            return False
        pending = [
            r
            for r in await self.store.list_requests(inp.tenant_id, inp.uid, inp.strategy_id)
            if r.status == RequestStatus.PENDING
        ]
        # A request still validating has no document yet: preempt it (it can be made again).
        if pending and not forbids(action, pending[-1].to_stage):
            return False
        await self._cancel_promotion(inp, action)
        try:
            await asyncio.wait_for(handle.result(), PREEMPTION_WAIT_SECONDS)
        except TimeoutError:
            raise ApplicationError("the preempted request has not ended yet: retrying") from None
        except (WorkflowFailureError, RPCError):
            pass  # it ended, however it ended: that is all this waits for
        return True

    async def _cancel_promotion(self, inp: ApplyRiskEvent, action: DemotionAction) -> bool:
        handle = self.client.get_workflow_handle(
            promotion_workflow_id(inp.tenant_id, inp.uid, inp.strategy_id)
        )
        try:
            # The reason first: signals reach the workflow before a cancel sent after them.
            await handle.signal("preempt_reason_is", preemption_reason(inp.event, action))
            await handle.cancel()
        except RPCError:
            return False  # none in flight (never started, or already finished)
        return True
