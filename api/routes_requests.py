"""Promotion and unfreeze requests: create, read, approve, reject, cancel."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import Caller, Deps, temporal
from api.schemas import ApproveIn, CancelIn, Created, PromotionRequestIn, RejectIn, UnfreezeIn
from governance.errors import NotFound
from governance.identity import require_person, require_tenant
from governance.promotion import promotion_workflow_id
from governance.report import EligibilityReport
from governance.stages import Decision
from workflows import client as wf
from workflows.promotion_state import ApproveInput, CancelInput, PromotionStatus, RejectInput

router = APIRouter(prefix="/v1/tenants/{tenant}", tags=["promotion requests"])
ONE = "/strategies/{uid}/{strategy_id}/promotion"


@router.post("/promotion-requests", status_code=201, response_model=Created)
async def create_request(tenant: str, body: PromotionRequestIn, d: Deps, who: Caller) -> Created:
    require_tenant(who, tenant)
    require_person(who)
    made = await wf.request_promotion(
        temporal(d),
        d.store,
        d.task_queue,
        tenant_id=tenant,
        uid=body.uid,
        strategy_id=body.strategy_id,
        to_stage=body.to_stage,
        requested_by=who.subject,
        reason=body.reason,
    )
    return Created(
        request_id=made.request_id,
        workflow_id=promotion_workflow_id(tenant, body.uid, body.strategy_id),
    )


@router.post("/strategies/{uid}/{strategy_id}/unfreeze-requests", status_code=201)
async def create_unfreeze(
    tenant: str, uid: str, strategy_id: str, body: UnfreezeIn, d: Deps, who: Caller
) -> Created:
    require_tenant(who, tenant)
    require_person(who)
    doc = await d.store.get_strategy(tenant, uid, strategy_id)
    if doc is None:
        raise NotFound(f"strategy {uid}/{strategy_id} is not registered", field="strategy_id")
    made = await wf.request_promotion(
        temporal(d),
        d.store,
        d.task_queue,
        tenant_id=tenant,
        uid=uid,
        strategy_id=strategy_id,
        to_stage=doc.lifecycle_stage,
        requested_by=who.subject,
        reason=body.reason,
        decision=Decision.UNFREEZE,
    )
    return Created(
        request_id=made.request_id, workflow_id=promotion_workflow_id(tenant, uid, strategy_id)
    )


@router.get(ONE, response_model=PromotionStatus)
async def read_request(
    tenant: str, uid: str, strategy_id: str, d: Deps, who: Caller
) -> PromotionStatus:
    require_tenant(who, tenant)
    require_person(who)
    return await wf.promotion_status(temporal(d), tenant, uid, strategy_id)


@router.get("/reports/{metrics_hash}", response_model=EligibilityReport)
async def read_report(tenant: str, metrics_hash: str, d: Deps, who: Caller) -> EligibilityReport:
    require_tenant(who, tenant)
    require_person(who)
    report = await d.store.get_evaluation_report(tenant, metrics_hash)
    if report is None:
        raise NotFound(f"no eligibility report {metrics_hash}", field="metrics_hash")
    return report


@router.post(ONE + "/approve", response_model=PromotionStatus)
async def approve(
    tenant: str, uid: str, strategy_id: str, body: ApproveIn, d: Deps, who: Caller
) -> PromotionStatus:
    require_tenant(who, tenant)
    require_person(who)
    inp = ApproveInput(
        approver=who.subject,
        role=body.role,
        metrics_hash=body.metrics_hash,
        comment=body.comment,
        confirmation_token=body.confirmation_token,
    )
    return await wf.approve(temporal(d), tenant, uid, strategy_id, inp)


@router.post(ONE + "/reject", response_model=PromotionStatus)
async def reject(
    tenant: str, uid: str, strategy_id: str, body: RejectIn, d: Deps, who: Caller
) -> PromotionStatus:
    require_tenant(who, tenant)
    require_person(who)
    inp = RejectInput(user=who.subject, role=body.role, comment=body.comment)
    return await wf.reject(temporal(d), tenant, uid, strategy_id, inp)


@router.post(ONE + "/cancel", response_model=PromotionStatus)
async def cancel(
    tenant: str, uid: str, strategy_id: str, body: CancelIn, d: Deps, who: Caller
) -> PromotionStatus:
    require_tenant(who, tenant)
    require_person(who)
    inp = CancelInput(user=who.subject, reason=body.reason)
    return await wf.cancel(temporal(d), tenant, uid, strategy_id, inp)
