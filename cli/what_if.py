"""`stratgate policy what-if`: a candidate policy evaluated against today's strategies and past
decisions, without publishing it."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from cli.common import Json, Tenant, emit_json, run
from cli.session import local_operator, local_ports
from governance.what_if import CriterionChange, WhatIf

console = Console(width=160)


def what_if(
    tenant: Tenant,
    file: Annotated[Path, typer.Argument(help="Candidate policy as JSON or YAML.")],
    as_json: Json = False,
) -> None:
    """Which strategies would change verdict and which past promotions would not have passed
    under a candidate policy, criterion by criterion (read-only)."""
    from app.what_if import policy_what_if
    from cli.policy import read_policy_file

    data = read_policy_file(file)

    async def go() -> WhatIf:
        async with local_ports(temporal=False, evidence=True) as ports:
            return await policy_what_if(
                ports, local_operator(tenant), tenant_id=tenant, candidate=data
            )

    result = run(go())  # a candidate that fails validation: one line naming each bad field
    if as_json:
        emit_json(result.model_dump(mode="json"))
        return
    render(result)


def render(w: WhatIf) -> None:
    console.print(
        f"candidate {w.candidate_version} against current {w.current_version or '(none)'} "
        f"for tenant {w.tenant_id}"
    )
    flips = Table("strategy", "next", "current", "candidate", "criteria that change")
    for s in w.flipped:
        flips.add_row(
            f"{s.uid}/{s.strategy_id}",
            f"{s.stage} -> {s.target_stage}",
            str(s.current_verdict),
            str(s.candidate_verdict),
            "\n".join(_describe(c) for c in s.changes) or "; ".join(s.candidate_reasons),
        )
    evaluated = [s for s in w.strategies if s.note is None]
    console.print(f"{len(evaluated)} strategies evaluated, {len(w.flipped)} change verdict")
    if w.flipped:
        console.print(flips)
    for s in w.strategies:
        if s.note is not None:
            console.print(f"{s.uid}/{s.strategy_id}: not evaluated: {s.note}")
    fails = Table("record", "strategy", "transition", "effective", "candidate", "failing criteria")
    for r in w.would_fail:
        fails.add_row(
            r.record_id,
            f"{r.uid}/{r.strategy_id}",
            f"{r.from_stage} -> {r.to_stage}",
            r.effective_at.isoformat()[:19],
            str(r.candidate_verdict),
            "\n".join(_describe(c) for c in r.failing) or "; ".join(r.candidate_reasons),
        )
    console.print(
        f"{len(w.records)} past decisions re-evaluated, {len(w.would_fail)} would not have passed"
    )
    if w.would_fail:
        console.print(fails)


def _describe(c: CriterionChange) -> str:
    value = "-" if c.value is None else f"{c.value:.6g}"
    threshold = f"{c.before_threshold:g}" if c.before_threshold is not None else "-"
    if c.candidate_threshold != c.before_threshold and c.candidate_threshold is not None:
        threshold += f" -> {c.candidate_threshold:g}"
    return f"{c.name}: {value} vs {threshold}: {c.before_status or '-'} -> {c.candidate_status}"
