"""`stratgate users`: the tenant's approver directory (who holds which approver roles)."""

from __future__ import annotations

from typing import Annotated

import typer

from cli.common import Json, Tenant, emit_json, run
from cli.session import local_operator, local_ports
from governance.directory import ApproverRoles
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
    """Put a person in the directory with exactly these roles (replaces earlier ones); the
    change is an audit event naming who made it and the roles before and after."""
    from app.directory import set_approver_roles

    async def go() -> tuple[ApproverRoles, bool]:
        async with local_ports(temporal=False) as ports:
            return await set_approver_roles(
                ports, local_operator(tenant), tenant_id=tenant, user=user, roles=role
            )

    entry, changed = run(go())
    roles = [r.value for r in entry.roles]
    if as_json:
        emit_json({"tenant": tenant, "user": user, "roles": roles, "changed": changed})
    else:
        typer.echo(f"{user}@{tenant}: {', '.join(roles)}" + ("" if changed else " (unchanged)"))


@app.command("list")
def list_users(tenant: Tenant, as_json: Json = False) -> None:
    """Everyone in the tenant's directory with their roles."""

    from app.directory import approver_directory

    async def go() -> list[ApproverRoles]:
        async with local_ports(temporal=False) as ports:
            return await approver_directory(ports, local_operator(tenant), tenant_id=tenant)

    found = run(go())
    if as_json:
        emit_json({e.user: [r.value for r in e.roles] for e in found})
        return
    for e in found:
        typer.echo(f"{e.user}: {', '.join(r.value for r in e.roles)}")
