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
from governance.replay import Explanation

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


@app.command("explain")
def explain(
    tenant: Tenant,
    record_id: Annotated[str, typer.Argument(help="The record to replay.")],
    as_json: Json = False,
) -> None:
    """Replay a decision: recompute its report from the evidence and policy the record cites,
    criterion by criterion; exits 1 when anything differs or cannot be reloaded."""
    from app.explain import explain_record

    async def go() -> Explanation:
        async with local_ports(temporal=False, evidence=True) as ports:
            return await explain_record(
                ports, local_operator(tenant), tenant_id=tenant, record_id=record_id
            )

    found = run(go())
    if as_json:
        emit_json(found.model_dump(mode="json"))
    else:
        render_explanation(Console(width=max(console.width, 140)), found)
    if not found.equal:
        raise typer.Exit(1)


def render_explanation(out: Console, e: Explanation) -> None:
    out.print(
        f"record {e.record_id}: {e.uid}/{e.strategy_id} {e.decision} "
        f"{e.from_stage} -> {e.to_stage} ({e.reason_code})"
    )
    if not e.evaluated:
        out.print(e.no_evaluation)
        return
    out.print(f"policy {e.policy_version}: {'found' if e.policy_found else 'NOT FOUND'}")
    for f in e.files:
        out.print(f"evidence {f.kind} {f.id}: {f.status}" + (f" ({f.reason})" if f.reason else ""))
    table = Table("criterion", "recorded", "recomputed", "equal", "threshold", "status")
    for c in e.criteria:
        threshold = _pair(c.recorded_threshold, c.recomputed_threshold)
        status = _pair(c.recorded_status, c.recomputed_status)
        table.add_row(
            c.name,
            _num(c.recorded),
            _num(c.recomputed),
            "yes" if c.equal else "NO",
            threshold,
            status,
        )
    out.print(table)
    out.print(f"compared: {e.tolerance}")
    out.print(f"verdict: recorded {e.recorded_verdict}, recomputed {e.recomputed_verdict}")
    match = "matches" if e.metrics_hash_matches else "DIFFERS"
    out.print(
        f"metrics_hash {match}: recorded {e.metrics_hash}, recomputed {e.recomputed_metrics_hash}"
    )
    for p in e.problems:
        out.print(f"problem: {p}")
    for n in e.notes:
        out.print(f"note: {n}")
    out.print("replays equal" if e.equal else "does NOT replay equal")


def _num(value: float | None) -> str:
    return "-" if value is None else f"{value:.17g}"


def _pair(recorded: object, recomputed: object) -> str:
    if recorded is None:
        return str(recomputed) if recomputed is not None else "-"
    return str(recorded) if recorded == recomputed else f"{recorded} -> {recomputed}"
