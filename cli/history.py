"""`stratgate history`: one timeline of a strategy's workflows, records and audit trail."""

from __future__ import annotations

from typing import Annotated

import typer

from cli.common import Json, Tenant
from cli.output import table
from cli.session import local_operator, local_ports
from cli.workflow_io import emit_json, fail, run
from governance.history import HistoryEntry


def history(
    tenant: Tenant,
    uid: Annotated[
        str | None, typer.Option("--uid", help="Owner (user id) of the strategy.")
    ] = None,
    strategy: Annotated[str | None, typer.Option("--strategy", help="Strategy id.")] = None,
    as_json: Json = False,
    records_only: Annotated[
        bool, typer.Option("--store-only", help="Skip Temporal (no running stack needed).")
    ] = False,
    fleet: Annotated[
        bool, typer.Option("--fleet", help="The tenant's halts and resumes, as one audit story.")
    ] = False,
    api: Annotated[
        str | None,
        typer.Option("--api", envvar="STRATGATE_API_URL", help="With --fleet: through the API."),
    ] = None,
) -> None:
    """Who did what, when and why: workflow histories, records and audit events, in order."""
    if fleet:
        from cli.fleet import fleet_history

        fleet_history(tenant, api, as_json)
        return
    if uid is None or strategy is None:
        fail("--uid and --strategy name the strategy (or --fleet for the tenant's halts)")

    from app.history import strategy_history

    async def go() -> list[HistoryEntry]:
        async with local_ports(temporal=not records_only) as ports:
            return await strategy_history(
                ports,
                local_operator(tenant),
                tenant_id=tenant,
                uid=uid,
                strategy_id=strategy,
                workflows=not records_only,
            )

    entries = run(go())
    if as_json:
        emit_json([e.model_dump(mode="json") for e in entries])
        return
    table(
        ["when (UTC)", "source", "what", "who", "why"],
        [[f"{e.at:%Y-%m-%d %H:%M:%S}", e.source, e.what, e.who, e.why] for e in entries],
        title=f"{uid}/{strategy}",
    )
