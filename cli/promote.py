"""Operator and approver commands for promotion requests (talk to Temporal and the store)."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from cli import api_client
from cli.common import Comment, Reason
from cli.report_view import render_report
from cli.temporal import open_client
from cli.workflow_io import emit_json, fail, run
from governance.promotion import promotion_workflow_id
from governance.roles import Role
from governance.stages import Decision, LifecycleStage
from settings import Settings
from store.factory import open_store
from workflows import client as wf
from workflows.promotion_state import ApproveInput, CancelInput, PromotionStatus, RejectInput

app = typer.Typer(help="Promotion requests: request, status, list, cancel.", no_args_is_help=True)
console = Console()

Tenant = Annotated[str, typer.Option("--tenant", help="Tenant id.")]
Uid = Annotated[str, typer.Option("--uid", help="Owner (user id) of the strategy.")]
Strategy = Annotated[str, typer.Option("--strategy", help="Strategy id.")]
Json = Annotated[bool, typer.Option("--json", help="Print JSON.")]
Api = Annotated[
    str | None,
    typer.Option(
        "--api",
        envvar="STRATGATE_API_URL",
        help="Go through the HTTP API (token in STRATGATE_TOKEN).",
    ),
]


@app.command("request")
def request(
    tenant: Tenant,
    uid: Uid,
    strategy: Strategy,
    to: Annotated[LifecycleStage, typer.Option("--to", help="Target stage (one step up).")],
    by: Annotated[str, typer.Option("--by", help="Who requests it.")],
    reason: Reason = "",
    as_json: Json = False,
    api: Api = None,
) -> None:
    """Start a promotion request (a durable workflow)."""
    if api:
        body = {"uid": uid, "strategy_id": strategy, "to_stage": to.value, "reason": reason}
        made_via = run(
            _async(api_client.call, api, "POST", f"/v1/tenants/{tenant}/promotion-requests", body)
        )
        emit_made(made_via, as_json)
        return

    made = run(start_request(tenant, uid, strategy, to, by, reason, Decision.PROMOTE))
    made["to_stage"] = to.value
    emit_made(made, as_json)


async def start_request(
    tenant: str,
    uid: str,
    strategy: str,
    to: LifecycleStage | None,
    by: str,
    reason: str,
    decision: Decision,
) -> dict[str, str]:
    """Start a promotion (to `to`) or an unfreeze (at the strategy's own stage)."""
    settings = Settings.from_env()
    client, queue = await open_client(settings)
    store = open_store(settings)
    try:
        if to is None:
            doc = await store.get_strategy(tenant, uid, strategy)
            to = doc.lifecycle_stage if doc else LifecycleStage.OBSERVE
        made = await wf.request_promotion(
            client,
            store,
            queue,
            tenant_id=tenant,
            uid=uid,
            strategy_id=strategy,
            to_stage=to,
            requested_by=by,
            reason=reason,
            decision=decision,
        )
    finally:
        await store.close()
    return {
        "request_id": made.request_id,
        "workflow_id": promotion_workflow_id(tenant, uid, strategy),
        "decision": decision.value,
    }


def emit_made(made: dict[str, str], as_json: bool) -> None:
    if as_json:
        emit_json(made)
    else:
        console.print(f"request {made['request_id']} started as workflow {made['workflow_id']}")


async def _async(fn: Any, *args: Any) -> Any:
    return fn(*args)


@app.command("status")
def status(tenant: Tenant, uid: Uid, strategy: Strategy, as_json: Json = False) -> None:
    """Phase, window progress, eligibility report, approvals collected and missing."""

    async def go() -> PromotionStatus:
        client, _ = await open_client(Settings.from_env())
        return await wf.promotion_status(client, tenant, uid, strategy)

    current = run(go())
    if as_json:
        emit_json(current.model_dump(mode="json"))
    else:
        render_status(current)


def render_status(s: PromotionStatus) -> None:
    console.print(
        f"[bold]{s.uid}/{s.strategy_id}[/] {s.decision} {s.from_stage} -> {s.to_stage}  "
        f"phase [bold]{s.phase}[/]  requested by {s.requested_by}"
        + (f" ({s.reason})" if s.reason else "")
    )
    if s.status_reason:
        console.print(f"  {s.status_reason}")
    if s.report:
        render_report(console, s.report)
    for a in s.approvals:
        console.print(f"  approved: {a.role} by {a.approved_by} at {a.approved_at:%Y-%m-%d %H:%M}Z")
    if s.missing_roles:
        console.print(f"  missing: {', '.join(s.missing_roles)}")
    for who, why in s.stale_approvals.items():
        console.print(f"  stale: {who}: {why}")
    if s.deadline:
        console.print(f"  deadline {s.deadline:%Y-%m-%d %H:%M}Z")


@app.command("list")
def list_requests(
    tenant: Tenant,
    uid: Annotated[str | None, typer.Option("--uid")] = None,
    strategy: Annotated[str | None, typer.Option("--strategy")] = None,
    as_json: Json = False,
) -> None:
    """Requests of a tenant, newest last, from the store."""

    async def go() -> list[dict[str, object]]:
        store = open_store(Settings.from_env())
        try:
            found = await store.list_requests(tenant, uid, strategy)
        finally:
            await store.close()
        return [r.model_dump(mode="json") for r in found]

    found = run(go())
    if as_json:
        emit_json(found)
        return
    table = Table("request", "strategy", "transition", "status", "by", "requested")
    for r in found:
        table.add_row(
            str(r["request_id"])[:8],
            f"{r['uid']}/{r['strategy_id']}",
            f"{r['from_stage']} -> {r['to_stage']}",
            str(r["status"]),
            str(r["requested_by"]),
            str(r["requested_at"])[:19],
        )
    console.print(table)


@app.command("cancel")
def cancel(
    tenant: Tenant,
    uid: Uid,
    strategy: Strategy,
    as_user: Annotated[str, typer.Option("--as", help="Requester or tenant admin.")],
    reason: Reason = "",
    as_json: Json = False,
) -> None:
    """Cancel the request in flight (by its requester or a tenant admin)."""
    current = _update(tenant, uid, strategy, "cancel", CancelInput(user=as_user, reason=reason))
    _print(current, as_json)


def approve(
    tenant: Tenant,
    uid: Uid,
    strategy: Strategy,
    role: Annotated[Role, typer.Option("--role")],
    as_user: Annotated[
        str | None, typer.Option("--as", help="The approver (not with --api).")
    ] = None,
    comment: Comment = "",
    token: Annotated[
        str | None, typer.Option("--confirmation-token", help="PAPER -> LIVE final authorizers.")
    ] = None,
    as_json: Json = False,
    api: Api = None,
) -> None:
    """Approve the request in flight, on the eligibility report shown here."""
    if api:  # the API takes the approver from the token, never from --as
        one = f"/v1/tenants/{tenant}/strategies/{uid}/{strategy}/promotion"
        shown = PromotionStatus.model_validate(run(_async(api_client.call, api, "GET", one)))
        if not as_json:
            render_status(shown)
        body = {
            "role": role.value,
            "comment": comment,
            "confirmation_token": token,
            "metrics_hash": shown.report.metrics_hash if shown.report else None,
        }
        _print(
            PromotionStatus.model_validate(
                run(_async(api_client.call, api, "POST", one + "/approve", body))
            ),
            as_json,
        )
        return

    async def shown_hash() -> str | None:
        client, _ = await open_client(Settings.from_env())
        current = await wf.promotion_status(client, tenant, uid, strategy)
        if not as_json:
            render_status(current)
        return current.report.metrics_hash if current.report else None

    if not as_user:
        fail("--as: name the approver (or use --api, where your token says who you are)")
    metrics_hash = run(shown_hash())
    inp = ApproveInput(
        approver=as_user,
        role=role,
        metrics_hash=metrics_hash,
        comment=comment,
        confirmation_token=token,
    )
    _print(_update(tenant, uid, strategy, "approve", inp), as_json)


def reject(
    tenant: Tenant,
    uid: Uid,
    strategy: Strategy,
    role: Annotated[Role, typer.Option("--role")],
    as_user: Annotated[
        str | None, typer.Option("--as", help="Who rejects (not with --api).")
    ] = None,
    comment: Comment = "",
    as_json: Json = False,
    api: Api = None,
) -> None:
    """Reject the request in flight."""
    if api:
        one = f"/v1/tenants/{tenant}/strategies/{uid}/{strategy}/promotion/reject"
        body = {"role": role.value, "comment": comment}
        _print(
            PromotionStatus.model_validate(run(_async(api_client.call, api, "POST", one, body))),
            as_json,
        )
        return
    if not as_user:
        fail("--as: name who rejects (or use --api)")
    inp = RejectInput(user=as_user, role=role, comment=comment)
    _print(_update(tenant, uid, strategy, "reject", inp), as_json)


def unfreeze(
    tenant: Tenant,
    uid: Uid,
    strategy: Strategy,
    by: Annotated[str, typer.Option("--by")],
    reason: Reason = "",
    as_json: Json = False,
) -> None:
    """Request an unfreeze: a governed request that needs a risk approver."""

    made = run(start_request(tenant, uid, strategy, None, by, reason, Decision.UNFREEZE))
    if as_json:
        emit_json(made)
    else:
        console.print(f"unfreeze request {made['request_id']} awaits a risk_approver")


def _update(
    tenant: str, uid: str, strategy: str, name: str, inp: ApproveInput | RejectInput | CancelInput
) -> PromotionStatus:
    async def go() -> PromotionStatus:
        client, _ = await open_client(Settings.from_env())
        if isinstance(inp, ApproveInput):
            return await wf.approve(client, tenant, uid, strategy, inp)
        if isinstance(inp, RejectInput):
            return await wf.reject(client, tenant, uid, strategy, inp)
        return await wf.cancel(client, tenant, uid, strategy, inp)

    return run(go())


def _print(current: PromotionStatus, as_json: bool) -> None:
    if as_json:
        emit_json(current.model_dump(mode="json"))
    else:
        render_status(current)
