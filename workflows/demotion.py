"""The per-strategy demotion workflow: a long-lived listener for risk events.

Started by signal-with-start from the first event; dedups events by id; applies each in order
(the decision is governance's `action_for`, carried out by one activity that preempts the
promotion in flight and commits the demotion); continues-as-new before its history grows large,
carrying its warning counter, recent event ids and any events not yet applied.
"""

from __future__ import annotations

from collections import deque
from datetime import datetime

from pydantic import BaseModel, Field
from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.commit import CommitActivities
    from activities.contracts import Notification
    from activities.risk import ApplyRiskEvent, RiskActivities, RiskOutcome
    from governance.risk_events import RiskEvent
    from workflows.options import QUICK, SAFETY_COMMIT

SEEN_EVENT_IDS = 1_000


class DemotionState(BaseModel):
    """What survives continue-as-new."""

    warnings: list[datetime] = Field(default_factory=list)
    seen_event_ids: list[str] = Field(default_factory=list)
    pending: list[RiskEvent] = Field(default_factory=list)
    processed: int = 0
    demotions: int = 0


class DemotionInput(BaseModel):
    tenant_id: str
    uid: str
    strategy_id: str
    state: DemotionState = Field(default_factory=DemotionState)
    # Events applied per run before continuing as new (tests lower it to exercise the carry-over).
    events_per_run: int = 500


class AppliedEvent(BaseModel):
    event_id: str
    kind: str
    action: str
    record_id: str | None
    explanation: str


class DemotionStatus(BaseModel):
    tenant_id: str
    uid: str
    strategy_id: str
    warnings: list[datetime]
    processed: int
    demotions: int
    pending: int
    recent: list[AppliedEvent]


@workflow.defn(name="DemotionWorkflow")
class DemotionWorkflow:
    @workflow.init
    def __init__(self, inp: DemotionInput) -> None:
        self.inp = inp
        state = inp.state
        self.warnings = list(state.warnings)
        self.seen: deque[str] = deque(state.seen_event_ids, maxlen=SEEN_EVENT_IDS)
        self.pending: list[RiskEvent] = list(state.pending)
        self.processed = state.processed
        self.demotions = state.demotions
        self.applied_this_run = 0
        self.recent: deque[AppliedEvent] = deque(maxlen=20)

    @workflow.signal
    def risk_event(self, event: RiskEvent) -> None:
        if event.event_id in self.seen:
            return  # a duplicate delivery changes nothing
        self.seen.append(event.event_id)
        self.pending.append(event)

    @workflow.query
    def status(self) -> DemotionStatus:
        return DemotionStatus(
            tenant_id=self.inp.tenant_id,
            uid=self.inp.uid,
            strategy_id=self.inp.strategy_id,
            warnings=self.warnings,
            processed=self.processed,
            demotions=self.demotions,
            pending=len(self.pending),
            recent=list(self.recent),
        )

    @workflow.run
    async def run(self, inp: DemotionInput) -> None:
        while True:
            await workflow.wait_condition(lambda: bool(self.pending) or self._time_to_roll())
            while self.pending and not self._time_to_roll():
                await self._apply(self.pending.pop(0))
            if self._time_to_roll():
                await workflow.wait_condition(workflow.all_handlers_finished)
                workflow.continue_as_new(self.inp.model_copy(update={"state": self._state()}))

    def _time_to_roll(self) -> bool:
        return (
            self.applied_this_run >= self.inp.events_per_run
            or workflow.info().is_continue_as_new_suggested()
        )

    def _state(self) -> DemotionState:
        return DemotionState(
            warnings=self.warnings,
            seen_event_ids=list(self.seen),
            pending=self.pending,
            processed=self.processed,
            demotions=self.demotions,
        )

    async def _apply(self, event: RiskEvent) -> None:
        inp = self.inp
        outcome: RiskOutcome = await workflow.execute_activity_method(
            RiskActivities.apply_risk_event,
            ApplyRiskEvent(
                tenant_id=inp.tenant_id,
                uid=inp.uid,
                strategy_id=inp.strategy_id,
                event=event,
                warnings=self.warnings,
                record_id=str(workflow.uuid4()),
                audit_event_id=str(workflow.uuid4()),
                now=workflow.now(),
            ),
            **SAFETY_COMMIT,
        )
        self.processed += 1
        self.applied_this_run += 1
        action = outcome.action
        if action is not None:
            self.warnings = list(action.warnings)
        if outcome.record_id is not None:
            self.demotions += 1
        self.recent.append(
            AppliedEvent(
                event_id=event.event_id,
                kind=event.kind.value,
                action=(action.decision.value if action and action.decision else "none"),
                record_id=outcome.record_id,
                explanation=action.explanation if action else (outcome.error or ""),
            )
        )
        if action is not None and outcome.record_id is not None:
            await workflow.execute_activity_method(
                CommitActivities.notify,
                Notification(
                    event_type="strategy.demoted",
                    tenant_id=inp.tenant_id,
                    uid=inp.uid,
                    strategy_id=inp.strategy_id,
                    message=f"{inp.strategy_id} {action.decision} to {action.target_stage}: "
                    f"{action.explanation}",
                    fields={
                        "promotion_record_id": outcome.record_id,
                        "risk_event_id": event.event_id,
                    },
                ),
                **QUICK,
            )
