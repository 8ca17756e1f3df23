"""Promotion and unfreeze requests: create, read, approve, reject, cancel (thin: `app.requests`)."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import Caller, Deps
from api.schemas import ApproveIn, CancelIn, PromotionRequestIn, RejectIn, UnfreezeIn
from app import live
from app import requests as uc
from app.live import IssuedToken
from app.requests import Created
from governance.report import EligibilityReport
from workflows.promotion_state import PromotionStatus

router = APIRouter(prefix="/v1/tenants/{tenant}", tags=["promotion requests"])
ONE = "/strategies/{uid}/{strategy_id}/promotion"


@router.post("/promotion-requests", status_code=201, response_model=Created)
async def create_request(tenant: str, body: PromotionRequestIn, d: Deps, who: Caller) -> Created:
    return await uc.request_promotion(
        d.ports(),
        who,
        tenant_id=tenant,
        uid=body.uid,
        strategy_id=body.strategy_id,
        to_stage=body.to_stage,
        reason=body.reason,
    )


@router.post("/strategies/{uid}/{strategy_id}/unfreeze-requests", status_code=201)
async def create_unfreeze(
    tenant: str, uid: str, strategy_id: str, body: UnfreezeIn, d: Deps, who: Caller
) -> Created:
    return await uc.request_unfreeze(
        d.ports(), who, tenant_id=tenant, uid=uid, strategy_id=strategy_id, reason=body.reason
    )


@router.get(ONE, response_model=PromotionStatus)
async def read_request(
    tenant: str, uid: str, strategy_id: str, d: Deps, who: Caller
) -> PromotionStatus:
    return await uc.promotion_status(
        d.ports(), who, tenant_id=tenant, uid=uid, strategy_id=strategy_id
    )


@router.get("/reports/{metrics_hash}", response_model=EligibilityReport)
async def read_report(tenant: str, metrics_hash: str, d: Deps, who: Caller) -> EligibilityReport:
    return await uc.read_report(d.ports(), who, tenant_id=tenant, metrics_hash=metrics_hash)


@router.post(ONE + "/approve", response_model=PromotionStatus)
async def approve(
    tenant: str, uid: str, strategy_id: str, body: ApproveIn, d: Deps, who: Caller
) -> PromotionStatus:
    return await uc.approve(
        d.ports(),
        who,
        tenant_id=tenant,
        uid=uid,
        strategy_id=strategy_id,
        role=body.role,
        metrics_hash=body.metrics_hash,
        comment=body.comment,
        confirmation_token=body.confirmation_token,
    )


@router.post(ONE + "/reject", response_model=PromotionStatus)
async def reject(
    tenant: str, uid: str, strategy_id: str, body: RejectIn, d: Deps, who: Caller
) -> PromotionStatus:
    return await uc.reject(
        d.ports(),
        who,
        tenant_id=tenant,
        uid=uid,
        strategy_id=strategy_id,
        role=body.role,
        comment=body.comment,
    )


@router.post(ONE + "/cancel", response_model=PromotionStatus)
async def cancel(
    tenant: str, uid: str, strategy_id: str, body: CancelIn, d: Deps, who: Caller
) -> PromotionStatus:
    return await uc.cancel(
        d.ports(), who, tenant_id=tenant, uid=uid, strategy_id=strategy_id, reason=body.reason
    )


@router.post(ONE + "/confirmation-tokens", status_code=201, response_model=IssuedToken)
async def confirm_live(
    tenant: str, uid: str, strategy_id: str, d: Deps, who: Caller
) -> IssuedToken:
    """A final authorizer's single-use token for the PAPER -> LIVE request in flight."""
    return await live.confirm_live(
        d.ports(), who, tenant_id=tenant, uid=uid, strategy_id=strategy_id
    )
