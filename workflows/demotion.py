"""The per-strategy demotion workflow: a long-lived listener for risk events.

Started by signal-with-start from the first event. The risk history in the store is the queue:
the API stores an event, then signals its reference (`risk_event_stored`); an event signalled
whole (`risk_event`, for risk systems that talk to Temporal directly) is stored by the
workflow's first activity. The workflow keeps references only (id, kind, time), applies them in
batches with urgent events first (governance's `next_batch`; the decision for each is
`action_for`, carried out by one activity that preempts and commits), and continues as new when
its history grows long or large, carrying counters, the warning budget's timestamps and at most
`MAX_CARRIED` references. A larger backlog stays in the store and is listed again by the next run.
"""

from __future__ import annotations

from collections import deque
from datetime import datetime

from pydantic import BaseModel, Field
from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.commit import CommitActivities
    from activities.contracts import Notification
    from activities.risk import (
        APPLY_BATCH,
        STORE_CHUNK,
        AppliedBatch,
        AppliedEvent,
        ApplyRiskEvents,
        ListBacklog,
        RiskActivities,
        StoreRiskEvents,
    )
    from governance.risk_events import RiskEvent
    from governance.risk_queue import RiskEventRef, next_batch
    from workflows import summaries
    from workflows.options import APPLY_RISK, QUICK

SEEN_EVENT_IDS = 1_000
# References carried across continue-as-new (~100 bytes each); beyond it, the store holds them.
MAX_CARRIED = 1_000


class DemotionState(BaseModel):
    """What survives continue-as-new: bounded, whatever arrived."""

    warnings: list[datetime] = Field(default_factory=list, max_length=1_001)
    seen_event_ids: list[str] = Field(default_factory=list, max_length=SEEN_EVENT_IDS)
    pending: list[RiskEventRef] = Field(default_factory=list, max_length=MAX_CARRIED)
    # More was pending than could be carried: the next run lists the backlog from the store.
    backlog: bool = False
    processed: int = 0
    demotions: int = 0


class DemotionInput(BaseModel):
    tenant_id: str
    uid: str
    strategy_id: str
    state: DemotionState = Field(default_factory=DemotionState)
    # Events applied per run before continuing as new (tests lower it to exercise the carry-over).
    events_per_run: int = 500


class DemotionStatus(BaseModel):
    tenant_id: str
    uid: str
    strategy_id: str
    warnings: list[datetime]
    processed: int
    demotions: int
    pending: int
    backlog: bool
    recent: list[AppliedEvent]


