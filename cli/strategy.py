"""`stratgate strategy`: the strategy registry (register, show, list)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from app import registry
from cli.common import (
    Json,
    Strategy,
    Tenant,
    Uid,
    emit_json,
    fail,
    parse_timestamp,
    run,
)
from cli.session import local_operator, local_ports
from governance.records import StrategyDoc
from governance.stages import LifecycleStage

app = typer.Typer(help="The strategy registry.", no_args_is_help=True)
console = Console()


@app.command("register")
def register(
    tenant: Tenant,
    uid: Uid,
    strategy: Strategy,
    stage: Annotated[
        LifecycleStage,
        typer.Option(
            "--stage", case_sensitive=False, help="The stage it already lives in (any case)."
        ),
    ] = LifecycleStage.OBSERVE,
    since: Annotated[
        str | None,
        typer.Option("--since", help="When it entered that stage (ISO-8601; no offset = UTC)."),
    ] = None,
    as_json: Json = False,
) -> None:
    """Register a strategy, in the stage it already lives in on the platform since a time.

    Registration writes no promotion record (nothing was promoted); it writes the audit event
    `strategy.registered`. `--since` starts the stage's stability window.
    """
    entered = parse_timestamp(since, "--since") if since is not None else None
    if entered is not None and entered > datetime.now(UTC):
        fail(f"--since: {entered.isoformat()} is in the future")  # named as the option

    async def go() -> StrategyDoc:
        async with local_ports(temporal=False) as ports:
            return await registry.register_strategy(
                ports,
                local_operator(tenant),
                tenant_id=tenant,
                uid=uid,
                strategy_id=strategy,
                stage=stage,
                since=entered,
            )

    doc = run(go())
    if as_json:
        emit_json(doc.model_dump(mode="json"))
    else:
        since_at = doc.last_stage_change_at.isoformat() if doc.last_stage_change_at else "now"
        typer.echo(f"registered {uid}/{strategy} in {stage} since {since_at}")


@app.command("show")
def show(tenant: Tenant, uid: Uid, strategy: Strategy, as_json: Json = False) -> None:
    """One strategy's registry entry."""

    async def go() -> StrategyDoc:
        async with local_ports(temporal=False) as ports:
            return await registry.show_strategy(
                ports, local_operator(tenant), tenant_id=tenant, uid=uid, strategy_id=strategy
            )

    doc = run(go())
    if as_json:
        emit_json(doc.model_dump(mode="json"))
    else:
        for key, value in doc.model_dump(mode="json").items():
            typer.echo(f"{key:30} {value}")


@app.command("list")
def list_strategies(
    tenant: Tenant,
    uid: Annotated[str | None, typer.Option("--uid", help="Only this owner's.")] = None,
    as_json: Json = False,
) -> None:
    """Every strategy of a tenant with its stage and freeze."""

    async def go() -> list[StrategyDoc]:
        async with local_ports(temporal=False) as ports:
            found = await registry.list_strategies(
                ports, local_operator(tenant), tenant_id=tenant, uid=uid
            )
        # Exactly this tenant: an adapter's pattern match must never show another's strategies.
        return [d for d in found if d.tenant_id == tenant]

    docs = run(go())
    if as_json:
        emit_json([d.model_dump(mode="json") for d in docs])
        return
    table = Table("strategy", "stage", "execution_mode", "frozen", "last change")
    for d in docs:
        table.add_row(
            f"{d.uid}/{d.strategy_id}",
            d.lifecycle_stage,
            d.execution_mode,
            (d.freeze_reason or "yes") if d.freeze else "",
            str(d.last_stage_change_at or ""),
        )
    console.print(table)
