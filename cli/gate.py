"""`stratgate gate check`: what a strategy may do right now, with every reason.

The trading runtime sets EXECUTION_HALTED / EXECUTION_HALT_FILE / TRADING_MODE / BROKER_HOST in
its environment; options override the last two. The answer is the output, not the exit code:
the command exits 0 whenever it could decide, and anything it cannot read fails closed.
"""

from __future__ import annotations

import os
from typing import Annotated, TypeVar

import typer

from activities.halt_file import read_kill_switch
from app.gate import GateQuery, check_gate
from cli.common import Json, Strategy, Tenant, Uid, emit_json, run
from cli.session import local_operator, local_ports
from governance.gate import GateDecision

app = typer.Typer(help="The execution gate.", no_args_is_help=True)
T = TypeVar("T")


@app.command("check")
def check(
    tenant: Tenant,
    uid: Uid,
    strategy: Strategy,
    marketdata_age_ms: Annotated[
        float | None, typer.Option("--marketdata-age-ms", help="Age of the newest quote.")
    ] = None,
    agent_state: Annotated[
        str | None, typer.Option("--agent-state", help="READY, DEGRADED, HALTED or ERROR.")
    ] = None,
    trading_mode: Annotated[
        str | None, typer.Option("--trading-mode", help="Default: $TRADING_MODE.")
    ] = None,
    broker_host: Annotated[
        str | None, typer.Option("--broker-host", help="Default: $BROKER_HOST.")
    ] = None,
    as_json: Json = False,
) -> None:
    """The allowed mode (NO_EXECUTION, SIMULATE, PAPER, LIVE) and every reason.

    Missing input (no marketdata age, no agent state, no policy...) means non-executing.
    """

    async def go() -> GateDecision:
        halt = read_kill_switch()
        query = GateQuery(
            tenant_id=tenant,
            uid=uid,
            strategy_id=strategy,
            marketdata_age_ms=marketdata_age_ms,
            agent_state=agent_state,
            trading_mode=trading_mode or os.environ.get("TRADING_MODE"),
            broker_host=broker_host or os.environ.get("BROKER_HOST"),
            kill_switch=halt.engaged,  # this host is the runtime: its reading is the report
            local_halt=halt.engaged,
            local_halt_reason=halt.reason,
        )
        async with local_ports(temporal=False) as ports:
            return await check_gate(ports, local_operator(tenant), query)

    decision = run(go())
    if as_json:
        emit_json(decision.model_dump(mode="json"))
        return
    typer.echo(f"{decision.mode} ({'executing' if decision.executing else 'non-executing'})")
    for reason in decision.reasons:
        typer.echo(f"  {reason.code}: {reason.message}")
    limits = decision.limit_envelope
    if limits is not None:
        typer.echo(
            f"limits in force: instruments {', '.join(limits.instruments)}; order value <= "
            f"{limits.max_order_value:,.0f}; orders/day <= {limits.max_orders_per_day}; "
            f"position <= {limits.max_position_value:,.0f}, gross <= "
            f"{limits.max_gross_position_value:,.0f}"
        )