@workflow.defn(name="DemotionWorkflow")
class DemotionWorkflow:
    @workflow.init
    def __init__(self, inp: DemotionInput) -> None:
        self.inp = inp
        state = inp.state
        self.warnings = list(state.warnings)
        self.seen: deque[str] = deque(state.seen_event_ids, maxlen=SEEN_EVENT_IDS)
        self.pending: list[RiskEventRef] = list(state.pending)
        self.backlog = state.backlog
        self.inbox: list[RiskEvent] = []  # signalled whole, not stored yet
        self.processed = state.processed
        self.demotions = state.demotions
        self.applied_this_run = 0
        self.recent: deque[AppliedEvent] = deque(maxlen=20)

    @workflow.signal
    def risk_event(self, event: RiskEvent) -> None:
        """A whole event from a risk system that signals Temporal directly (details bounded)."""
        if self._first_sight(event.event_id):
            self.inbox.append(event)

    @workflow.signal
    def risk_event_stored(self, ref: RiskEventRef) -> None:
        """An event the API has already put in the risk history."""
        if self._first_sight(ref.event_id):
            self.pending.append(ref)

    def _first_sight(self, event_id: str) -> bool:
        if event_id in self.seen:
            return False  # a duplicate delivery changes nothing
        self.seen.append(event_id)
        return True

    @workflow.query
    def status(self) -> DemotionStatus:
        return DemotionStatus(
            tenant_id=self.inp.tenant_id,
            uid=self.inp.uid,
            strategy_id=self.inp.strategy_id,
            warnings=self.warnings,
            processed=self.processed,
            demotions=self.demotions,
            pending=len(self.pending) + len(self.inbox),
            backlog=self.backlog,
            recent=list(self.recent),
        )

    @workflow.run
    async def run(self, inp: DemotionInput) -> None:
        while True:
            await workflow.wait_condition(
                lambda: bool(self.inbox or self.pending or self.backlog) or self._time_to_roll()
            )
            if self.inbox:
                await self._store_inbox()
            elif self.backlog and len(self.pending) < APPLY_BATCH:
                await self._list_backlog()
            elif self.pending and not self._time_to_roll():
                await self._apply(next_batch(self.pending, APPLY_BATCH))
            elif self._time_to_roll():
                await workflow.wait_condition(workflow.all_handlers_finished)
                if not self.inbox:  # a signal that landed meanwhile is stored first
                    workflow.continue_as_new(self.inp.model_copy(update={"state": self._state()}))

    def _time_to_roll(self) -> bool:
        return (
            self.applied_this_run >= self.inp.events_per_run
            or workflow.info().is_continue_as_new_suggested()
        )

    def _state(self) -> DemotionState:
        carried = next_batch(self.pending, MAX_CARRIED)
        return DemotionState(
            warnings=self.warnings[-1_001:],
            seen_event_ids=list(self.seen),
            pending=carried,
            backlog=self.backlog or len(carried) < len(self.pending),
            processed=self.processed,
            demotions=self.demotions,
        )

    async def _store_inbox(self) -> None:
        chunk, self.inbox = self.inbox[:STORE_CHUNK], self.inbox[STORE_CHUNK:]
        inp = self.inp
        refs: list[RiskEventRef] = await workflow.execute_activity_method(
            RiskActivities.store_risk_events,
            StoreRiskEvents(
                tenant_id=inp.tenant_id,
                uid=inp.uid,
                strategy_id=inp.strategy_id,
                events=chunk,
                now=workflow.now(),
            ),
            summary=summaries.store_risk_events(len(chunk)),
            **APPLY_RISK,
        )
        self.pending.extend(refs)

    async def _list_backlog(self) -> None:
        inp = self.inp
        refs: list[RiskEventRef] = await workflow.execute_activity_method(
            RiskActivities.unapplied_risk_events,
            ListBacklog(tenant_id=inp.tenant_id, uid=inp.uid, strategy_id=inp.strategy_id),
            summary=summaries.list_backlog(),
            **APPLY_RISK,
        )
        known = {r.event_id for r in self.pending}
        self.pending.extend(r for r in refs if r.event_id not in known)
        self.backlog = len(refs) >= ListBacklog.model_fields["limit"].default

    async def _apply(self, batch: list[RiskEventRef]) -> None:
        inp = self.inp
        result: AppliedBatch = await workflow.execute_activity_method(
            RiskActivities.apply_risk_events,
            ApplyRiskEvents(
                tenant_id=inp.tenant_id,
                uid=inp.uid,
                strategy_id=inp.strategy_id,
                event_ids=[r.event_id for r in batch],
                warnings=self.warnings,
                now=workflow.now(),
            ),
            summary=summaries.apply_risk_events([r.kind.value for r in batch]),
            **APPLY_RISK,
        )
        done = {r.event_id for r in batch}
        self.pending = [r for r in self.pending if r.event_id not in done]
        self.warnings = result.warnings
        self.processed += len(result.applied)
        self.applied_this_run += len(result.applied)
        for applied in result.applied:
            self.recent.append(applied)
            if applied.record_id is not None:
                self.demotions += 1
                await self._notify(applied)

    async def _notify(self, applied: AppliedEvent) -> None:
        inp = self.inp
        await workflow.execute_activity_method(
            CommitActivities.notify,
            Notification(
                event_type="strategy.demoted",
                tenant_id=inp.tenant_id,
                uid=inp.uid,
                strategy_id=inp.strategy_id,
                message=f"{inp.strategy_id} {applied.action} to {applied.target_stage}: "
                f"{applied.explanation}",
                fields={
                    "promotion_record_id": applied.record_id,
                    "risk_event_id": applied.event_id,
                },
            ),
            summary=summaries.notify_demotion(
                applied.action, applied.target_stage, applied.record_id
            ),
            **QUICK,
        )
