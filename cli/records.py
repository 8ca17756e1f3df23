"""`stratgate records`: the immutable promotion records and the check of their hash chains."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from app import ledger, records
from cli.common import Json, Tenant, emit_json, fail, run
from cli.session import local_operator, local_ports
from governance.checkpoint import Checkpoint
from governance.errors import GovernanceError
from governance.ledger import LedgerVerification
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
    """Verify the tenant's whole ledger: every strategy's hash chain and its document, chain
    slots, the audit chain, policy versions and signed checkpoints. Exits 1 naming each break."""

    async def go() -> LedgerVerification:
        async with local_ports(temporal=False) as ports:
            return await ledger.verify_tenant(
                ports, local_operator(tenant), tenant_id=tenant, uid=uid, strategy_id=strategy
            )

    result = run(go())
    if not result.chains and uid and strategy:
        fail(f"strategy: {uid}/{strategy} is not registered in {tenant} and has no records")
    _report(result, as_json, empty=f"{tenant}: no strategies and no records to verify")


def _report(result: LedgerVerification, as_json: bool, empty: str) -> None:
    broken = [name for name, v in result.chains.items() if not v.ok]
    if as_json:
        emit_json(result.model_dump(mode="json"))
    else:
        if not result.chains:
            typer.echo(empty)
        for name, v in result.chains.items():
            state = "ok" if v.ok else f"BROKEN at record {v.first_broken_record_id}: {v.reason}"
            typer.echo(f"{name}: {v.checked} records, {state}")
        audit = result.audit
        legacy = f" ({audit.legacy_unchained} legacy, unchained)" if audit.legacy_unchained else ""
        audit_state = "ok" if audit.ok else f"BROKEN at event {audit.first_broken_event_id}"
        typer.echo(f"audit chain: {audit.checked} events{legacy}, {audit_state}")
        typer.echo(f"checkpoints: {result.checkpoints}")
        for f in result.findings:
            typer.echo(f"BROKEN {f.kind} {f.subject}: {f.reason}")
    if broken or result.findings:
        what = ", ".join([*broken, *sorted({f"{f.kind} {f.subject}" for f in result.findings})])
        typer.echo(f"error: broken ledger: {what}", err=True)
        raise typer.Exit(1)


@app.command("checkpoint")
def checkpoint(tenant: Tenant, as_json: Json = False) -> None:
    """Sign a checkpoint of the tenant's chain heads now (the worker also makes one hourly)."""

    async def go() -> Checkpoint:
        async with local_ports(temporal=False) as ports:
            return await ledger.checkpoint(ports, local_operator(tenant), tenant_id=tenant)

    cp = run(go())
    if as_json:
        emit_json(cp.model_dump(mode="json"))
        return
    b = cp.body
    typer.echo(
        f"checkpoint #{b.sequence} {b.checkpoint_id}: {b.strategies} strategies, {b.records} "
        f"records, {b.audit_events} audit events, root {b.merkle_root[:16]}, key {b.key_id}"
    )


@app.command("export")
def export(
    tenant: Tenant,
    out: Annotated[Path, typer.Option("--out", help="Directory to write the bundle into.")],
    checkpoint_first: Annotated[
        bool,
        typer.Option(
            "--checkpoint/--no-checkpoint",
            help="Sign a fresh checkpoint first, so every head in the bundle is proven.",
        ),
    ] = True,
) -> None:
    """Write the tenant's bundle: records, audit events, policies, evidence refs, checkpoints,
    inclusion proofs and public keys, with a manifest of their hashes."""

    async def go() -> dict[str, bytes]:
        async with local_ports(temporal=False) as ports:
            who = local_operator(tenant)
            if checkpoint_first:
                await ledger.checkpoint(ports, who, tenant_id=tenant)
            return await ledger.export_bundle(ports, who, tenant_id=tenant)

    files = run(go())
    if out.exists() and not out.is_dir():
        fail(f"--out: {out} exists and is not a directory")
    if out.exists() and any(out.iterdir()):
        fail(f"--out: {out} is not empty; export into a new directory")
    out.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        (out / name).write_bytes(data)
    typer.echo(f"wrote {len(files)} files to {out}")


@app.command("verify-export")
def verify_export(
    bundle: Annotated[Path, typer.Argument(help="The bundle directory `records export` wrote.")],
    public_key: Annotated[
        list[str],
        typer.Option(
            "--public-key",
            help="A trusted checkpoint public key: base64, or a file holding it (repeatable).",
        ),
    ],
    as_json: Json = False,
) -> None:
    """Verify a bundle with no database: every hash, chain, checkpoint signature and proof.
    Only the keys given here are trusted, never the bundle's own. Exits 1 naming each break."""
    if not bundle.is_dir():
        fail(f"bundle: {bundle} is not a directory")
    keys = [Path(k).read_text().strip() if Path(k).is_file() else k.strip() for k in public_key]
    files = {p.name: p.read_bytes() for p in sorted(bundle.iterdir()) if p.is_file()}
    try:
        result = ledger.verify_export(files, keys)
    except GovernanceError as exc:
        fail(f"{exc.field}: {exc.message}")
    _report(result, as_json, empty=f"{bundle}: no strategies and no records")


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
