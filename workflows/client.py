"""Client-side operations on the workflows, shared by the CLI and the HTTP API.

Requests are checked here first with the same governance rules the workflow applies, so a
person gets a clear refusal before anything is started or written.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any, Protocol

from temporalio.client import (
    Client,
    WorkflowHandle,
    WorkflowQueryFailedError,
    WorkflowUpdateFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.exceptions import ApplicationError, WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

import tracing_setup
from activities.reconcile import StrategyStore, reconcile_breaker
from governance.errors import GovernanceError, InvalidTransition, NotFound, UnknownStrategy
from governance.policy import effective_policy
from governance.promotion import (
    PromotionInput,
    demotion_workflow_id,
    promotion_workflow_id,
    validate_request,
)
from governance.records import StrategyDoc
from governance.risk_events import RiskEvent, StoredRiskEvent
from governance.risk_queue import RiskEventRef
from governance.stages import Decision, LifecycleStage
from workflows import search_attributes as sa
from workflows import summaries
from workflows.demotion import DemotionInput, DemotionWorkflow
from workflows.promotion import PromotionWorkflow
from workflows.promotion_state import (
    ApproveInput,
    CancelInput,
    PromotionOutcome,
    PromotionStatus,
    RejectInput,
)
from workflows.queues import risk_task_queue


class InFlight(GovernanceError):
    code = "request_in_flight"


async def connect(address: str, namespace: str = "default") -> Client:
    # The worker built on this client inherits its interceptors: tracing, when it is on.
    return await Client.connect(
        address,
        namespace=namespace,
        data_converter=pydantic_data_converter,
        interceptors=tracing_setup.client_interceptors(),
    )


async def request_promotion(
    client: Client,
    store: StrategyStore,
    task_queue: str,
    *,
    tenant_id: str,
    uid: str,
    strategy_id: str,
    to_stage: LifecycleStage,
    requested_by: str,
    reason: str = "",
    decision: Decision = Decision.PROMOTE,
) -> PromotionInput:
    """Validate and start a request; refuses a second one while one is in flight."""
    strategy = await store.get_strategy(tenant_id, uid, strategy_id)
    if strategy is not None and strategy.breaker_active():
        # Refused naming the breaker; its demotion goes on record on the way.
        refusal = strategy.describe_breaker()
        await reconcile_breaker(store, strategy, datetime.now(UTC))
        raise InvalidTransition(
            f"{refusal}: requests start from the effective stage {strategy.effective_stage()} "
            "(the breaker's demotion is now on record, frozen for review)",
            field="execution_mode",
        )
    policy = await store.get_policy(tenant_id)
    if policy is not None:
        policy = effective_policy(policy, strategy.stage_overrides if strategy else None)
    request = PromotionInput(
        request_id=str(uuid.uuid4()),
        tenant_id=tenant_id,
        uid=uid,
        strategy_id=strategy_id,
        decision=decision,
        to_stage=to_stage,
        requested_by=requested_by,
        requested_at=datetime.now(UTC),
        reason=reason,
    )
    validate_request(request, strategy, policy)
    workflow_id = promotion_workflow_id(tenant_id, uid, strategy_id)
    try:
        await client.start_workflow(
            PromotionWorkflow.run,
            request,
            id=workflow_id,
            task_queue=task_queue,
            id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE,
            id_conflict_policy=WorkflowIDConflictPolicy.FAIL,
            search_attributes=sa.for_strategy(
                tenant_id, uid, strategy_id, to_stage=to_stage.value, phase="VALIDATING"
            ),
            static_summary=summaries.request_summary(
                request, strategy.lifecycle_stage if strategy else None
            ),
            static_details=summaries.request_details(request),
        )
    except WorkflowAlreadyStartedError:
        current = await promotion_handle(client, tenant_id, uid, strategy_id).query(
            PromotionWorkflow.status
        )
        raise InFlight(
            f"a request is already in flight for {uid}/{strategy_id}: {current.request_id} "
            f"({current.from_stage} -> {current.to_stage}, {current.phase}, "
            f"workflow {workflow_id})",
            field="strategy_id",
        ) from None
    return request


def promotion_handle(
    client: Client, tenant_id: str, uid: str, strategy_id: str
) -> WorkflowHandle[PromotionWorkflow, PromotionOutcome]:
    return client.get_workflow_handle_for(
        PromotionWorkflow.run, promotion_workflow_id(tenant_id, uid, strategy_id)
    )


class NoRequestInFlight(NotFound):
    """Temporal has no open promotion workflow for the strategy (none, or it has closed)."""


class NotAnswered(GovernanceError):
    """The request cannot answer now: it did not in time, or its last workflow task failed (a
    worker killed mid-task) and is being retried. Nothing is lost: a query can be asked again,
    and an update repeated with the same update id joins the first one (503, not a refusal)."""

    code = "unavailable"


async def promotion_status(
    client: Client, tenant_id: str, uid: str, strategy_id: str
) -> PromotionStatus:
    try:
        return await promotion_handle(client, tenant_id, uid, strategy_id).query(
            PromotionWorkflow.status
        )
    except RPCError as exc:
        raise _not_found(exc, uid, strategy_id) from None
    except WorkflowQueryFailedError as exc:
        raise NotAnswered(
            f"the request of {uid}/{strategy_id} cannot answer now ({exc}); ask again",
            field="temporal",
        ) from None


def _not_found(exc: RPCError, uid: str, strategy_id: str) -> GovernanceError:
    if exc.status == RPCStatusCode.NOT_FOUND:
        return NoRequestInFlight(
            f"no promotion request in flight for {uid}/{strategy_id}", field="strategy_id"
        )
    return NotAnswered(
        f"the request of {uid}/{strategy_id} cannot answer now ({exc.message}); nothing was "
        "lost, and the same call can be repeated",
        field="temporal",
    )


class Refused(GovernanceError):
    """A workflow update refused by a validator or handler: nothing entered history."""


def _refused(exc: WorkflowUpdateFailedError) -> Refused:
    cause = exc.cause
    if isinstance(cause, ApplicationError):
        details = cause.details[0] if cause.details else {}
        field = details.get("field") if isinstance(details, dict) else None
        return Refused(cause.message, field=field, code=cause.type or "governance_error")
    return Refused(str(cause or exc), code="governance_error")


async def _update(
    client: Client,
    tenant_id: str,
    uid: str,
    strategy_id: str,
    update: Any,
    inp: Any,
    update_id: str | None = None,
) -> PromotionStatus:
    """Run one of the request's updates; a validator's or handler's refusal becomes Refused.

    `update_id` makes a retry idempotent: Temporal runs an update id once per workflow run."""
    handle = promotion_handle(client, tenant_id, uid, strategy_id)
    try:
        status: PromotionStatus = await handle.execute_update(update, inp, id=update_id)
    except WorkflowUpdateFailedError as exc:
        raise _refused(exc) from None
    except WorkflowUpdateRPCTimeoutOrCancelledError:
        raise NotAnswered(
            f"the request of {uid}/{strategy_id} did not answer in time; nothing was lost, "
            "and the same call can be repeated",
            field="temporal",
        ) from None
    except RPCError as exc:
        raise _not_found(exc, uid, strategy_id) from None
    return status


async def approve(
    client: Client,
    tenant_id: str,
    uid: str,
    strategy_id: str,
    inp: ApproveInput,
    update_id: str | None = None,
) -> PromotionStatus:
    return await _update(
        client, tenant_id, uid, strategy_id, PromotionWorkflow.approve, inp, update_id
    )


async def reject(
    client: Client,
    tenant_id: str,
    uid: str,
    strategy_id: str,
    inp: RejectInput,
    update_id: str | None = None,
) -> PromotionStatus:
    return await _update(
        client, tenant_id, uid, strategy_id, PromotionWorkflow.reject, inp, update_id
    )


async def cancel(
    client: Client,
    tenant_id: str,
    uid: str,
    strategy_id: str,
    inp: CancelInput,
    update_id: str | None = None,
) -> PromotionStatus:
    return await _update(
        client, tenant_id, uid, strategy_id, PromotionWorkflow.cancel, inp, update_id
    )


class RiskStore(Protocol):
    async def get_strategy(
        self, tenant_id: str, uid: str, strategy_id: str
    ) -> StrategyDoc | None: ...
    async def record_risk_event(self, event: StoredRiskEvent) -> bool: ...


async def require_registered(store: RiskStore, tenant_id: str, uid: str, strategy_id: str) -> None:
    """Refuse a risk event for a strategy that is not registered, before any workflow starts:
    a demotion workflow for it would only fail, and a typo would pass for a delivered event."""
    if await store.get_strategy(tenant_id, uid, strategy_id) is None:
        raise UnknownStrategy(tenant_id, uid, strategy_id)


async def send_risk_event(
    client: Client,
    store: RiskStore,
    task_queue: str,
    *,
    tenant_id: str,
    uid: str,
    strategy_id: str,
    event: RiskEvent,
    events_per_run: int = 500,
) -> str:
    """Store the event in the strategy's risk history, then signal-with-start its demotion
    workflow with a reference to it; returns the workflow id.

    Stored first, so the workflow carries ~100 bytes per event whatever its details, and the
    eligibility window sees the event even before the workflow has applied it. An unknown
    strategy is refused before anything is stored or started. A new demotion workflow starts on
    the risk queue of `task_queue` (workflows/queues.py); one already running stays where it is.
    """
    await require_registered(store, tenant_id, uid, strategy_id)
    await store.record_risk_event(
        StoredRiskEvent.of(tenant_id, uid, strategy_id, event, datetime.now(UTC))
    )
    workflow_id = demotion_workflow_id(tenant_id, uid, strategy_id)
    await client.start_workflow(
        DemotionWorkflow.run,
        DemotionInput(
            tenant_id=tenant_id, uid=uid, strategy_id=strategy_id, events_per_run=events_per_run
        ),
        id=workflow_id,
        task_queue=risk_task_queue(task_queue),
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        start_signal="risk_event_stored",
        start_signal_args=[RiskEventRef.of(event)],
        search_attributes=sa.for_strategy(tenant_id, uid, strategy_id),
        static_summary=summaries.demotion_summary(tenant_id, uid, strategy_id),
    )
    return workflow_id
