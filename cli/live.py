"""`stratgate live confirm`: a single-use, minutes-long token for a final step to LIVE; `stratgate
live renew`: a governed renewal of a LIVE enablement before it lapses."""

from __future__ import annotations

from typing import Annotated

import typer

from cli.common import Reason
from cli.identity import api_session
from cli.promote import (
    Api,
    AsUser,
    Json,
    Strategy,
    Tenant,
    Uid,
    as_coroutine,
    call_api,
    emit_made,
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
    as_user: AsUser = None,
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
    by: Annotated[str, typer.Option("--by", help="Who requests the renewal.")],
    reason: Reason = "",
    as_json: Json = False,
) -> None:
    """Request a renewal of a LIVE strategy's time-bounded enablement.

    The same governance as PAPER -> LIVE: risk and ops sign-off, then two distinct final
    authorizers, each with a `live confirm` token; no stability window is measured.
    """
    # One start path for every request: the same checks as `promote request`.
    made = run(
        start_request(tenant, uid, strategy, LifecycleStage.LIVE, by, reason, Decision.PROMOTE)
    )
    made["to_stage"] = LifecycleStage.LIVE.value
    emit_made(made, as_json)
