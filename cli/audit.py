"""`stratgate audit pack`: a period's evidence pack, as JSON files and one HTML summary."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from app.audit_pack import audit_pack
from cli.common import Json, Tenant, emit_json, fail, run
from cli.session import local_operator, local_ports
from governance.audit_assessment import AuditPack
from reports.audit_pack_files import SUMMARY, write_pack

app = typer.Typer(help="Evidence for compliance and regulators.", no_args_is_help=True)


@app.command("pack")
def pack(
    tenant: Tenant,
    date_from: Annotated[
        str, typer.Option("--from", help="First day, YYYY-MM-DD (UTC), included.")
    ],
    date_to: Annotated[str, typer.Option("--to", help="Last day, YYYY-MM-DD (UTC), included.")],
    out: Annotated[Path, typer.Option("--out", help="Directory to write; new or empty.")],
    as_json: Json = False,
) -> None:
    """Deployments with their tests and approvals, designated persons, limits, halts and drills,
    demotions, incidents, policy changes and a self-assessment draft, each citing its article."""
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        fail(f"--out: {out} exists and is not an empty directory (a pack is never merged)")

    async def go() -> AuditPack:
        async with local_ports(temporal=False) as ports:
            return await audit_pack(
                ports,
                local_operator(tenant),
                tenant_id=tenant,
                date_from=date_from,
                date_to=date_to,
            )

    result = run(go())
    written = write_pack(result, out)
    if as_json:
        emit_json({"out": str(out), "files": [p.name for p in written], "empty": result.empty})
        return
    f = result.figures
    typer.echo(f"evidence pack for {tenant}, {result.period.start} to {result.period.end} (UTC)")
    if result.empty:
        typer.echo("  nothing was recorded in this period")
    typer.echo(
        f"  deployments {f.deployments}, demotions {sum(f.demotions_by_stage.values())}, "
        f"halts {f.halts}, drills {f.drills}, incidents {f.incidents}, "
        f"policy changes {f.policy_changes}"
    )
    typer.echo(f"  {len(written)} files in {out}; open {out / SUMMARY}")
