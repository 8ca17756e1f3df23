"""`stratgate strategy`, `records`, `users` and `gate`: the registry, the chain, the directory,
and the execution gate."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from cli.workflow_io import emit_json, fail, run
from governance.chain import ChainVerification, verify_chain
from governance.errors import RecordCorrupt
from governance.gate import GateDecision, GateInputs, decide, kill_switch_engaged
from governance.records import AuditEvent, StrategyDoc
from governance.roles import Role
from governance.stages import LifecycleStage, execution_mode_for
from settings import Settings
from store.factory import open_store

strategy_app = typer.Typer(help="The strategy registry.", no_args_is_help=True)
records_app = typer.Typer(
    help="Immutable promotion records and their hash chain.", no_args_is_help=True
)
users_app = typer.Typer(help="The tenant's approver directory.", no_args_is_help=True)
gate_app = typer.Typer(help="The execution gate.", no_args_is_help=True)
console = Console()
Tenant = Annotated[str, typer.Option("--tenant")]
Json = Annotated[bool, typer.Option("--json")]


@strategy_app.command("register")
def register(
    tenant: Tenant,
    uid: Annotated[str, typer.Option("--uid")],
    strategy: Annotated[str, typer.Option("--strategy")],
    stage: Annotated[LifecycleStage, typer.Option("--stage")] = LifecycleStage.OBSERVE,
    since: Annotated[
        datetime | None, typer.Option("--since", help="When it entered that stage (UTC).")
    ] = None,
    as_json: Json = False,
) -> None:
    """Register a strategy (in a stage it already lives in on the platform, since a time)."""
    entered = (
        since.replace(tzinfo=UTC) if since and since.tzinfo is None else since
    ) or datetime.now(UTC)
    doc = StrategyDoc(
        tenant_id=tenant,
        uid=uid,
        strategy_id=strategy,
        lifecycle_stage=stage,
        execution_mode=execution_mode_for(stage),
        last_stage_change_at=entered,
    )

    async def go() -> None:
        store = open_store(Settings.from_env())
        try:
            await store.register_strategy(doc)
            await store.append_audit_event(
                AuditEvent(
                    event_id=f"registered-{uid}-{strategy}",
                    event_type="strategy.registered",
                    ts=datetime.now(UTC),
                    tenant_id=tenant,
                    uid=uid,
                    strategy_id=strategy,
                    details={"lifecycle_stage": stage.value, "since": entered.isoformat()},
                )
            )
        finally:
            await store.close()

    run(go())
    if as_json:
        emit_json(doc.model_dump(mode="json"))
    else:
        typer.echo(f"registered {uid}/{strategy} in {stage} since {entered.isoformat()}")


@strategy_app.command("show")
def show(
    tenant: Tenant,
    uid: Annotated[str, typer.Option("--uid")],
    strategy: Annotated[str, typer.Option("--strategy")],
    as_json: Json = False,
) -> None:
    """One strategy's registry entry."""

    async def go() -> StrategyDoc | None:
        store = open_store(Settings.from_env())
        try:
            return await store.get_strategy(tenant, uid, strategy)
        finally:
            await store.close()

    doc = run(go())
    if doc is None:
        fail(f"strategy: {uid}/{strategy} is not registered in {tenant}")
    if as_json:
        emit_json(doc.model_dump(mode="json"))
    else:
        for key, value in doc.model_dump(mode="json").items():
            typer.echo(f"{key:30} {value}")


@strategy_app.command("list")
def list_strategies(tenant: Tenant, as_json: Json = False) -> None:
    """Every strategy of a tenant with its stage and freeze."""

    async def go() -> list[StrategyDoc]:
        store = open_store(Settings.from_env())
        try:
            return await store.list_strategies(tenant)
        finally:
            await store.close()

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
            d.freeze_reason or "" if d.freeze else "",
            str(d.last_stage_change_at or ""),
        )
    console.print(table)


@records_app.command("list")
def list_records(
    tenant: Tenant,
    uid: Annotated[str | None, typer.Option("--uid")] = None,
    strategy: Annotated[str | None, typer.Option("--strategy")] = None,
    as_json: Json = False,
) -> None:
    """Promotion records, per strategy in chain order."""

    async def go() -> list[dict[str, object]]:
        store = open_store(Settings.from_env())
        try:
            return [
                r.model_dump(mode="json") for r in await store.list_records(tenant, uid, strategy)
            ]
        finally:
            await store.close()

    found = run(go())
    if as_json:
        emit_json(found)
        return
    table = Table("#", "strategy", "decision", "stage", "reason", "effective", "hash")
    for r in found:
        table.add_row(
            str(r["sequence"]),
            f"{r['uid']}/{r['strategy_id']}",
            str(r["decision"]),
            f"{r['from_stage']} -> {r['to_stage']}",
            str(r["reason_code"]),
            str(r["effective_at"])[:19],
            str(r["record_hash"])[:12],
        )
    console.print(table)


