"""Commands for promotion requests: approvals and rejections go through the API as the person
whose token is presented; the rest act as the local operator, through the application layer."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from app import requests
from cli import api_client
from cli.common import Comment, Reason
from cli.identity import ApiSession, api_session
from cli.report_view import render_report
from cli.session import local_operator, local_ports
from cli.workflow_io import emit_json, run
from governance.roles import Role
from governance.stages import Decision, LifecycleStage
from workflows.promotion_state import PromotionStatus

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
        help="The API to act through (default: the running `stratgate up`'s).",
    ),
]
AsUser = Annotated[
    str | None,
    typer.Option(
        "--as",
        help="On the demo stack: act with this demo person's token (else STRATGATE_TOKEN).",
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
            as_coroutine(
                api_client.call, api, "POST", f"/v1/tenants/{tenant}/promotion-requests", body
            )
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
    """A promotion (to `to`) or an unfreeze (at the strategy's own stage), as a local operator."""
    who = local_operator(tenant, by)
    async with local_ports() as ports:
        if decision == Decision.UNFREEZE:
            made = await requests.request_unfreeze(
                ports, who, tenant_id=tenant, uid=uid, strategy_id=strategy, reason=reason
            )
        else:
            assert to is not None
            made = await requests.request_promotion(
                ports,
                who,
                tenant_id=tenant,
                uid=uid,
                strategy_id=strategy,
                to_stage=to,
                reason=reason,
            )
    return {**made.model_dump(), "decision": decision.value}


def emit_made(made: dict[str, str], as_json: bool) -> None:
    if as_json:
        emit_json(made)
    else:
        console.print(f"request {made['request_id']} started as workflow {made['workflow_id']}")


async def as_coroutine(fn: Any, *args: Any) -> Any:
    return fn(*args)


@app.command("status")
def status(tenant: Tenant, uid: Uid, strategy: Strategy, as_json: Json = False) -> None:
    """Phase, window progress, eligibility report, approvals collected and missing."""

    async def go() -> PromotionStatus:
        async with local_ports() as ports:
            return await requests.promotion_status(
                ports, local_operator(tenant), tenant_id=tenant, uid=uid, strategy_id=strategy
            )

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
        async with local_ports(temporal=False) as ports:
            found = await requests.list_requests(
                ports, local_operator(tenant), tenant_id=tenant, uid=uid, strategy_id=strategy
            )
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
    """Cancel the request in flight (by its requester or a tenant admin), as a local operator."""

    async def go() -> PromotionStatus:
        async with local_ports() as ports:
            return await requests.cancel(
                ports,
                local_operator(tenant, as_user),
                tenant_id=tenant,
                uid=uid,
                strategy_id=strategy,
                reason=reason,
            )

    _print(run(go()), as_json)


def approve(
    tenant: Tenant,
    uid: Uid,
    strategy: Strategy,
    role: Annotated[Role, typer.Option("--role", help="The role you sign in.")],
    as_user: AsUser = None,
    comment: Comment = "",
    token: Annotated[
        str | None, typer.Option("--confirmation-token", help="PAPER -> LIVE final authorizers.")
    ] = None,
    as_json: Json = False,
    api: Api = None,
) -> None:
    """Approve the request in flight, on the eligibility report shown here.

    Through the API, as the person whose token is presented: the API signs the approval for
    them, so nobody approves under another's name.
    """
    session = run(as_coroutine(api_session, api, as_user))
    one = f"/v1/tenants/{tenant}/strategies/{uid}/{strategy}/promotion"
    shown = PromotionStatus.model_validate(run(as_coroutine(call_api, session, "GET", one, None)))
    if not as_json:
        render_status(shown)
    body = {
        "role": role.value,
        "comment": comment,
        "confirmation_token": token,
        "metrics_hash": shown.report.metrics_hash if shown.report else None,
    }
    done = run(as_coroutine(call_api, session, "POST", one + "/approve", body))
    _print(PromotionStatus.model_validate(done), as_json)


def reject(
    tenant: Tenant,
    uid: Uid,
    strategy: Strategy,
    role: Annotated[Role, typer.Option("--role", help="The role you reject in.")],
    as_user: AsUser = None,
    comment: Comment = "",
    as_json: Json = False,
    api: Api = None,
) -> None:
    """Reject the request in flight, through the API, as the person whose token is presented."""
    session = run(as_coroutine(api_session, api, as_user))
    one = f"/v1/tenants/{tenant}/strategies/{uid}/{strategy}/promotion/reject"
    body = {"role": role.value, "comment": comment}
    _print(
        PromotionStatus.model_validate(run(as_coroutine(call_api, session, "POST", one, body))),
        as_json,
    )


def call_api(session: ApiSession, method: str, path: str, body: dict[str, Any] | None) -> Any:
    return api_client.call(session.base_url, method, path, body, token=session.token)


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


def _print(current: PromotionStatus, as_json: bool) -> None:
    if as_json:
        emit_json(current.model_dump(mode="json"))
    else:
        render_status(current)
