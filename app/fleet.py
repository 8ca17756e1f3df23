"""Fleet operations: halt a tenant (or the platform) at once, resume it under approvals.

The halt document is stored first (every gate of the tenant closes with that one write), then
the fleet halt workflow puts the halt on record, strategy by strategy. A resume is an approval;
the last one the policy needs lifts the halt and, if asked, unfreezes what the halt froze.
"""

from __future__ import annotations

import contextlib
import time
import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel
from temporalio.common import WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError

from app.ports import Ports
from governance.errors import UnknownTenant
from governance.fleet_events import (
    HaltTimings,
    UnfreezeTimings,
    completed_id,
    halted_event,
    unfrozen_id,
)
from governance.fleet_halt import (
    AlreadyHalted,
    GlobalHalt,
    NotHalted,
    ResumeAsk,
    ResumeRefused,
    ResumeStep,
    TenantHalt,
    global_halt_of,
    global_status,
    halt_policy_of,
    new_halt,
)
from governance.identity import Forbidden, Principal, TokenKind, require_person, require_tenant
from governance.platform_halt import platform_events
from governance.roles import Role
from workflows import search_attributes as sa
from workflows.fleet_halt import FleetHaltInput, FleetHaltWorkflow, fleet_halt_workflow_id
from workflows.fleet_unfreeze import (
    FleetUnfreezeInput,
    FleetUnfreezeWorkflow,
    fleet_unfreeze_workflow_id,
)
from workflows.queues import risk_task_queue

MAY_HALT = (Role.RISK_APPROVER, Role.OPS_APPROVER, Role.ADMIN)


class HaltStarted(BaseModel):
    halt: TenantHalt
    workflow_id: str
    # From the call to the halt document stored: every gate of the tenant closed then.
    gate_closed_seconds: float


class HaltView(BaseModel):
    tenant_id: str
    halt: TenantHalt | None
    platform: GlobalHalt | None
    # The figures of the tenant's current (or last) halt, once its records are all in.
    completed: HaltTimings | None = None
    # The resume's bulk unfreeze of that halt, once its records are all in.
    unfreeze: UnfreezeTimings | None = None


class FleetEntry(BaseModel):
    """One line of the tenant's fleet story (halts, their timings, resume approvals)."""

    at: datetime
    what: str
    who: str
    why: str
    halt_id: str | None = None


class ResumeDone(BaseModel):
    step: ResumeStep
    # The workflow unfreezing what the halt froze (when the last approval lifted a halt asked
    # with unfreeze); its counts land in the halt's view (`HaltView.unfreeze`) when done.
    unfreeze_workflow_id: str | None = None


async def _may_halt(ports: Ports, who: Principal, tenant_id: str) -> None:
    require_tenant(who, tenant_id)
    if who.kind == TokenKind.SERVICE:
        return  # the tenant's own risk system may pull the switch
    roles = await ports.store.get_approver_roles(tenant_id, who.subject) or []
    if who.authenticated_person and not set(roles) & set(MAY_HALT):
        raise Forbidden(
            "a halt needs a service token of the tenant, or a risk_approver, ops_approver or "
            "admin of it",
            field="authorization",
        )


async def _known_tenant(ports: Ports, tenant_id: str) -> None:
    if await ports.store.get_policy(tenant_id) is not None:
        return
    if not (await ports.store.list_strategy_page(tenant_id, None, 1)).strategies:
        raise UnknownTenant(tenant_id)


async def halt_tenant(ports: Ports, who: Principal, *, tenant_id: str, reason: str) -> HaltStarted:
    """Close every gate of the tenant now, then start the workflow that records it. A second
    halt while one is active is refused naming it (409), after making sure its workflow runs."""
    await _may_halt(ports, who, tenant_id)
    await _known_tenant(ports, tenant_id)
    started = time.monotonic()
    store = ports.store
    current = await store.get_tenant_halt(tenant_id)
    policy = await store.get_policy(tenant_id)
    try:
        halt = new_halt(
            halt_id=uuid.uuid4().hex,
            tenant_id=tenant_id,
            by=who.subject,
            via=who.via.value,
            reason=reason,
            at=ports.now(),
            policy=halt_policy_of(policy.fleet_halt if policy else None),
            current=current,
        )
        stored = await store.start_tenant_halt(halt, halted_event(halt))
    except AlreadyHalted:
        if current is not None and current.active:
            await _start_workflow(ports, current, 0.0)  # a halt whose workflow never started
        raise
    gate_closed = time.monotonic() - started
    workflow_id = await _start_workflow(ports, stored, gate_closed)
    return HaltStarted(halt=stored, workflow_id=workflow_id, gate_closed_seconds=gate_closed)


