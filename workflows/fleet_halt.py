"""The fleet halt workflow: after the halt document closed every gate of the tenant, put the
halt on record. The tenant's strategies are paged through, each page one batch commit of the
halt's demotions; then one batch operation cancels the tenant's promotions in flight (Temporal's
own fan-out, by search attribute); last, `tenant.halt_completed` records the timings.

The workflow carries a cursor and counters only (never a list of strategies), and continues as
new when its history grows long, so a fleet of any size keeps a bounded history.
"""

from __future__ import annotations

from datetime import timedelta

from pydantic import BaseModel, ConfigDict
from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.fleet import CancelInFlight, FleetActivities, HaltDone, HaltPage
    from governance.fleet_events import HaltTimings
    from workflows.fleet_pages import PAGE, PAGES_PER_RUN, FleetPages
    from workflows.options import QUICK, SAFETY_COMMIT


class FleetHaltState(FleetPages):
    """What survives continue-as-new: counters, where the next page starts, the cancel."""

    cancelled: bool = False


class FleetHaltInput(BaseModel):
    model_config = ConfigDict(frozen=True)

    tenant_id: str
    halt_id: str
    # From the halt call to the halt document stored (measured by the caller, which did both).
    gate_closed_seconds: float
    page_size: int = PAGE
    pages_per_run: int = PAGES_PER_RUN
    state: FleetHaltState = FleetHaltState()


def fleet_halt_workflow_id(tenant_id: str, halt_id: str) -> str:
    return f"fleet-halt/{tenant_id}/{halt_id}"


@workflow.defn(name="FleetHaltWorkflow")
class FleetHaltWorkflow:
    def __init__(self) -> None:
        self.state = FleetHaltState()

    @workflow.query
    def progress(self) -> FleetHaltState:
        return self.state

    @workflow.run
    async def run(self, inp: FleetHaltInput) -> HaltTimings | None:
        self.state = inp.state
        run_pages = 0
        while True:
            if run_pages >= inp.pages_per_run or workflow.info().is_continue_as_new_suggested():
                workflow.continue_as_new(inp.model_copy(update={"state": self.state}))
            done = await workflow.execute_activity_method(
                FleetActivities.halt_page,
                HaltPage(
                    tenant_id=inp.tenant_id,
                    halt_id=inp.halt_id,
                    cursor=self.state.cursor,
                    limit=inp.page_size,
                    effective_at=workflow.now(),
                ),
                summary=f"page {self.state.pages + 1}: move to the halt posture",
                # A safety action, retried until it lands; a page of 500 takes seconds.
                start_to_close_timeout=timedelta(minutes=2),
                retry_policy=SAFETY_COMMIT["retry_policy"],
            )
            run_pages += 1
            self.state = self.state.after(done)
            if done.lifted or done.cursor is None:
                break  # lifted: resumed meanwhile, the rest of the fleet stays as it is
        # The records first, then the cancels: a promotion in flight can no longer commit (every
        # commit reads the halt), so cancelling it is bookkeeping, and the tenant's cancelled
        # workflows must not compete with the halt's own commits for the worker.
        if not self.state.cancelled:
            await workflow.execute_activity_method(
                FleetActivities.cancel_tenant_promotions,
                CancelInFlight(tenant_id=inp.tenant_id, halt_id=inp.halt_id),
                summary="cancel the tenant's promotions in flight (batch operation)",
                **QUICK,
            )
            self.state = self.state.model_copy(update={"cancelled": True})
        if done.lifted:
            return None
        s = self.state
        return await workflow.execute_activity_method(
            FleetActivities.complete_halt,
            HaltDone(
                tenant_id=inp.tenant_id,
                halt_id=inp.halt_id,
                gate_closed_seconds=inp.gate_closed_seconds,
                strategies=s.strategies,
                records=s.records,
                skipped=s.skipped,
                last_record_at=s.last_record_at,
            ),
            summary="record the halt's timings",
            **QUICK,
        )
