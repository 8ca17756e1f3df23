"""`stratgate strategy`: the strategy registry (register, show, list)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from app import onboarding, registry
from cli import api_client
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
from governance.onboarding import (
    FILE_MAX_BYTES,
    OnboardingRow,
    RowFormat,
    format_of,
    parse_rows,
)
from governance.records import StrategyDoc
from governance.stages import LifecycleStage

app = typer.Typer(help="The strategy registry.", no_args_is_help=True)
console = Console()


@app.command("register")
def register(
    tenant: Tenant,
    uid: Annotated[
        str | None, typer.Option("--uid", help="Owner (user id) of the strategy.")
    ] = None,
    strategy: Annotated[str | None, typer.Option("--strategy", help="Strategy id.")] = None,
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
    from_file: Annotated[
        Path | None,
        typer.Option(
            "--from",
            help="A fleet: a .csv (header uid,strategy_id,stage,since) or .jsonl file; "
            "every row registers, or none does.",
        ),
    ] = None,
    as_json: Json = False,
    api: Annotated[
        str | None,
        typer.Option(
            "--api",
            envvar="STRATGATE_API_URL",
            help="Go through the HTTP API (your personal token in STRATGATE_TOKEN).",
        ),
    ] = None,
) -> None:
    """Register a strategy, in the stage it already lives in on the platform since a time;
    or, with `--from FILE`, a whole fleet of them.

    Registration writes no promotion record (nothing was promoted); it writes the audit event
    `strategy.registered`. `--since` starts the stage's stability window.
    """
    if from_file is not None:
        if uid is not None or strategy is not None or since is not None:
            fail("--from: the file names each strategy; leave out --uid, --strategy, --since")
        register_fleet(tenant, from_file, api, as_json)
        return
    if uid is None or strategy is None:
        fail("--uid and --strategy name the strategy (or --from FILE for a fleet)")
    if api:
        row: dict[str, str] = {"uid": uid, "strategy_id": strategy, "stage": stage.value}
        if since is not None:
            row["since"] = parse_timestamp(since, "--since").isoformat()
        answer = run(_post_rows(api, tenant, [row]))
        _say(answer, f"{uid}/{strategy}", as_json)
        return
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


def register_fleet(tenant: str, path: Path, api: str | None, as_json: bool) -> None:
    """The file is read and checked here; through the API it is sent as one batch of rows."""
    try:
        size = path.stat().st_size
    except OSError as exc:
        fail(f"--from: {path}: {exc.strerror}", field="file")
    if size > FILE_MAX_BYTES:
        fail(f"--from: {path} is {size} bytes, over the limit of {FILE_MAX_BYTES}", field="file")
    data = path.read_bytes()
    fmt = run(_format(path))
    if api:
        rows = run(_rows(data, fmt))
        answer = run(_post_rows(api, tenant, [r.model_dump(mode="json") for r in rows]))
    else:

        async def go() -> onboarding.Onboarded:
            async with local_ports(temporal=False) as ports:
                return await onboarding.register_file(
                    ports, local_operator(tenant), tenant_id=tenant, data=data, fmt=fmt
                )

        answer = run(go())
    _say(answer, str(path), as_json)


async def _format(path: Path) -> RowFormat:
    return format_of(path.name)


async def _rows(data: bytes, fmt: RowFormat) -> list[OnboardingRow]:
    return parse_rows(data, fmt)


async def _post_rows(api: str, tenant: str, rows: list[Any]) -> onboarding.Onboarded:
    answer = api_client.call(api, "POST", f"/v1/tenants/{tenant}/strategies", {"rows": rows})
    return onboarding.Onboarded.model_validate(answer)


def _say(answer: onboarding.Onboarded, what: str, as_json: bool) -> None:
    if as_json:
        emit_json(answer.model_dump(mode="json"))
    else:
        noun = "strategy" if answer.registered == 1 else "strategies"
        typer.echo(
            f"registered {answer.registered} {noun} from {what} in {answer.tenant_id}, "
            f"each with its strategy.registered event (batch {answer.batch[:12]})"
        )


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
