"""`stratgate evidence`: ingest, generate and report on a strategy's evidence."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Annotated

import typer

from cli.common import Json, Strategy, Tenant, Uid, emit_json, fail, run
from cli.report_view import render_report
from cli.session import local_operator, local_ports
from evidence import prefetch
from evidence.files import FileEvidenceSource
from evidence.schemas import KINDS
from governance.errors import GovernanceError
from governance.report import EligibilityReport
from governance.stages import LifecycleStage
from settings import Settings

app = typer.Typer(
    help="Evidence: signal evaluations, fills, orders, risk events.", no_args_is_help=True
)


def source() -> FileEvidenceSource:
    return FileEvidenceSource(Settings.from_env().evidence_dir)


@app.command("ingest")
def ingest(
    tenant: Tenant,
    uid: Uid,
    strategy: Strategy,
    kind: Annotated[str, typer.Option("--kind", help=f"One of: {', '.join(KINDS)}.")],
    file: Annotated[Path, typer.Argument(help="A .parquet or .csv file.")],
    as_json: Json = False,
) -> None:
    """Validate a file whole and keep it (content-hashed); a bad file is refused, nothing kept."""
    if kind not in KINDS:
        fail(f"kind: {kind!r} is not one of {', '.join(KINDS)}")
    try:
        ref, rows = source().ingest(tenant, uid, strategy, kind, file)
    except GovernanceError as exc:
        fail(exc.message)
    if as_json:
        emit_json({**ref.model_dump(), "rows": rows})
    else:
        typer.echo(f"ingested {rows} {kind} rows as {ref.id} (sha256 {ref.sha256})")


@app.command("generate")
def generate_cmd(
    tenant: Tenant,
    uid: Uid,
    strategy: Strategy,
    edge: Annotated[float, typer.Option("--edge", help="Predictive edge; 0 is noise.")] = 0.15,
    sessions: Annotated[
        int, typer.Option("--sessions", min=1, help="Trading sessions, ending today.")
    ] = 25,
    symbols: Annotated[int, typer.Option("--symbols", min=1, help="Symbols evaluated.")] = 50,
    evals_per_session: Annotated[
        int, typer.Option("--evals-per-session", min=1, help="Signal evaluations per session.")
    ] = 400,
    seed: Annotated[int, typer.Option("--seed", help="Random seed (same seed, same data).")] = 7,
) -> None:
    """Write a realistic synthetic data set for demos, tests and benchmarks."""
    from evidence.synthetic import Spec, generate  # exchange-calendars: only for this command

    spec = replace(
        Spec(),
        edge=edge,
        sessions=sessions,
        symbols=symbols,
        evals_per_session=evals_per_session,
        seed=seed,
    )
    first, refs = generate(source(), tenant, uid, strategy, spec)
    typer.echo(f"wrote {len(refs)} evidence files from {first.date()} ({sessions} sessions)")


@app.command("report")
def report(
    tenant: Tenant,
    uid: Uid,
    strategy: Strategy,
    to: Annotated[
        LifecycleStage,
        typer.Option("--to", case_sensitive=False, help="Target stage (any case)."),
    ],
    as_json: Json = False,
) -> None:
    """The eligibility report for promoting the strategy to a stage, as approvers see it."""
    from app.evidence_report import eligibility_report

    async def go() -> EligibilityReport:
        async with local_ports(temporal=False, evidence=True) as ports:
            return await eligibility_report(
                ports,
                local_operator(tenant),
                tenant_id=tenant,
                uid=uid,
                strategy_id=strategy,
                to=to,
            )

    prefetch.wait()  # the summaries the CLI's child computed during the imports (prefetch)
    result = run(go())
    if as_json:
        emit_json(result.model_dump(mode="json"))
        return
    render_report(result)
