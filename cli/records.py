"""`stratgate records`: the immutable promotion records and the check of their hash chains."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from app import records
from app.records import Key
from cli.common import Json, Tenant, emit_json, fail, run
from cli.session import local_operator, local_ports
from governance.chain import ChainVerification
from governance.records import PromotionRecord

app = typer.Typer(help="Immutable promotion records and their hash chain.", no_args_is_help=True)
console = Console()
OptUid = Annotated[str | None, typer.Option("--uid", help="Only this owner's strategies.")]
OptStrategy = Annotated[str | None, typer.Option("--strategy", help="Only this strategy.")]


@app.command("list")
def list_records(
    tenant: Tenant, uid: OptUid = None, strategy: OptStrategy = None, as_json: Json = False
) -> None:
    """Promotion records, per strategy in chain order."""

    async def go() -> list[PromotionRecord]:
        async with local_ports(temporal=False) as ports:
            return await records.list_records(
                ports, local_operator(tenant), tenant_id=tenant, uid=uid, strategy_id=strategy
            )

    found = run(go())
    if as_json:
        emit_json([r.model_dump(mode="json") for r in found])
        return
    table = Table("#", "strategy", "decision", "stage", "reason", "effective", "record", "hash")
    for r in found:
        table.add_row(
            str(r.sequence),
            f"{r.uid}/{r.strategy_id}",
            r.decision.value,
            f"{r.from_stage} -> {r.to_stage}",
            r.reason_code,
            r.effective_at.isoformat()[:19],
            r.record_id,
            r.record_hash[:12],
        )
    console.print(table)


@app.command("verify")
def verify(
    tenant: Tenant, uid: OptUid = None, strategy: OptStrategy = None, as_json: Json = False
) -> None:
    """Verify every strategy's hash chain; exits 1 naming the first broken record and why."""

    async def go() -> dict[Key, ChainVerification]:
        async with local_ports(temporal=False) as ports:
            return await records.verify_records(
                ports, local_operator(tenant), tenant_id=tenant, uid=uid, strategy_id=strategy
            )

    results = run(go())
    if not results and uid and strategy:
        fail(f"strategy: {uid}/{strategy} is not registered in {tenant} and has no records")
    broken = [f"{u}/{s}" for (u, s), v in results.items() if not v.ok]
    if as_json:
        emit_json({f"{u}/{s}": v.model_dump() for (u, s), v in results.items()})
    elif not results:
        typer.echo(f"{tenant}: no strategies and no records to verify")
    else:
        for (u, s), v in results.items():
            state = "ok" if v.ok else f"BROKEN at record {v.first_broken_record_id}: {v.reason}"
            typer.echo(f"{u}/{s}: {v.checked} records, {state}")
    if broken:
        typer.echo(f"error: broken chain: {', '.join(broken)}", err=True)
        raise typer.Exit(1)
