"""`stratgate tokens`: bearer tokens for people (personal) and risk systems (service)."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from typing import Annotated

import typer

from cli.workflow_io import emit_json, fail, run
from governance.identity import TokenKind, hash_token, new_token_record
from settings import Settings
from store.factory import open_store

app = typer.Typer(help="API tokens: issue and revoke.", no_args_is_help=True)


@app.command("issue")
def issue(
    tenant: Annotated[str, typer.Option("--tenant", help="Tenant id.")],
    user: Annotated[str, typer.Option("--user", help="A person, or a service name.")],
    service: Annotated[
        bool, typer.Option("--service", help="A risk-system token: may only post risk events.")
    ] = False,
    ttl_days: Annotated[
        int, typer.Option("--ttl-days", min=1, max=365, help="Days until the token expires.")
    ] = 30,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Issue a token. It is printed once; only its hash is stored."""
    token = f"sg_{secrets.token_urlsafe(32)}"
    kind = TokenKind.SERVICE if service else TokenKind.PERSONAL

    async def go() -> str:
        store = open_store(Settings.from_env())
        try:
            if kind == TokenKind.PERSONAL and await store.get_approver_roles(tenant, user) is None:
                fail(f"user: {user} is not in tenant {tenant}'s directory (stratgate users add)")
            record = new_token_record(
                token=token,
                kind=kind,
                tenant_id=tenant,
                subject=user,
                now=datetime.now(UTC),
                ttl_seconds=ttl_days * 86_400,
            )
            await store.put_api_token(record)
        finally:
            await store.close()
        return record.expires_at.isoformat()

    expires = run(go())
    if as_json:
        emit_json({"token": token, "kind": kind.value, "expires_at": expires, "user": user})
    else:
        typer.echo(f"{kind.value} token for {user}@{tenant}, expires {expires}:\n{token}")


@app.command("revoke")
def revoke(
    token: Annotated[str, typer.Option("--token", help="The token, or its sha256 hash.")],
) -> None:
    """Revoke a token at once."""
    digest = token if len(token) == 64 and not token.startswith("sg_") else hash_token(token)

    async def go() -> bool:
        store = open_store(Settings.from_env())
        try:
            return await store.revoke_api_token(digest, datetime.now(UTC)) is not None
        finally:
            await store.close()

    if not run(go()):
        fail("token: unknown token")
    typer.echo("revoked")
