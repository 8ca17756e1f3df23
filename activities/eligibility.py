"""Evaluating a strategy's evidence into an eligibility report (stored under its hash)."""

from __future__ import annotations

import asyncio
from typing import Protocol

from temporalio import activity

from activities.contracts import EvaluateInput
from governance.report import EligibilityReport
from governance.risk_events import StoredRiskEvent
from store.port import ReportStore, RiskHistory


class EligibilityEvaluator(Protocol):
    """Builds the full eligibility report for one strategy from its evidence and the stored
    risk history (events sent by risk systems count as ingested ones do)."""

    def __call__(self, inp: EvaluateInput, risk: list[StoredRiskEvent]) -> EligibilityReport: ...


class EvaluationStore(RiskHistory, ReportStore, Protocol):
    """What an evaluation reads (the risk history) and writes (the report)."""


class EligibilityActivities:
    def __init__(self, store: EvaluationStore, evaluator: EligibilityEvaluator):
        self.store = store
        self.evaluator = evaluator

    @activity.defn(name="evaluate_eligibility")
    async def evaluate_eligibility(self, inp: EvaluateInput) -> EligibilityReport:
        """The report without its chart series (what the workflow keeps); stored whole."""
        risk = await self.store.list_risk_events(inp.tenant_id, inp.uid, inp.strategy_id)
        # The metrics engine is CPU-bound NumPy: keep it off the worker's event loop, and
        # heartbeat meanwhile so that a lost task is retried in seconds (EVALUATE's timeout).
        beating = asyncio.create_task(_heartbeat())
        try:
            report = await asyncio.to_thread(self.evaluator, inp, risk)
        finally:
            beating.cancel()
        await self.store.put_evaluation_report(inp.tenant_id, report)
        return report.summary()


HEARTBEAT_SECONDS = 2.0


async def _heartbeat() -> None:
    while True:
        activity.heartbeat()
        await asyncio.sleep(HEARTBEAT_SECONDS)
