"""`stratgate store migrate`: copy a tenant's history between stores, verified."""

from __future__ import annotations

from typing import Annotated

import typer

from cli.workflow_io import emit_json, fail, run
from settings import Settings
from store.factory import open_store
from store.migrate import MigrationReport, migrate

app = typer.Typer(help="Governance store administration.", no_args_is_help=True)


@app.command("migrate")
def migrate_cmd(
    tenant: Annotated[str, typer.Option("--tenant", help="Tenant id.")],
    source: Annotated[str, typer.Option("--from", help="sqlite or firestore")] = "sqlite",
    target: Annotated[str, typer.Option("--to", help="sqlite or firestore")] = "firestore",
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Copy every policy version, approver, strategy, record, audit event and request."""

    async def go() -> MigrationReport:
        settings = Settings.from_env()
        src = open_store(settings.model_copy(update={"store": source}))
        dst = open_store(settings.model_copy(update={"store": target}))
        try:
            return await migrate(src, dst, tenant)
        finally:
            await src.close()
            await dst.close()

    if source == target or {source, target} - {"sqlite", "firestore"}:
        fail("--from/--to: name two different stores: sqlite, firestore")
    report = run(go())
    if as_json:
        emit_json(report.model_dump())
    else:
        typer.echo(
            f"{tenant}: {report.records} records of {report.strategies} strategies, "
            f"{report.audit_events} audit events, {report.policy_versions} policy versions, "
            f"{report.approvers} approvers, {report.requests} requests, "
            f"{report.evaluation_reports} evaluation reports; every hash verified "
            "(API tokens are not copied: issue them anew on the target)"
        )
