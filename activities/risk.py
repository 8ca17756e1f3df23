"""Applying one risk event: decide, preempt the promotion in flight, commit the demotion."""

from __future__ import annotations

import asyncio
from datetime import datetime

from pydantic import BaseModel
from temporalio import activity
from temporalio.client import Client
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError

from activities.errors import refusal
from governance.audit_log import log_stage_change
from governance.demotion import demotion_change
from governance.errors import GovernanceError, PreconditionFailed
from governance.policy import effective_policy
from governance.promotion import promotion_workflow_id
from governance.records import PromotionRecord, RuntimeFingerprint
from governance.risk_events import DemotionAction, Posture, RiskEvent, action_for
from governance.stage_change import EVENT_TYPE
from store.port import GovernanceStore


class ApplyRiskEvent(BaseModel):
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
    record: PromotionRecord | None = None
    preempted_promotion: bool = False
    error: str | None = None


class RiskActivities:
    def __init__(
        self, store: GovernanceStore, client: Client, fingerprint: RuntimeFingerprint | None = None
    ):
        self.store = store
        self.client = client
        self.fingerprint = fingerprint or RuntimeFingerprint()

    @activity.defn(name="apply_risk_event")
    async def apply_risk_event(self, inp: ApplyRiskEvent) -> RiskOutcome:
        """One activity on the latency path: a retry finds its own record and writes nothing."""
        # The three reads are independent: one wait, not three, on the latency path.
        landed, strategy, policy = await asyncio.gather(
            self.store.get_record(inp.tenant_id, inp.record_id),
            self.store.get_strategy(inp.tenant_id, inp.uid, inp.strategy_id),
            self.store.get_policy(inp.tenant_id),
        )
        if landed is not None:
            return RiskOutcome(action=None, record=landed)
        if strategy is None:
            return RiskOutcome(action=None, error="strategy is not registered")
        try:
            policy = effective_policy(policy, strategy.stage_overrides) if policy else None
        except GovernanceError:
            policy = None  # an unusable override fails closed like a missing policy
        posture = Posture(
            lifecycle_stage=strategy.lifecycle_stage, freeze=strategy.freeze, warnings=inp.warnings
        )
        action = action_for(inp.event, policy, posture)
        if action.decision is None:
            return RiskOutcome(action=action)
        # The preemption goes out first and runs beside the commit: the chain slot, not the
        # order of these two calls, is what stops a promotion from landing after a demotion.
        preempting = asyncio.create_task(self._cancel_promotion(inp))
        change = demotion_change(
            event=inp.event,
            action=action,
            strategy=strategy,
            policy_version=policy.policy_version if policy else None,
            record_id=inp.record_id,
            audit_event_id=inp.audit_event_id,
            now=inp.now,
            fingerprint=self.fingerprint,
        )
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
        log_stage_change(record, EVENT_TYPE[record.decision], inp.event.event_id)
        return RiskOutcome(action=action, record=record, preempted_promotion=await preempting)

    async def _cancel_promotion(self, inp: ApplyRiskEvent) -> bool:
        handle = self.client.get_workflow_handle(
            promotion_workflow_id(inp.tenant_id, inp.uid, inp.strategy_id)
        )
        try:
            await handle.cancel()
        except RPCError:
            return False  # none in flight (never started, or already finished)
        return True
