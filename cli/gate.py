"""`stratgate gate check`: what a strategy may do right now, with every reason.

The trading runtime sets EXECUTION_HALTED / EXECUTION_HALT_FILE / TRADING_MODE / BROKER_HOST in
its environment; options override the last two. The answer is the output, not the exit code:
the command exits 0 whenever it could decide, and anything it cannot read fails closed.
"""

from __future__ import annotations

import os
from collections.abc import Awaitable
from datetime import UTC, datetime
from typing import Annotated, Any, TypeVar

import typer
from pydantic import ValidationError

from activities.halt_file import read_kill_switch
from cli.common import Json, Strategy, Tenant, Uid, describe, emit_json, run, store_session
from governance.errors import GovernanceError
from governance.gate import GateDecision, GateInputs, GateReason, decide

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
        unreadable: list[GateReason] = []
        async with store_session() as store:
            status = await _read(store.get_system_status(), "system_status", unreadable)
            doc = await _read(store.get_strategy(tenant, uid, strategy), "strategy", unreadable)
            policy = await _read(store.get_policy(tenant), "policy", unreadable)
        halt = read_kill_switch()
        decision = decide(
            GateInputs(
                now=datetime.now(UTC),
                kill_switch=halt.engaged,
                kill_switch_reason=halt.reason,
                marketdata_age_ms=marketdata_age_ms,
                agent_state=agent_state,
                trading_mode=trading_mode or os.environ.get("TRADING_MODE"),
                broker_host=broker_host or os.environ.get("BROKER_HOST"),
                # An unreadable platform toggle is unknown, and the gate treats unknown as on.
                global_shadow_mode=_shadow_toggle(status),
                strategy=doc,
                policy=policy,
            )
        )
        return decision.model_copy(update={"reasons": [*decision.reasons, *unreadable]})

    decision = run(go())
    if as_json:
        emit_json(decision.model_dump(mode="json"))
        return
    typer.echo(f"{decision.mode} ({'executing' if decision.executing else 'non-executing'})")
    for reason in decision.reasons:
        typer.echo(f"  {reason.code}: {reason.message}")


async def _read(pending: Awaitable[T], what: str, unreadable: list[GateReason]) -> T | None:
    """A stored document, or None (unknown, so the gate fails closed) if it no longer parses."""
    try:
        return await pending
    except (ValidationError, GovernanceError) as exc:
        unreadable.append(GateReason(code=f"{what}_unreadable", message=f"{what}: {describe(exc)}"))
        return None


def _shadow_toggle(status: dict[str, Any] | None) -> bool | None:
    if status is None:
        return None
    value = status.get("is_shadow_mode", False)  # an absent toggle is the platform's default: off
    return value if isinstance(value, bool) else None
