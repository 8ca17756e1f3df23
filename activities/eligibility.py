"""Evaluating a strategy's evidence into an eligibility report (stored under its hash)."""

from __future__ import annotations

import asyncio
from typing import Any, Protocol

from temporalio import activity

from activities.contracts import EvaluateInput
from governance.promotion import CriterionOutcome, ReportSummary, Verdict
from store.port import GovernanceStore


class EligibilityEvaluator(Protocol):
    """Builds the full eligibility report (its public JSON contract) for one strategy."""

    def __call__(self, inp: EvaluateInput) -> dict[str, Any]: ...


def summarize(report: dict[str, Any]) -> ReportSummary:
    window = dict(report.get("window") or {})
    return ReportSummary(
        verdict=Verdict(report["verdict"]),
        metrics_hash=report["metrics_hash"],
        criteria=[
            CriterionOutcome(
                name=c["name"],
                passed=bool(c["passed"]),
                threshold=_scalar(c.get("threshold")),
                value=_scalar(c.get("value")),
            )
            for c in report.get("criteria", [])
        ],
        reasons=[str(r) for r in report.get("reasons", [])],
        window=window,
        window_start=window.get("start"),
        window_end=window.get("end"),
    )


def _scalar(value: Any) -> float | int | str | None:
    if value is None or isinstance(value, int | float | str):
        return value
    return str(value)


class EligibilityActivities:
    def __init__(self, store: GovernanceStore, evaluator: EligibilityEvaluator):
        self.store = store
        self.evaluator = evaluator

    @activity.defn(name="evaluate_eligibility")
    async def evaluate_eligibility(self, inp: EvaluateInput) -> ReportSummary:
        # The metrics engine is CPU-bound NumPy: keep it off the worker's event loop.
        report = await asyncio.to_thread(self.evaluator, inp)
        await self.store.put_evaluation_report(inp.tenant_id, report)
        return summarize(report)