@records_app.command("verify")
def verify(
    tenant: Tenant,
    uid: Annotated[str | None, typer.Option("--uid")] = None,
    strategy: Annotated[str | None, typer.Option("--strategy")] = None,
    as_json: Json = False,
) -> None:
    """Verify every strategy's hash chain; exits 1 naming the first broken record."""

    async def go() -> dict[str, ChainVerification]:
        store = open_store(Settings.from_env())
        try:
            docs = await store.list_strategies(tenant, uid)
            results = {}
            for d in docs:
                if strategy and d.strategy_id != strategy:
                    continue
                key = f"{d.uid}/{d.strategy_id}"
                try:
                    results[key] = verify_chain(
                        await store.list_records(tenant, d.uid, d.strategy_id)
                    )
                except RecordCorrupt as exc:
                    results[key] = ChainVerification(
                        ok=False, checked=0, first_broken_record_id=exc.field, reason=exc.message
                    )
            return results
        finally:
            await store.close()

    results = run(go())
    if as_json:
        emit_json({k: v.model_dump() for k, v in results.items()})
    else:
        for key, v in results.items():
            state = "ok" if v.ok else f"BROKEN at record {v.first_broken_record_id}: {v.reason}"
            typer.echo(f"{key}: {v.checked} records, {state}")
    if not all(v.ok for v in results.values()):
        raise typer.Exit(1)


@users_app.command("add")
def add_user(
    tenant: Tenant,
    user: Annotated[str, typer.Option("--user")],
    role: Annotated[list[Role], typer.Option("--role", help="Repeat for several roles.")],
) -> None:
    """Put a person in the tenant's approver directory with their roles."""

    async def go() -> None:
        store = open_store(Settings.from_env())
        try:
            await store.put_approver(tenant, user, role)
        finally:
            await store.close()

    run(go())
    typer.echo(f"{user}@{tenant}: {', '.join(r.value for r in role)}")


@users_app.command("list")
def list_users(tenant: Tenant, as_json: Json = False) -> None:
    async def go() -> dict[str, list[Role]]:
        store = open_store(Settings.from_env())
        try:
            return await store.list_approvers(tenant)
        finally:
            await store.close()

    found = run(go())
    if as_json:
        emit_json({u: [r.value for r in roles] for u, roles in found.items()})
        return
    for user, roles in found.items():
        typer.echo(f"{user}: {', '.join(r.value for r in roles)}")


@gate_app.command("check")
def gate_check(
    tenant: Tenant,
    uid: Annotated[str, typer.Option("--uid")],
    strategy: Annotated[str, typer.Option("--strategy")],
    marketdata_age_ms: Annotated[float | None, typer.Option("--marketdata-age-ms")] = None,
    agent_state: Annotated[str | None, typer.Option("--agent-state")] = None,
    trading_mode: Annotated[
        str | None, typer.Option("--trading-mode", help="Default: $TRADING_MODE.")
    ] = None,
    broker_host: Annotated[
        str | None, typer.Option("--broker-host", help="Default: $BROKER_HOST.")
    ] = None,
    as_json: Json = False,
) -> None:
    """What the strategy may do now: the mode and every reason. Unknown input fails closed."""

    async def go() -> GateDecision:
        store = open_store(Settings.from_env())
        try:
            status = await store.get_system_status()
            return decide(
                GateInputs(
                    now=datetime.now(UTC),
                    kill_switch=kill_switch_engaged(),
                    marketdata_age_ms=marketdata_age_ms,
                    agent_state=agent_state,
                    trading_mode=trading_mode or os.environ.get("TRADING_MODE"),
                    broker_host=broker_host or os.environ.get("BROKER_HOST"),
                    global_shadow_mode=bool(status.get("is_shadow_mode", False)),
                    strategy=await store.get_strategy(tenant, uid, strategy),
                    policy=await store.get_policy(tenant),
                )
            )
        finally:
            await store.close()

    decision = run(go())
    if as_json:
        emit_json(decision.model_dump(mode="json"))
        return
    typer.echo(f"{decision.mode} ({'executing' if decision.executing else 'non-executing'})")
    for reason in decision.reasons:
        typer.echo(f"  {reason.code}: {reason.message}")
