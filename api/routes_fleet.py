"""Fleet operations: a tenant's halt and its governed resume, and the platform's halt (thin:
each route calls one use case of `app.fleet`)."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import Caller, Deps
from api.schemas import HaltIn, PlatformResumeIn, ResumeIn
from app import fleet
from governance.fleet_halt import GlobalHalt

router = APIRouter(prefix="/v1", tags=["fleet"])


@router.post("/tenants/{tenant}/halt", status_code=202, response_model=fleet.HaltStarted)
async def halt(tenant: str, body: HaltIn, d: Deps, who: Caller) -> fleet.HaltStarted:
    """Every gate of the tenant closes when this returns; the records follow (202). While
    halted, a second halt is refused with 409 `already_halted`, naming who halted and why."""
    return await fleet.halt_tenant(d.ports(), who, tenant_id=tenant, reason=body.reason)


@router.get("/tenants/{tenant}/halt", response_model=fleet.HaltView)
async def read_halt(tenant: str, d: Deps, who: Caller) -> fleet.HaltView:
    return await fleet.halt_status(d.ports(), who, tenant_id=tenant)


@router.post("/tenants/{tenant}/resume", response_model=fleet.ResumeDone)
async def resume(tenant: str, body: ResumeIn, d: Deps, who: Caller) -> fleet.ResumeDone:
    """One approval of the resume; the last one the policy needs lifts the halt. Asked with
    `unfreeze`, that last one starts the bulk unfreeze (`unfreeze_workflow_id`); its counts
    appear in `GET /v1/tenants/{t}/halt` as `unfreeze` when it is done."""
    return await fleet.resume_tenant(
        d.ports(),
        who,
        tenant_id=tenant,
        role=body.role,
        unfreeze=body.unfreeze,
        comment=body.comment,
    )


@router.post("/platform/halt", status_code=202, response_model=GlobalHalt)
async def halt_platform(body: HaltIn, d: Deps, who: Caller) -> GlobalHalt:
    return await fleet.halt_platform(d.ports(), who, reason=body.reason)


@router.post("/platform/resume", response_model=GlobalHalt)
async def resume_platform(body: PlatformResumeIn, d: Deps, who: Caller) -> GlobalHalt:
    return await fleet.resume_platform(d.ports(), who, reason=body.reason)


@router.get("/tenants/{tenant}/fleet/history", response_model=list[fleet.FleetEntry])
async def fleet_history(tenant: str, d: Deps, who: Caller) -> list[fleet.FleetEntry]:
    """The tenant's halts as one audit story (`stratgate history --fleet`)."""
    return await fleet.fleet_story(d.ports(), who, tenant_id=tenant)
