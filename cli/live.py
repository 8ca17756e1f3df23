"""`stratgate live confirm`: a single-use, minutes-long token for a final step to LIVE; `stratgate
live renew`: a governed renewal of a LIVE enablement before it lapses."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from typing import Annotated

import typer

from cli.common import Reason
from cli.promote import Json, Strategy, Tenant, Uid, emit_made, start_request
from cli.temporal import open_client
from cli.workflow_io import emit_json, run
from governance.errors import GovernanceError
from governance.live import issue
from governance.roles import Role
from governance.stages import Decision, LifecycleStage
from settings import Settings
from store.factory import open_store
from workflows import client as wf

app = typer.Typer(help="LIVE controls.", no_args_is_help=True)


@app.command("confirm")
def confirm(
    tenant: Tenant,
    uid: Uid,
    strategy: Strategy,
    as_user: Annotated[str, typer.Option("--as", help="A final authorizer.")],
    as_json: Json = False,
) -> None:
    """Issue a confirmation token to a final authorizer for the PAPER -> LIVE request in flight."""

    async def go() -> dict[str, str]:
        settings = Settings.from_env()
        client, _ = await open_client(settings)
        current = await wf.promotion_status(client, tenant, uid, strategy)
        if current.to_stage != LifecycleStage.LIVE:
            raise GovernanceError("the request in flight does not enable LIVE", field="strategy")
        store = open_store(settings)
        try:
            roles = await store.get_approver_roles(tenant, as_user) or []
            if Role.FINAL_AUTHORIZER not in roles:
                raise GovernanceError(f"{as_user} is not a final_authorizer", field="as")
            policy = await store.get_policy(tenant)
            ttl = policy.live_controls.confirmation_token_ttl_seconds if policy else 300
            token = secrets.token_urlsafe(24)
            stored = issue(
                token=token,
                tenant_id=tenant,
                request_id=current.request_id,
                user=as_user,
                now=datetime.now(UTC),
                ttl_seconds=ttl,
            )
            await store.put_confirmation_token(stored)
        finally:
            await store.close()
        return {"token": token, "expires_at": stored.expires_at.isoformat(), "user": as_user}

    issued = run(go())
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
