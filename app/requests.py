"""Promotion and unfreeze requests: make one, read it, approve, reject, cancel."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from pydantic import BaseModel

from app.lookup import no_request_in_flight, require_strategy
from app.ports import Ports
from governance.assertion import ApprovalClaim, sign
from governance.errors import GovernanceError, NotFound
from governance.fleet_halt import GlobalHalt, global_halt_of, refuse_promotion
from governance.identity import Principal, require_person, require_tenant
from governance.promotion import promotion_workflow_id
from governance.records import PromotionRequest
from governance.report import EligibilityReport
from governance.roles import Role
from governance.stages import Decision, LifecycleStage
from workflows import client as wf
from workflows.promotion_state import ApproveInput, CancelInput, PromotionStatus, RejectInput

# How often an update the request could not take is asked again (same update id), and the
# pause before each; beyond that the caller is told to try again (503).
UPDATE_ATTEMPTS = 3
UPDATE_BACKOFF_SECONDS = 0.5


# An unreadable platform switch is unknown, and unknown is halted.
_UNKNOWN = GlobalHalt(engaged=True, reason="systemStatus/config.execution_halted is unreadable")


class Created(BaseModel):
    request_id: str
    workflow_id: str


def _person(who: Principal, tenant_id: str) -> None:
    require_tenant(who, tenant_id)
    require_person(who)


async def request_promotion(
    ports: Ports,
    who: Principal,
    *,
    tenant_id: str,
    uid: str,
    strategy_id: str,
    to_stage: LifecycleStage,
    reason: str = "",
) -> Created:
    _person(who, tenant_id)
    await require_strategy(ports, tenant_id, uid, strategy_id)
    return await _start(ports, who, tenant_id, uid, strategy_id, to_stage, reason, Decision.PROMOTE)


async def request_unfreeze(
    ports: Ports, who: Principal, *, tenant_id: str, uid: str, strategy_id: str, reason: str = ""
) -> Created:
    """An unfreeze keeps the stage: it is requested at the strategy's current one."""
    _person(who, tenant_id)
    doc = await require_strategy(ports, tenant_id, uid, strategy_id)
    stage = doc.lifecycle_stage
    return await _start(ports, who, tenant_id, uid, strategy_id, stage, reason, Decision.UNFREEZE)


async def _start(
    ports: Ports,
    who: Principal,
    tenant_id: str,
    uid: str,
    strategy_id: str,
    to_stage: LifecycleStage,
    reason: str,
    decision: Decision,
) -> Created:
    # Refused before anything starts; a request already in flight is refused by the commit.
    platform = global_halt_of(await ports.store.get_system_status())
    refuse_promotion(await ports.store.get_tenant_halt(tenant_id), platform or _UNKNOWN)
    made = await wf.request_promotion(
        ports.temporal(),
        ports.store,
        ports.task_queue,
        tenant_id=tenant_id,
        uid=uid,
        strategy_id=strategy_id,
        to_stage=to_stage,
        requested_by=who.subject,
        reason=reason,
        decision=decision,
    )
    return Created(
        request_id=made.request_id,
        workflow_id=promotion_workflow_id(tenant_id, uid, strategy_id),
    )


async def promotion_status(
    ports: Ports, who: Principal, *, tenant_id: str, uid: str, strategy_id: str
) -> PromotionStatus:
    _person(who, tenant_id)
    await require_strategy(ports, tenant_id, uid, strategy_id)
    try:
        return await wf.promotion_status(ports.temporal(), tenant_id, uid, strategy_id)
    except wf.NoRequestInFlight:
        raise await no_request_in_flight(ports, tenant_id, uid, strategy_id) from None


async def read_report(
    ports: Ports, who: Principal, *, tenant_id: str, metrics_hash: str
) -> EligibilityReport:
    _person(who, tenant_id)
    report = await ports.store.get_evaluation_report(tenant_id, metrics_hash)
    if report is None:
        raise NotFound(f"no eligibility report {metrics_hash}", field="metrics_hash")
    return report


async def approve(
    ports: Ports,
    who: Principal,
    *,
    tenant_id: str,
    uid: str,
    strategy_id: str,
    role: Role,
    metrics_hash: str | None,
    comment: str = "",
    confirmation_token: str | None = None,
) -> PromotionStatus:
    """An approval by the authenticated person, with the API's signed assertion of who it is.

    A local operator has no proven identity: the workflow would refuse the approval, so it is
    refused here first, saying how to approve instead.
    """
    _person(who, tenant_id)
    if not who.authenticated_person or ports.signer is None:
        raise GovernanceError(
            "approvals are given by a person authenticated by the API: use the API, the web "
            "UI or the CLI with your token (STRATGATE_TOKEN)",
            field="authorization",
            code="assertion_refused",
        )
    status = await promotion_status(
        ports, who, tenant_id=tenant_id, uid=uid, strategy_id=strategy_id
    )
    claim = ApprovalClaim(
        request_id=status.request_id,
        role=role,
        person=who.subject,
        metrics_hash=metrics_hash,
        issued_at=ports.now(),
        tenant_id=tenant_id,
    )
    inp = ApproveInput(
        approver=who.subject,
        role=role,
        metrics_hash=metrics_hash,
        comment=comment,
        confirmation_token=confirmation_token,
        assertion=sign(ports.signer, claim),
    )
    return await _in_flight(ports, tenant_id, uid, strategy_id, wf.approve, inp)


async def reject(
    ports: Ports,
    who: Principal,
    *,
    tenant_id: str,
    uid: str,
    strategy_id: str,
    role: Role,
    comment: str = "",
) -> PromotionStatus:
    _person(who, tenant_id)
    inp = RejectInput(user=who.subject, role=role, comment=comment)
    await require_strategy(ports, tenant_id, uid, strategy_id)
    return await _in_flight(ports, tenant_id, uid, strategy_id, wf.reject, inp)


async def cancel(
    ports: Ports, who: Principal, *, tenant_id: str, uid: str, strategy_id: str, reason: str = ""
) -> PromotionStatus:
    _person(who, tenant_id)
    inp = CancelInput(user=who.subject, reason=reason)
    await require_strategy(ports, tenant_id, uid, strategy_id)
    return await _in_flight(ports, tenant_id, uid, strategy_id, wf.cancel, inp)


async def _in_flight(
    ports: Ports, tenant_id: str, uid: str, strategy_id: str, update: Any, inp: Any
) -> PromotionStatus:
    """One of the request's updates; with no request open, says whether it ended and how.

    An update the request could not take (its worker restarting) is asked again under the same
    update id, so it is given once however often it is asked."""
    update_id = uuid.uuid4().hex
    attempts = 0
    while True:
        attempts += 1
        try:
            status: PromotionStatus = await update(
                ports.temporal(), tenant_id, uid, strategy_id, inp, update_id
            )
            return status
        except wf.NoRequestInFlight:
            raise await no_request_in_flight(ports, tenant_id, uid, strategy_id) from None
        except wf.NotAnswered:
            if attempts == UPDATE_ATTEMPTS:
                raise
            await asyncio.sleep(UPDATE_BACKOFF_SECONDS * attempts)


async def list_requests(
    ports: Ports, who: Principal, *, tenant_id: str, uid: str | None, strategy_id: str | None
) -> list[PromotionRequest]:
    _person(who, tenant_id)
    return await ports.store.list_requests(tenant_id, uid, strategy_id)
