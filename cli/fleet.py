"""`stratgate halt` and `stratgate resume`: a tenant's halt and its governed resume, locally
(as the local operator) or through the API (`--api`, your token in STRATGATE_TOKEN)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Annotated, Any

import typer

from app import fleet
from cli import api_client
from cli.common import Json, Tenant
from cli.output import out, table
from cli.session import local_operator, local_ports
from cli.workflow_io import emit_json, fail, run
from governance.roles import Role

Api = Annotated[
    str | None,
    typer.Option(
        "--api",
        envvar="STRATGATE_API_URL",
        help="Go through the HTTP API (token in STRATGATE_TOKEN).",
    ),
]


def halt(
    tenant: Tenant,
    reason: Annotated[
        str, typer.Option("--reason", help="Why (recorded, shown by the gate).")
    ] = "",
    drill: Annotated[
        bool,
        typer.Option("--drill", help="A drill: halt, wait for every record, report the timings."),
    ] = False,
    wait_seconds: Annotated[
        float, typer.Option("--wait-seconds", min=0, help="How long --drill waits.")
    ] = 120.0,
    as_json: Json = False,
    api: Api = None,
) -> None:
    """Halt every strategy of the tenant now: every gate answers NO_EXECUTION, then each
    strategy is moved to the policy's halt posture with its own record."""
    why = reason or ("halt drill (self-assessment)" if drill else "")
    if len(why) < 3:
        fail("reason: say why the tenant is halted (--reason, 3 characters at least)")
    if api:
        answer = run(_call(api, "POST", f"/v1/tenants/{tenant}/halt", {"reason": why}))
        started = fleet.HaltStarted.model_validate(answer)
    else:
        started = run(_halt_locally(tenant, why))
    view = _wait_for(api, tenant, wait_seconds, lambda v: v.completed) if drill else None
    if as_json:
        emit_json(
            {
                "halt": started.model_dump(mode="json"),
                "completed": view.completed.model_dump(mode="json")
                if view and view.completed
                else None,
            }
        )
        return
    h = started.halt
    out(
        f"tenant {tenant} halted by {h.halted_by} ({h.reason}): every gate closed in "
        f"{started.gate_closed_seconds:.3f} s"
    )
    out(
        f"records follow in workflow {started.workflow_id} "
        f"(posture {h.posture}{', frozen' if h.freeze else ''})"
    )
    if drill:
        done = view.completed if view else None
        if done is None:
            out(
                f"not complete after {wait_seconds:g} s: see "
                f"`stratgate history --tenant {tenant} --fleet`"
            )
        else:
            out(
                f"drill: gate closed {done.gate_closed_seconds:.3f} s, last record "
                f"{done.last_record_seconds:.3f} s after the call; {done.records} records for "
                f"{done.strategies} strategies, {done.skipped} skipped"
            )
    roles = " and ".join(h.resume_roles)
    out(f"resume: `stratgate resume --tenant {tenant} --api` by {roles} (not {h.halted_by})")


async def _halt_locally(tenant: str, reason: str) -> fleet.HaltStarted:
    async with local_ports() as ports:
        return await fleet.halt_tenant(
            ports, local_operator(tenant), tenant_id=tenant, reason=reason
        )


def _wait_for(
    api: str | None, tenant: str, seconds: float, done: Callable[[fleet.HaltView], object]
) -> fleet.HaltView:
    """The halt's view once `done(view)` holds, or as it stands after `seconds`."""
    deadline = time.monotonic() + seconds
    while True:
        view = run(_view(api, tenant))
        if done(view) is not None or time.monotonic() > deadline:
            return view
        time.sleep(0.2)


async def _view(api: str | None, tenant: str) -> fleet.HaltView:
    if api:
        return fleet.HaltView.model_validate(
            api_client.call(api, "GET", f"/v1/tenants/{tenant}/halt")
        )
    async with local_ports(temporal=False) as ports:
        return await fleet.halt_status(ports, local_operator(tenant), tenant_id=tenant)


