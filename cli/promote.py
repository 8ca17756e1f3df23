"""Commands for promotion requests: approvals and rejections go through the API as the person
whose token is presented; the rest act as the local operator, through the application layer.

Each command says what it did in one line a person can act on ("approved as risk_approver;
request now FINAL_CHECK"), and `--json` prints the request's status whole.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Annotated, Any

import typer

from app import requests
from cli import api_client
from cli.common import (
    ActAs,
    Comment,
    Json,
    OldBy,
    Reason,
    Strategy,
    Tenant,
    Uid,
    acting,
)
from cli.identity import ApiSession, api_session
from cli.output import out, table
from cli.report_view import render_status
from cli.session import local_operator, local_ports
from cli.workflow_io import emit_json, fail, run
from governance.promotion import Phase
from governance.roles import Role
from governance.stages import Decision, LifecycleStage
from workflows.promotion_state import PromotionStatus

app = typer.Typer(help="Promotion requests: request, status, list, cancel.", no_args_is_help=True)

Api = Annotated[
    str | None,
    typer.Option(
        "--api",
        envvar="STRATGATE_API_URL",
        help="The API to act through (default: the running `stratgate up`'s).",
    ),
]
AsPerson = Annotated[
    str | None,
    typer.Option(
        "--as",
        help="On the demo stack: act with this demo person's token (else STRATGATE_TOKEN).",
    ),
]
Stage = Annotated[
    LifecycleStage,
    typer.Option("--to", case_sensitive=False, help="Target stage, one step up (any case)."),
]
Wait = Annotated[
    bool,
    typer.Option(
        "--wait/--no-wait",
        help="Wait for the request to end, then print its final phase and record id.",
    ),
]
WaitSeconds = Annotated[
    float, typer.Option("--wait-seconds", min=0, help="How long --wait waits at most (seconds).")
]
# How long a command watches for the phase its action leads to (the worker is usually quick).
SETTLE_SECONDS = 10.0


@app.command("request")
def request(
    tenant: Tenant,
    uid: Uid,
    strategy: Strategy,
    to: Stage,
    as_user: ActAs = None,
    by: OldBy = None,
    reason: Reason = "",
    as_json: Json = False,
) -> None:
    """Start a promotion request (a durable workflow); prints the phase it starts in."""
    who = acting(as_user, by)
    made = run(start_request(tenant, uid, strategy, to, who, reason, Decision.PROMOTE))
    report_started(tenant, uid, strategy, made, as_json)


async def start_request(
    tenant: str,
    uid: str,
    strategy: str,
    to: LifecycleStage | None,
    by: str | None,
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


def report_started(
    tenant: str, uid: str, strategy: str, made: dict[str, str], as_json: bool
) -> None:
    """The request's first phase, once the workflow has validated it."""
    current = watch(
        lambda: local_status(tenant, uid, strategy),
        lambda s: s.request_id == made["request_id"] and s.phase != Phase.VALIDATING,
        SETTLE_SECONDS,
    )
    if as_json:
        emit_json({**made, "phase": current.phase, "status": current.model_dump(mode="json")})
        return
    what = "unfreeze" if made["decision"] == Decision.UNFREEZE else "promotion"
    out(
        f"{what} request {made['request_id']} started: {current.from_stage} -> "
        f"{current.to_stage}, now {current.phase}"
        + (f" ({current.status_reason})" if current.status_reason else "")
    )
    out(f"workflow {made['workflow_id']}")


def local_status(tenant: str, uid: str, strategy: str) -> PromotionStatus:
    async def go() -> PromotionStatus:
        async with local_ports() as ports:
            return await requests.promotion_status(
                ports, local_operator(tenant), tenant_id=tenant, uid=uid, strategy_id=strategy
            )

    return run(go())


def watch(
    read: Callable[[], PromotionStatus],
    done: Callable[[PromotionStatus], bool],
    seconds: float,
) -> PromotionStatus:
    """Read the status until `done` or `seconds` pass; the last reading either way."""
    deadline = time.monotonic() + seconds
    current = read()
    while not done(current) and time.monotonic() < deadline:
        time.sleep(0.2)
        current = read()
    return current


@app.command("status")
def status(tenant: Tenant, uid: Uid, strategy: Strategy, as_json: Json = False) -> None:
    """Phase, window progress, each criterion against its threshold, approvals collected and
    missing; an ended request says how it ended."""
    current = local_status(tenant, uid, strategy)
    if as_json:
        emit_json(current.model_dump(mode="json"))
    else:
        render_status(current)