async def _start_workflow(ports: Ports, halt: TenantHalt, gate_closed: float) -> str:
    workflow_id = fleet_halt_workflow_id(halt.tenant_id, halt.halt_id)
    # Started (or finished) already: one workflow per halt.
    with contextlib.suppress(WorkflowAlreadyStartedError):
        await ports.temporal().start_workflow(
            FleetHaltWorkflow.run,
            FleetHaltInput(
                tenant_id=halt.tenant_id, halt_id=halt.halt_id, gate_closed_seconds=gate_closed
            ),
            id=workflow_id,
            task_queue=risk_task_queue(ports.task_queue),
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            search_attributes=sa.for_tenant(halt.tenant_id),
            static_summary=f"halt of {halt.tenant_id} by {halt.halted_by}: {halt.reason}"[:200],
        )
    return workflow_id


async def halt_status(ports: Ports, who: Principal, *, tenant_id: str) -> HaltView:
    require_tenant(who, tenant_id)
    await _known_tenant(ports, tenant_id)
    halt = await ports.store.get_tenant_halt(tenant_id)
    platform = global_halt_of(await ports.store.get_system_status())
    done = await ports.store.get_audit_event(tenant_id, completed_id(halt)) if halt else None
    completed = HaltTimings.model_validate(done.details) if done else None
    unfrozen = await ports.store.get_audit_event(tenant_id, unfrozen_id(halt)) if halt else None
    return HaltView(
        tenant_id=tenant_id,
        halt=halt,
        platform=platform,
        completed=completed,
        unfreeze=UnfreezeTimings.model_validate(unfrozen.details) if unfrozen else None,
    )


FLEET_EVENTS = ("tenant.", "platform.")


async def fleet_story(ports: Ports, who: Principal, *, tenant_id: str) -> list[FleetEntry]:
    """The tenant's halts as one audit story: who halted and why, how long to every gate
    closed and to the last record, each resume approval, the resume, the bulk unfreeze."""
    require_tenant(who, tenant_id)
    await _known_tenant(ports, tenant_id)
    entries = []
    for event in await ports.store.list_audit_events(tenant_id):
        if not event.event_type.startswith(FLEET_EVENTS):
            continue
        d = event.details
        entries.append(
            FleetEntry(
                at=event.ts,
                what=_what(event.event_type, d),
                who=str(d.get("by") or ""),
                why=str(d.get("reason") or d.get("comment") or ""),
                halt_id=str(d.get("halt_id")) if d.get("halt_id") else None,
            )
        )
    return entries


def _what(kind: str, d: dict[str, object]) -> str:
    if kind == "tenant.halt_completed":
        return (
            f"{kind}: gate closed in {float(str(d.get('gate_closed_seconds', 0))):.3f} s, "
            f"last record at {float(str(d.get('last_record_seconds', 0))):.3f} s, "
            f"{d.get('records')} records for {d.get('strategies')} strategies, "
            f"{d.get('skipped')} skipped"
        )
    if kind == "tenant.resume_approved":
        return f"{kind} as {d.get('role')}" + (" (with unfreeze)" if d.get("unfreeze") else "")
    if kind == "tenant.halted":
        return f"{kind}: posture {d.get('posture')}" + (" frozen" if d.get("freeze") else "")
    if kind == "tenant.unfreeze_completed":
        return (
            f"{kind}: {d.get('records')} unfrozen, {d.get('skipped')} skipped, "
            f"last record at {float(str(d.get('last_record_seconds', 0))):.3f} s"
            + (" (superseded by a new halt)" if d.get("superseded") else "")
        )
    return kind