def resume(
    tenant: Tenant,
    unfreeze: Annotated[
        bool,
        typer.Option(
            "--unfreeze", help="Also unfreeze every strategy the halt froze (a record each)."
        ),
    ] = False,
    role: Annotated[
        Role | None,
        typer.Option(
            "--role", case_sensitive=False, help="The role you approve in (default: one needed)."
        ),
    ] = None,
    comment: Annotated[str, typer.Option("--comment", help="Why it may resume.")] = "",
    wait_seconds: Annotated[
        float,
        typer.Option("--wait-seconds", min=0, help="How long to wait for the bulk unfreeze."),
    ] = 120.0,
    as_json: Json = False,
    api: Api = None,
) -> None:
    """Approve the resume of a halted tenant; the last approval the policy needs lifts it
    (and, asked with --unfreeze, starts the bulk unfreeze, whose counts this waits for)."""
    body: dict[str, Any] = {
        "role": role.value if role else None,
        "unfreeze": unfreeze,
        "comment": comment,
    }
    if api:
        done = fleet.ResumeDone.model_validate(
            run(_call(api, "POST", f"/v1/tenants/{tenant}/resume", body))
        )
    else:
        done = run(_resume_locally(tenant, role, unfreeze, comment))
    unfrozen = None
    if done.unfreeze_workflow_id:
        unfrozen = _wait_for(api, tenant, wait_seconds, lambda v: v.unfreeze).unfreeze
    if as_json:
        emit_json(
            {
                **done.model_dump(mode="json"),
                "unfreeze": unfrozen.model_dump(mode="json") if unfrozen else None,
            }
        )
        return
    a, h = done.step.approval, done.step.halt
    out(f"resume of {tenant} approved by {a.user} as {a.role}")
    if not done.step.lifted:
        missing = (
            ", ".join(r for r in h.resume_roles if r not in [x.role for x in h.approvals]) or "-"
        )
        out(f"still halted: waiting for {missing}")
        return
    out(f"halt {h.halt_id} lifted by {h.resumed_by}: gates follow each strategy's own state again")
    if done.unfreeze_workflow_id is None:
        return
    if unfrozen is None:
        out(
            f"unfreeze runs in workflow {done.unfreeze_workflow_id}, not complete after "
            f"{wait_seconds:g} s: see `stratgate history --tenant {tenant} --fleet`"
        )
    else:
        out(
            f"unfrozen: {unfrozen.records} strategies, {unfrozen.skipped} skipped, last record "
            f"{unfrozen.last_record_seconds:.3f} s after the resume"
            + (" (a new halt superseded it)" if unfrozen.superseded else "")
        )


async def _resume_locally(
    tenant: str, role: Role | None, unfreeze: bool, comment: str
) -> fleet.ResumeDone:
    async with local_ports(temporal=False) as ports:
        return await fleet.resume_tenant(
            ports,
            local_operator(tenant),
            tenant_id=tenant,
            role=role,
            unfreeze=unfreeze,
            comment=comment,
        )


def fleet_history(tenant: str, api: str | None, as_json: bool) -> None:
    """`stratgate history --tenant T --fleet`: the tenant's halts as one audit story."""
    if api:
        raw = api_client.call(api, "GET", f"/v1/tenants/{tenant}/fleet/history")
        entries = [fleet.FleetEntry.model_validate(e) for e in raw]
    else:
        entries = run(_story(tenant))
    if as_json:
        emit_json([e.model_dump(mode="json") for e in entries])
        return
    table(
        ["when (UTC)", "what", "who", "why"],
        [[e.at.isoformat()[:19].replace("T", " "), e.what, e.who, e.why] for e in entries],
        title=f"{tenant}: halts and resumes",
    )


async def _story(tenant: str) -> list[fleet.FleetEntry]:
    async with local_ports(temporal=False) as ports:
        return await fleet.fleet_story(ports, local_operator(tenant), tenant_id=tenant)


async def _call(base: str, method: str, path: str, body: dict[str, Any]) -> Any:
    return api_client.call(base, method, path, body)
