"""`stratgate live confirm`: a single-use, minutes-long token for a final step to LIVE; `stratgate
live renew`: a governed renewal of a LIVE enablement before it lapses."""

from __future__ import annotations

import typer

from cli.common import ActAs, Json, OldBy, Reason, Strategy, Tenant, Uid, acting
from cli.identity import api_session
from cli.promote import (
    Api,
    AsPerson,
    as_coroutine,
    call_api,
    report_started,
    start_request,
)
from cli.workflow_io import emit_json, run
from governance.stages import Decision, LifecycleStage

app = typer.Typer(help="LIVE controls.", no_args_is_help=True)


@app.command("confirm")
def confirm(
    tenant: Tenant,
    uid: Uid,
    strategy: Strategy,
    as_user: AsPerson = None,
    api: Api = None,
    as_json: Json = False,
) -> None:
    """Issue yourself (a final authorizer) a confirmation token for the PAPER -> LIVE request in
    flight, through the API as the person whose token is presented."""
    session = run(as_coroutine(api_session, api, as_user))
    path = f"/v1/tenants/{tenant}/strategies/{uid}/{strategy}/promotion/confirmation-tokens"
    issued = run(as_coroutine(call_api, session, "POST", path, {}))
    if as_json:
        emit_json(issued)
    else:
        typer.echo(
            f"confirmation token for {issued['user']} (single use, expires "
            f"{issued['expires_at']}):\n{issued['token']}"
        )


@app.command("renew")
def renew(
    tenant: Tenant,
    uid: Uid,
    strategy: Strategy,
    as_user: ActAs = None,
    by: OldBy = None,
    reason: Reason = "",
    as_json: Json = False,
) -> None:
    """Request a renewal of a LIVE strategy's time-bounded enablement.

    The same governance as PAPER -> LIVE: risk and ops sign-off, then two distinct final
    authorizers, each with a `live confirm` token; no stability window is measured.
    """
    # One start path for every request: the same checks as `promote request`.
    who = acting(as_user, by)
    made = run(
        start_request(tenant, uid, strategy, LifecycleStage.LIVE, who, reason, Decision.PROMOTE)
    )
    report_started(tenant, uid, strategy, made, as_json)