@app.command("list")
def list_requests(
    tenant: Tenant,
    uid: Annotated[str | None, typer.Option("--uid", help="Only this owner's requests.")] = None,
    strategy: Annotated[
        str | None, typer.Option("--strategy", help="Only this strategy's requests.")
    ] = None,
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
    table(
        ["request", "strategy", "transition", "status", "by", "requested"],
        [
            [
                str(r["request_id"])[:8],
                f"{r['uid']}/{r['strategy_id']}",
                f"{r['from_stage']} -> {r['to_stage']}",
                str(r["status"]),
                str(r["requested_by"]),
                str(r["requested_at"])[:16].replace("T", " "),
            ]
            for r in found
        ],
    )


@app.command("cancel")
def cancel(
    tenant: Tenant,
    uid: Uid,
    strategy: Strategy,
    as_user: Annotated[
        str | None, typer.Option("--as", help="Who cancels: the requester or a tenant admin.")
    ] = None,
    by: OldBy = None,
    reason: Reason = "",
    as_json: Json = False,
) -> None:
    """Cancel the request in flight (by its requester or a tenant admin), as a local operator."""
    who = acting(as_user, by)

    async def go() -> PromotionStatus:
        async with local_ports() as ports:
            return await requests.cancel(
                ports,
                local_operator(tenant, who),
                tenant_id=tenant,
                uid=uid,
                strategy_id=strategy,
                reason=reason,
            )

    accepted = run(go())
    current = watch(
        lambda: local_status(tenant, uid, strategy),
        lambda s: s.request_id != accepted.request_id or s.phase.terminal,
        SETTLE_SECONDS,
    )
    if as_json:
        emit_json(current.model_dump(mode="json"))
        return
    out(
        f"cancelled request {accepted.request_id} ({accepted.from_stage} -> "
        f"{accepted.to_stage}); request now {current.phase}"
    )


def approve(
    tenant: Tenant,
    uid: Uid,
    strategy: Strategy,
    role: Annotated[
        Role, typer.Option("--role", case_sensitive=False, help="The role you sign in.")
    ],
    as_user: AsPerson = None,
    comment: Comment = "",
    token: Annotated[
        str | None, typer.Option("--confirmation-token", help="PAPER -> LIVE final authorizers.")
    ] = None,
    wait: Wait = False,
    wait_seconds: WaitSeconds = 120.0,
    as_json: Json = False,
    api: Api = None,
) -> None:
    """Approve the request in flight, on the eligibility report shown here.

    Through the API, as the person whose token is presented: the API signs the approval for
    them, so nobody approves under another's name.
    """
    session = run(as_coroutine(api_session, api, as_user))
    one = f"/v1/tenants/{tenant}/strategies/{uid}/{strategy}/promotion"
    shown = api_status(session, one)
    if not as_json:
        render_status(shown)
    if shown.phase.terminal:
        fail(
            f"request {shown.request_id} ended {shown.phase}: "
            f"{shown.status_reason or 'no reason given'}; nothing to approve",
            refusal="request_ended",
            field="strategy_id",
        )
    body = {
        "role": role.value,
        "comment": comment,
        "confirmation_token": token,
        "metrics_hash": shown.report.metrics_hash if shown.report else None,
    }
    done = PromotionStatus.model_validate(
        run(as_coroutine(call_api, session, "POST", one + "/approve", body))
    )
    final = _wait_for_end(session, one, done, wait_seconds) if wait else None
    if as_json:
        emit_json((final or done).model_dump(mode="json"))
        return
    # Complete, the request moves to its final check at once (the workflow's next step).
    if done.missing_roles:
        out(
            f"approved as {role.value}; request still {done.phase}, missing "
            f"{', '.join(done.missing_roles)}"
        )
    else:
        out(f"approved as {role.value}; request now {Phase.FINAL_CHECK}")
    if final is not None:
        _say_final(final)


def _wait_for_end(
    session: ApiSession, path: str, after: PromotionStatus, seconds: float
) -> PromotionStatus:
    return watch(
        lambda: api_status(session, path),
        lambda s: s.request_id != after.request_id or s.phase.terminal,
        seconds,
    )


def _say_final(final: PromotionStatus) -> None:
    if not final.phase.terminal:
        out(f"still {final.phase} after waiting: {final.status_reason or ''}".rstrip(": "))
        return
    record = f", record {final.record_id}" if final.record_id else ""
    out(f"final phase {final.phase}{record}: {final.status_reason or ''}".rstrip(": "))


def api_status(session: ApiSession, path: str) -> PromotionStatus:
    return PromotionStatus.model_validate(run(as_coroutine(call_api, session, "GET", path, None)))


def reject(
    tenant: Tenant,
    uid: Uid,
    strategy: Strategy,
    role: Annotated[
        Role, typer.Option("--role", case_sensitive=False, help="The role you reject in.")
    ],
    as_user: AsPerson = None,
    comment: Comment = "",
    as_json: Json = False,
    api: Api = None,
) -> None:
    """Reject the request in flight, through the API, as the person whose token is presented."""
    session = run(as_coroutine(api_session, api, as_user))
    one = f"/v1/tenants/{tenant}/strategies/{uid}/{strategy}/promotion"
    body = {"role": role.value, "comment": comment}
    done = PromotionStatus.model_validate(
        run(as_coroutine(call_api, session, "POST", one + "/reject", body))
    )
    current = _wait_for_end(session, one, done, SETTLE_SECONDS)
    if as_json:
        emit_json(current.model_dump(mode="json"))
    else:
        out(f"rejected as {role.value}; request now {current.phase}")


def call_api(session: ApiSession, method: str, path: str, body: dict[str, Any] | None) -> Any:
    return api_client.call(session.base_url, method, path, body, token=session.token)


async def as_coroutine(fn: Any, *args: Any) -> Any:
    return fn(*args)


def unfreeze(
    tenant: Tenant,
    uid: Uid,
    strategy: Strategy,
    as_user: ActAs = None,
    by: OldBy = None,
    reason: Reason = "",
    as_json: Json = False,
) -> None:
    """Request an unfreeze: a governed request that needs a risk approver."""
    who = acting(as_user, by)
    made = run(start_request(tenant, uid, strategy, None, who, reason, Decision.UNFREEZE))
    report_started(tenant, uid, strategy, made, as_json)