async def resume_tenant(
    ports: Ports,
    who: Principal,
    *,
    tenant_id: str,
    role: Role | None = None,
    unfreeze: bool = False,
    comment: str = "",
) -> ResumeDone:
    """One approval of the resume, by an authenticated person; the last one needed lifts the
    halt (and, with `unfreeze`, unfreezes every strategy the halt froze, a record each)."""
    require_tenant(who, tenant_id)
    require_person(who)
    await _known_tenant(ports, tenant_id)
    if not who.authenticated_person:
        raise ResumeRefused(
            "a resume is approved by a person authenticated by the API: use the API or the "
            "CLI with your token (--api, STRATGATE_TOKEN)",
            field="authorization",
        )
    roles = await ports.store.get_approver_roles(tenant_id, who.subject) or []
    ask = ResumeAsk(
        tenant_id=tenant_id,
        user=who.subject,
        roles=roles,
        role=role,
        at=ports.now(),
        unfreeze=unfreeze,
        comment=comment,
    )
    try:
        step = await ports.store.approve_resume(ask)
    except NotHalted:
        # Lifted already: if by an unfreeze whose workflow never started (the caller died
        # between the lift and the start), start it now; a retry of the last approval lands here.
        await _resume_unfreeze(ports, await ports.store.get_tenant_halt(tenant_id))
        raise
    if not (step.lifted and step.halt.unfreeze):
        return ResumeDone(step=step)
    return ResumeDone(step=step, unfreeze_workflow_id=await _resume_unfreeze(ports, step.halt))


async def _resume_unfreeze(ports: Ports, halt: TenantHalt | None) -> str | None:
    """Start (once per halt) the workflow that unfreezes what a lifted halt froze."""
    if halt is None or halt.active or not halt.unfreeze:
        return None
    if await ports.store.get_audit_event(halt.tenant_id, unfrozen_id(halt)) is not None:
        return None  # done already
    workflow_id = fleet_unfreeze_workflow_id(halt.tenant_id, halt.halt_id)
    with contextlib.suppress(WorkflowAlreadyStartedError):
        await ports.temporal().start_workflow(
            FleetUnfreezeWorkflow.run,
            FleetUnfreezeInput(tenant_id=halt.tenant_id, halt_id=halt.halt_id),
            id=workflow_id,
            task_queue=risk_task_queue(ports.task_queue),
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            search_attributes=sa.for_tenant(halt.tenant_id),
            static_summary=f"unfreeze after the resume of {halt.tenant_id} by {halt.resumed_by}",
        )
    return workflow_id


# -- the platform's halt ------------------------------------------------------------------
async def _platform_admin(ports: Ports, who: Principal) -> None:
    require_person(who)
    roles = await ports.store.get_approver_roles(who.tenant_id, who.subject) or []
    if who.authenticated_person and Role.ADMIN not in roles:
        raise Forbidden("the platform's halt needs an admin", field="authorization")


async def halt_platform(ports: Ports, who: Principal, *, reason: str) -> GlobalHalt:
    """`systemStatus/config.execution_halted`: every gate of every tenant closes. The switch
    first, then `platform.halted` in the admin's tenant (a retry lands it, once)."""
    await _platform_admin(ports, who)
    status = await ports.store.get_system_status()
    current = global_halt_of(status)
    if current is not None and current.engaged:
        await _record_platform(ports, status)
        raise AlreadyHalted(f"the platform is already {current.describe()}", field="platform")
    at = ports.now()
    status = global_status(
        status, engaged=True, by=who.subject, reason=reason, at=at, tenant_id=who.tenant_id
    )
    await ports.store.put_system_status(status)
    await _record_platform(ports, status)
    return GlobalHalt(
        engaged=True, halted_by=who.subject, reason=reason, halted_at=at, tenant_id=who.tenant_id
    )


async def resume_platform(ports: Ports, who: Principal, *, reason: str = "") -> GlobalHalt:
    """Lifted by an admin other than the one who halted (a second person); then
    `platform.resumed` in that admin's tenant."""
    await _platform_admin(ports, who)
    status = await ports.store.get_system_status()
    current = global_halt_of(status)
    if current is not None and not current.engaged:
        await _record_platform(ports, status)
        raise NotHalted("the platform is not halted", field="platform")
    if current is not None and current.halted_by == who.subject:
        raise ResumeRefused(f"{who.subject} halted the platform and may not lift it", field="user")
    status = global_status(
        status,
        engaged=False,
        by=who.subject,
        reason=reason,
        at=ports.now(),
        tenant_id=who.tenant_id,
    )
    await ports.store.put_system_status(status)
    await _record_platform(ports, status)
    return GlobalHalt(engaged=False)


async def _record_platform(ports: Ports, status: dict[str, Any]) -> None:
    """The audit events the stored switch implies; each one already there is left as it is."""
    for event in platform_events(status):
        await ports.store.append_audit_event(event)
