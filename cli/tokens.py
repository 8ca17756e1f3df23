"""`stratgate tokens`: bearer tokens for people (personal) and risk systems (service)."""

from __future__ import annotations

from typing import Annotated

import typer

from cli.common import Tenant
from cli.session import local_operator, local_ports
from cli.workflow_io import emit_json, run
from governance.identity import ApiToken, TokenKind

app = typer.Typer(help="API tokens: issue and revoke.", no_args_is_help=True)


@app.command("issue")
def issue(
    tenant: Tenant,
    user: Annotated[str, typer.Option("--user", help="A person, or a service name.")],
    service: Annotated[
        bool, typer.Option("--service", help="A risk-system token: may only post risk events.")
    ] = False,
    ttl_days: Annotated[
        int, typer.Option("--ttl-days", min=1, max=365, help="Days until the token expires.")
    ] = 30,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Issue a token. It is printed once; only its hash is stored, and the issue is an audit
    event of the tenant."""
    from app.tokens import issue_token

    kind = TokenKind.SERVICE if service else TokenKind.PERSONAL

    async def go() -> tuple[str, ApiToken]:
        async with local_ports(temporal=False) as ports:
            return await issue_token(
                ports,
                local_operator(tenant),
                tenant_id=tenant,
                subject=user,
                kind=kind,
                ttl_days=ttl_days,
            )

    token, record = run(go())
    expires = record.expires_at.isoformat()
    if as_json:
        emit_json({"token": token, "kind": kind.value, "expires_at": expires, "user": user})
    else:
        typer.echo(f"{kind.value} token for {user}@{tenant}, expires {expires}:\n{token}")


@app.command("revoke")
def revoke(
    tenant: Tenant,
    token: Annotated[str, typer.Option("--token", help="The token, or its sha256 hash.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Revoke a token of the tenant at once (an audit event of the tenant)."""
    from app.tokens import revoke_token

    async def go() -> tuple[ApiToken, bool]:
        async with local_ports(temporal=False) as ports:
            return await revoke_token(ports, local_operator(tenant), tenant_id=tenant, token=token)

    revoked, changed = run(go())
    if as_json:
        emit_json(
            {
                "user": revoked.subject,
                "revoked_at": revoked.revoked_at.isoformat() if revoked.revoked_at else None,
                "changed": changed,
            }
        )
    else:
        typer.echo("revoked" if changed else f"already revoked at {revoked.revoked_at}")
