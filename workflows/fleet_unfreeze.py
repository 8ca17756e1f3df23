"""The resume's bulk unfreeze: after the last approval lifted a halt asked with unfreeze, every
strategy that halt froze is unfrozen, a record each, page by page in batch commits; last,
`tenant.unfreeze_completed` records the counts and the time to the last record.

A workflow rather than the API call itself: ten thousand records take seconds, longer than a
request should hold, and a crash half-way must not leave half the fleet frozen with nothing to
finish it. Like the halt, it carries a cursor and counters only and continues as new.
"""

from __future__ import annotations

from datetime import timedelta

from pydantic import BaseModel, ConfigDict
from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.fleet import FleetActivities, HaltPage, UnfreezeDone
    from governance.fleet_events import UnfreezeTimings
    from workflows.fleet_pages import PAGE, PAGES_PER_RUN, FleetPages
    from workflows.options import QUICK, SAFETY_COMMIT


class FleetUnfreezeState(FleetPages):
    """What survives continue-as-new: counters and where the next page starts."""


class FleetUnfreezeInput(BaseModel):
    model_config = ConfigDict(frozen=True)

    tenant_id: str
    halt_id: str
    page_size: int = PAGE
    pages_per_run: int = PAGES_PER_RUN
    state: FleetUnfreezeState = FleetUnfreezeState()


def fleet_unfreeze_workflow_id(tenant_id: str, halt_id: str) -> str:
    return f"fleet-unfreeze/{tenant_id}/{halt_id}"


@workflow.defn(name="FleetUnfreezeWorkflow")
class FleetUnfreezeWorkflow:
    def __init__(self) -> None:
        self.state = FleetUnfreezeState()

    @workflow.query
    def progress(self) -> FleetUnfreezeState:
        return self.state

    @workflow.run
    async def run(self, inp: FleetUnfreezeInput) -> UnfreezeTimings:
        self.state = inp.state
        run_pages = 0
        while True:
            if run_pages >= inp.pages_per_run or workflow.info().is_continue_as_new_suggested():
                workflow.continue_as_new(inp.model_copy(update={"state": self.state}))
            done = await workflow.execute_activity_method(
                FleetActivities.unfreeze_page,
                HaltPage(
                    tenant_id=inp.tenant_id,
                    halt_id=inp.halt_id,
                    cursor=self.state.cursor,
                    limit=inp.page_size,
                    effective_at=workflow.now(),
                ),
                summary=f"page {self.state.pages + 1}: unfreeze what the halt froze",
                start_to_close_timeout=timedelta(minutes=2),
                retry_policy=SAFETY_COMMIT["retry_policy"],
            )
            run_pages += 1
            self.state = self.state.after(done)
            if done.superseded or done.cursor is None:
                break  # superseded: a newer halt froze the fleet again, the rest stays so
        s = self.state
        return await workflow.execute_activity_method(
            FleetActivities.complete_unfreeze,
            UnfreezeDone(
                tenant_id=inp.tenant_id,
                halt_id=inp.halt_id,
                records=s.records,
                skipped=s.skipped,
                last_record_at=s.last_record_at,
                superseded=done.superseded,
            ),
            summary="record the unfreeze's counts",
            **QUICK,
        )
