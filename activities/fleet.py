"""The tenant halt's activities: cancel the tenant's promotions in flight with one Temporal batch
operation, demote one page of strategies in one batch commit, record the halt's timings.

Each is idempotent: the batch job id, the record ids and the audit event ids all derive from
the halt id, so a retried activity lands nothing twice.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from pydantic import BaseModel, ConfigDict
from temporalio import activity
from temporalio.api.batch.v1 import BatchOperationCancellation
from temporalio.api.workflowservice.v1 import StartBatchOperationRequest
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from activities.errors import refusal
from activities.stage_log import log_stage_change
from governance.errors import GovernanceError, NotFound
from governance.fleet_changes import halt_cancel_query, halt_changes, unfreeze_changes
from governance.fleet_events import (
    HaltTimings,
    UnfreezeTimings,
    completed_event,
    completed_id,
    resumed_id,
    unfrozen_event,
    unfrozen_id,
)
from governance.fleet_halt import TenantHalt
from governance.records import RuntimeFingerprint, StrategyDoc
from governance.stage_change import EVENT_TYPE, StageChange
from store.port import GovernanceStore

PRECONDITION = "precondition_failed"
# Re-plans of a strategy whose precondition failed (it changed between read and commit).
REPLANS = 3


class CancelInFlight(BaseModel):
    model_config = ConfigDict(frozen=True)

    tenant_id: str
    halt_id: str


class HaltPage(BaseModel):
    """One page (of the halt, or of the resume's unfreeze): where it starts, how many, and the
    time its records take (the workflow's)."""

    model_config = ConfigDict(frozen=True)

    tenant_id: str
    halt_id: str
    cursor: str | None
    limit: int
    effective_at: datetime


class PageCount(BaseModel):
    """What one page of a fleet workflow did (the halt's or the unfreeze's)."""

    model_config = ConfigDict(frozen=True)

    cursor: str | None
    strategies: int
    records: int
    skipped: int
    # When this page's last commit returned (activity clock): the "last record" time.
    committed_at: datetime


class PageDone(PageCount):
    # The halt was lifted meanwhile: the rest of the fleet is left as it is.
    lifted: bool = False


class HaltDone(BaseModel):
    model_config = ConfigDict(frozen=True)

    tenant_id: str
    halt_id: str
    gate_closed_seconds: float
    strategies: int
    records: int
    skipped: int
    last_record_at: datetime | None


class UnfreezePageDone(PageCount):
    # A new halt was stored meanwhile: it froze the fleet again, the unfreeze stops.
    superseded: bool = False


class UnfreezeDone(BaseModel):
    model_config = ConfigDict(frozen=True)

    tenant_id: str
    halt_id: str
    records: int
    skipped: int
    last_record_at: datetime | None
    superseded: bool


class FleetActivities:
    def __init__(
        self, store: GovernanceStore, client: Client, runtime: RuntimeFingerprint | None = None
    ):
        self.store = store
        self.client = client
        self.runtime = runtime

    async def _halt(self, tenant_id: str, halt_id: str) -> TenantHalt:
        halt = await self.store.get_tenant_halt(tenant_id)
        if halt is None or halt.halt_id != halt_id:
            raise refusal(NotFound(f"halt {halt_id} is not the tenant's", field="halt_id"))
        return halt

    @activity.defn(name="cancel_tenant_promotions")
    async def cancel_tenant_promotions(self, inp: CancelInFlight) -> str:
        """Cancels every running promotion of the tenant: one batch operation by search
        attribute, run by the server. Returns the visibility query.

        One operation, not a signal (the reason) and a cancel: a namespace runs one batch
        operation at a time by default (`frontend.MaxConcurrentBatchOperationPerNamespace`),
        and the cancel is what matters; the halt's reason is in `tenant.halted`. While another
        operation runs the server answers RESOURCE_EXHAUSTED and the activity is retried."""
        halt = await self._halt(inp.tenant_id, inp.halt_id)
        query = halt_cancel_query(halt)
        request = StartBatchOperationRequest(
            namespace=self.client.namespace,
            visibility_query=query,
            job_id=f"fleet-halt-{inp.halt_id}",
            reason=f"tenant halted by {halt.halted_by}: {halt.reason}"[:500],
            cancellation_operation=BatchOperationCancellation(identity="stratgate-fleet-halt"),
        )
        try:
            await self.client.workflow_service.start_batch_operation(request)
        except RPCError as exc:
            if exc.status != RPCStatusCode.ALREADY_EXISTS:  # a retry: the job runs already
                raise
        return query

    async def _commit_page(
        self,
        halt: TenantHalt,
        docs: list[StrategyDoc],
        plan: Callable[[list[StrategyDoc]], list[StageChange]],
    ) -> tuple[int, int]:
        """Commits `plan(docs)` in one batch; a strategy that changed between read and commit
        is read again and re-planned. Returns (records, skipped)."""
        records, skipped = 0, 0
        for _ in range(REPLANS):
            changes = plan(docs)
            if not changes:
                break  # nothing (more) to record on this page
            try:
                result = await self.store.commit_stage_changes(changes)
            except GovernanceError as exc:
                raise refusal(exc) from None
            for record in result.records:
                log_stage_change(record, EVENT_TYPE[record.decision], halt.halt_id)
            records += len(result.records)
            stale = [(s.uid, s.strategy_id) for s in result.skipped if s.code == PRECONDITION]
            skipped += len(result.skipped) - len(stale)
            again = [await self.store.get_strategy(halt.tenant_id, u, s) for u, s in stale]
            docs = [d for d in again if d is not None]
        else:
            skipped += len(docs)  # still changing after every re-plan: left, and counted
        return records, skipped

    @activity.defn(name="halt_page")
    async def halt_page(self, inp: HaltPage) -> PageDone:
        """One page of the tenant's strategies moved to the halt posture in one batch commit;
        a strategy that changed between read and commit is read again and re-planned."""
        halt = await self._halt(inp.tenant_id, inp.halt_id)
        page = await self.store.list_strategy_page(inp.tenant_id, inp.cursor, inp.limit)
        if not halt.active:
            return PageDone(
                cursor=None,
                strategies=0,
                records=0,
                skipped=0,
                committed_at=datetime.now(UTC),
                lifted=True,
            )
        policy = await self.store.get_policy(inp.tenant_id)
        records, skipped = await self._commit_page(
            halt,
            page.strategies,
            lambda docs: halt_changes(docs, halt, policy, inp.effective_at, self.runtime),
        )
        activity.heartbeat()
        return PageDone(
            cursor=page.cursor,
            strategies=len(page.strategies),
            records=records,
            skipped=skipped,
            committed_at=datetime.now(UTC),
        )

    @activity.defn(name="complete_halt")
    async def complete_halt(self, inp: HaltDone) -> HaltTimings:
        """`tenant.halt_completed` with the halt's figures; once per halt: a run again of the
        same halt (nothing left to record) returns the figures the first completion recorded."""
        halt = await self._halt(inp.tenant_id, inp.halt_id)
        done = await self.store.get_audit_event(inp.tenant_id, completed_id(halt))
        if done is not None:
            return HaltTimings.model_validate({**done.details, "strategies": inp.strategies})
        last = inp.last_record_at or halt.halted_at
        timings = HaltTimings(
            gate_closed_seconds=inp.gate_closed_seconds,
            last_record_seconds=max((last - halt.halted_at).total_seconds(), 0.0),
            strategies=inp.strategies,
            records=inp.records,
            skipped=inp.skipped,
            cancelled_requests_query=halt_cancel_query(halt),
        )
        try:
            await self.store.append_audit_event(completed_event(halt, timings, last))
        except GovernanceError as exc:
            raise refusal(exc) from None
        return timings

    async def _lifted(self, tenant_id: str, halt_id: str) -> TenantHalt | None:
        """The lifted halt `halt_id` (None: a newer halt replaced it as the tenant's)."""
        halt = await self.store.get_tenant_halt(tenant_id)
        if halt is not None and halt.halt_id != halt_id:
            return None
        if halt is None or halt.active or not halt.unfreeze:
            raise refusal(
                NotFound(f"halt {halt_id} is not a resume with unfreeze", field="halt_id")
            )
        return halt

    @activity.defn(name="unfreeze_page")
    async def unfreeze_page(self, inp: HaltPage) -> UnfreezePageDone:
        """One page of the strategies this halt froze unfrozen in one batch commit (a record
        each); stops when a newer halt replaced this one (it froze them again)."""
        halt = await self._lifted(inp.tenant_id, inp.halt_id)
        if halt is None:
            return UnfreezePageDone(
                cursor=None,
                strategies=0,
                records=0,
                skipped=0,
                committed_at=datetime.now(UTC),
                superseded=True,
            )
        page = await self.store.list_strategy_page(inp.tenant_id, inp.cursor, inp.limit)
        policy = await self.store.get_policy(inp.tenant_id)
        records, skipped = await self._commit_page(
            halt,
            page.strategies,
            lambda docs: unfreeze_changes(docs, halt, policy, inp.effective_at, self.runtime),
        )
        activity.heartbeat()
        return UnfreezePageDone(
            cursor=page.cursor,
            strategies=len(page.strategies),
            records=records,
            skipped=skipped,
            committed_at=datetime.now(UTC),
        )

    @activity.defn(name="complete_unfreeze")
    async def complete_unfreeze(self, inp: UnfreezeDone) -> UnfreezeTimings:
        """`tenant.unfreeze_completed`, once per halt (a run again returns the first one's)."""
        halts = await self.store.list_tenant_halts(inp.tenant_id)
        halt = next((h for h in halts if h.halt_id == inp.halt_id), None)
        # The halt log keeps each halt as it started; the resume is its `tenant.resumed`
        # event, written with the lift (found the same whether or not a newer halt followed).
        resumed = await self.store.get_audit_event(inp.tenant_id, resumed_id(inp.halt_id))
        if halt is None or resumed is None:
            raise refusal(NotFound(f"halt {inp.halt_id} was not resumed", field="halt_id"))
        done = await self.store.get_audit_event(inp.tenant_id, unfrozen_id(halt))
        if done is not None:
            return UnfreezeTimings.model_validate(done.details)
        last = inp.last_record_at or resumed.ts
        timings = UnfreezeTimings(
            records=inp.records,
            skipped=inp.skipped,
            last_record_seconds=max((last - resumed.ts).total_seconds(), 0.0),
            superseded=inp.superseded,
        )
        try:
            await self.store.append_audit_event(unfrozen_event(halt, timings, last))
        except GovernanceError as exc:
            raise refusal(exc) from None
        return timings
