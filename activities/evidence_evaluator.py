"""The production eligibility evaluator: evidence + the stored risk history -> report."""

from __future__ import annotations

from pathlib import Path

from activities.contracts import EvaluateInput
from evidence.calendars import provide_sessions
from evidence.files import EvidenceSource, FileEvidenceSource
from governance.eligibility import build_report
from governance.evidence_columns import EvidenceBundle
from governance.records import EvidenceRef
from governance.replay import CitedFile
from governance.report import EligibilityReport
from governance.risk_events import StoredRiskEvent, risk_history
from governance.stages import ORDER


class EvidenceEvaluator:
    """Reads a strategy's evidence through an EvidenceSource (files by default, or the
    platform's collections), with the calendar's sessions kept under `root`.

    Memory per evaluation is bounded by the evidence's kinds other than signal evaluations,
    which are read as per-day summaries (evidence.partials), a few days of rows at a time
    when a summary has to be computed: evaluations run side by side do not multiply the
    whole window's rows.

    The workflow's evaluation, a decision's replay (`records explain`) and the policy what-if
    all build their reports through `report`: one code path, whatever evidence it is given.
    """

    def __init__(self, root: Path, source: EvidenceSource | None = None):
        self.root = Path(root)
        self.source = source if source is not None else FileEvidenceSource(self.root)

    def __call__(self, inp: EvaluateInput, risk: list[StoredRiskEvent]) -> EligibilityReport:
        return self.report(inp, self.current(inp.tenant_id, inp.uid, inp.strategy_id, risk))

    def current(
        self, tenant_id: str, uid: str, strategy_id: str, risk: list[StoredRiskEvent]
    ) -> EvidenceBundle:
        """Everything the strategy holds now, with the stored risk history."""
        return _with_risk(self.source.open(tenant_id, uid, strategy_id), risk)

    def cited(
        self,
        tenant_id: str,
        uid: str,
        strategy_id: str,
        refs: list[EvidenceRef],
        risk: list[StoredRiskEvent],
        verify: bool = True,
    ) -> tuple[EvidenceBundle, list[CitedFile]]:
        """Exactly the evidence a record cites (each file checked unless `verify` is off),
        with the risk events it cites (the caller selects them)."""
        bundle, files = self.source.open_cited(tenant_id, uid, strategy_id, refs, verify)
        return _with_risk(bundle, risk), files

    def report(self, inp: EvaluateInput, bundle: EvidenceBundle) -> EligibilityReport:
        entered = inp.stage_entered_at or inp.now
        provide_sessions(self.root, inp.policy.calendar, entered.year - 1, inp.now.year + 1)
        from_stage = ORDER[ORDER.index(inp.target_stage) - 1]
        return build_report(
            bundle=bundle,
            policy=inp.policy,
            from_stage=from_stage,
            target_stage=inp.target_stage,
            stage_entered_at=inp.stage_entered_at,
            now=inp.now,
        )


def _with_risk(bundle: EvidenceBundle, risk: list[StoredRiskEvent]) -> EvidenceBundle:
    return bundle.with_risk(*risk_history(risk)) if risk else bundle
