"""`stratgate records`: the immutable promotion records and the check of their hash chains."""

from __future__ import annotations

from contextlib import suppress
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from cli.common import Json, Tenant, emit_json, fail, run, store_session
from governance.chain import ChainVerification, verify_chain
from governance.errors import RecordCorrupt
from governance.records import PromotionRecord, StrategyDoc
from store.port import GovernanceStore

app = typer.Typer(help="Immutable promotion records and their hash chain.", no_args_is_help=True)
console = Console()
OptUid = Annotated[str | None, typer.Option("--uid", help="Only this owner's strategies.")]
OptStrategy = Annotated[str | None, typer.Option("--strategy", help="Only this strategy.")]
Key = tuple[str, str]


@app.command("list")
def list_records(
    tenant: Tenant, uid: OptUid = None, strategy: OptStrategy = None, as_json: Json = False
) -> None:
    """Promotion records, per strategy in chain order."""

    async def go() -> list[PromotionRecord]:
        async with store_session() as store:
            return await store.list_records(tenant, uid, strategy)

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
        async with store_session() as store:
            return await verify_tenant(store, tenant, uid, strategy)

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


async def verify_tenant(
    store: GovernanceStore, tenant: str, uid: str | None, strategy: str | None
) -> dict[Key, ChainVerification]:
    """One verification per strategy: registered ones, and any whose records outlive its entry."""
    docs = {
        (d.uid, d.strategy_id): d
        for d in await store.list_strategies(tenant, uid)
        # Exactly this tenant and strategy: a pattern match in an adapter must not widen it.
        if d.tenant_id == tenant and strategy in (None, d.strategy_id)
    }
    keys = set(docs)
    # A record that no longer parses is named by the per-strategy pass below.
    with suppress(RecordCorrupt):
        keys |= {(r.uid, r.strategy_id) for r in await store.list_records(tenant, uid, strategy)}
    if uid and strategy:
        keys.add((uid, strategy))
    results: dict[Key, ChainVerification] = {}
    for key in sorted(keys):
        try:
            records = await store.list_records(tenant, *key)
        except RecordCorrupt as exc:
            results[key] = ChainVerification(
                ok=False, checked=0, first_broken_record_id=exc.field, reason=exc.message
            )
            continue
        doc = docs.get(key)
        if doc is None and not records:
            continue  # neither registered nor recorded: nothing to verify
        result = verify_chain(records)
        results[key] = result if not result.ok else head_check(doc, records) or result
    return results


def head_check(doc: StrategyDoc | None, records: list[PromotionRecord]) -> ChainVerification | None:
    """The strategy doc must point at the last record: catches a chain cut short at its end, or a
    last record rewritten with a recomputed hash, which the links alone cannot show."""
    last = max(records, key=lambda r: r.sequence) if records else None
    if doc is None:
        assert last is not None
        return ChainVerification(
            ok=False,
            checked=len(records),
            first_broken_record_id=last.record_id,
            reason="records exist for a strategy that is not in the registry",
        )
    expected = (len(records), last.record_id if last else None, last.record_hash if last else None)
    actual = (doc.chain_length, doc.last_stage_change_record_id, doc.last_record_hash)
    if expected == actual:
        return None
    return ChainVerification(
        ok=False,
        checked=len(records),
        first_broken_record_id=doc.last_stage_change_record_id or (last and last.record_id),
        reason=(
            f"chain head: the strategy points at record {doc.last_stage_change_record_id} "
            f"(#{doc.chain_length}, hash {str(doc.last_record_hash)[:12]}), the stored chain "
            f"ends at {last.record_id if last else 'nothing'} (#{len(records)})"
        ),
    )
