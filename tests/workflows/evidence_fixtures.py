"""Generated evidence for workflow tests: a strategy with an edge, and one without."""

from __future__ import annotations

import zlib
from pathlib import Path

from activities.evidence_evaluator import EvidenceEvaluator
from evidence.files import FileEvidenceSource
from evidence.synthetic import Spec

SMALL = Spec(
    sessions=8, symbols=20, evals_per_session=500, fills_per_session=10, orders_per_session=6
)


def seed_evidence(
    root: Path, tenant: str, strategies: dict[str, float], uid: str = "quant"
) -> EvidenceEvaluator:
    source = FileEvidenceSource(root)
    for strategy_id, edge in strategies.items():
        generate_for(source, tenant, uid, strategy_id, edge)
    return EvidenceEvaluator(root)


def generate_for(
    source: FileEvidenceSource, tenant: str, uid: str, strategy_id: str, edge: float
) -> None:
    from dataclasses import replace

    from evidence.synthetic import generate

    generate(
        source,
        tenant,
        uid,
        strategy_id,
        replace(SMALL, edge=edge, seed=zlib.crc32(strategy_id.encode())),
    )
