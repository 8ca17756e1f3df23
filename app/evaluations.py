"""The evidence reader the recomputing use cases need (activities.evidence_evaluator provides
it): the workflow's own evaluation, given the evidence to read."""

from __future__ import annotations

from typing import Protocol

from activities.contracts import EvaluateInput
from governance.evidence_columns import EvidenceBundle
from governance.records import EvidenceRef
from governance.replay import CitedFile
from governance.report import EligibilityReport
from governance.risk_events import StoredRiskEvent


class Evaluations(Protocol):
    def current(
        self, tenant_id: str, uid: str, strategy_id: str, risk: list[StoredRiskEvent]
    ) -> EvidenceBundle: ...

    def cited(
        self,
        tenant_id: str,
        uid: str,
        strategy_id: str,
        refs: list[EvidenceRef],
        risk: list[StoredRiskEvent],
        verify: bool = True,
    ) -> tuple[EvidenceBundle, list[CitedFile]]: ...

    def report(self, inp: EvaluateInput, bundle: EvidenceBundle) -> EligibilityReport: ...
