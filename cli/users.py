"""`stratgate users`: the tenant's approver directory (who holds which approver roles)."""

from __future__ import annotations

from typing import Annotated

import typer

from cli.common import Json, Tenant, emit_json, run, store_session
from governance.roles import Role

app = typer.Typer(help="The tenant's approver directory.", no_args_is_help=True)


@app.command("add")
def add(
    tenant: Tenant,
    user: Annotated[str, typer.Option("--user", help="The person's user id.")],
    role: Annotated[
        list[Role],
        typer.Option("--role", case_sensitive=False, help="Repeat for several roles (any case)."),
    ],
    as_json: Json = False,
) -> None:
    """Put a person in the directory with exactly these roles (replaces earlier ones)."""

    async def go() -> None:
        async with store_session() as store:
            await store.put_approver(tenant, user, role)

    run(go())
    roles = sorted({r.value for r in role})
    if as_json:
        emit_json({"tenant": tenant, "user": user, "roles": roles})
    else:
        typer.echo(f"{user}@{tenant}: {', '.join(roles)}")


@app.command("list")
def list_users(tenant: Tenant, as_json: Json = False) -> None:
    """Everyone in the tenant's directory with their roles."""

    async def go() -> dict[str, list[Role]]:
        async with store_session() as store:
            return await store.list_approvers(tenant)

    found = run(go())
    if as_json:
        emit_json({u: [r.value for r in roles] for u, roles in found.items()})
        return
    for user, roles in found.items():
        typer.echo(f"{user}: {', '.join(r.value for r in roles)}")
