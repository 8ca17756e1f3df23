"""The production eligibility evaluator: evidence files + the stored risk history -> report."""

from __future__ import annotations

from pathlib import Path

from activities.contracts import EvaluateInput
from evidence.files import FileEvidenceSource
from governance.eligibility import build_report
from governance.report import EligibilityReport
from governance.risk_events import StoredRiskEvent, risk_history
from governance.stages import ORDER


class EvidenceEvaluator:
    def __init__(self, root: Path):
        self.source = FileEvidenceSource(root)

    def __call__(self, inp: EvaluateInput, risk: list[StoredRiskEvent]) -> EligibilityReport:
        bundle = self.source.open(inp.tenant_id, inp.uid, inp.strategy_id)
        if risk:
            bundle = bundle.with_risk(*risk_history(risk))
        from_stage = ORDER[ORDER.index(inp.target_stage) - 1]
        return build_report(
            bundle=bundle,
            policy=inp.policy,
            from_stage=from_stage,
            target_stage=inp.target_stage,
            stage_entered_at=inp.stage_entered_at,
            now=inp.now,
        )
