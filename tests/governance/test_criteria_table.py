"""Every criterion of every transition binds on its own.

For each transition, a policy is tightened until every threshold sits exactly on its measured
value (inclusive comparators: the report is ELIGIBLE). Then each criterion in turn is moved one
float step past its value: the report must turn INELIGIBLE with that criterion, and only that
one, failing, and the reason must name it with its value, comparator and threshold. A criterion
that could not fail would survive this test; none may.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from evidence.files import FileEvidenceSource
from evidence.synthetic import Spec, generate
from governance.criteria_catalog import BY_TRANSITION, CATALOG
from governance.eligibility import build_report
from governance.evidence_columns import EvidenceBundle, RiskEvents
from governance.metrics import returns as ret
from governance.policy import PromotionPolicy
from governance.report import Comparator, CriterionStatus, EligibilityReport, Verdict
from governance.stages import LifecycleStage, Transition

NOW = datetime(2026, 11, 27, 23, 0, tzinfo=UTC)
SKEW_MS = 5_000  # one evidence row is stamped this far in the future
FROM = {
    Transition.OBSERVE_TO_SHADOW: (LifecycleStage.OBSERVE, LifecycleStage.SHADOW),
    Transition.SHADOW_TO_PAPER: (LifecycleStage.SHADOW, LifecycleStage.PAPER),
    Transition.PAPER_TO_LIVE: (LifecycleStage.PAPER, LifecycleStage.LIVE),
}
Path_ = tuple[str, ...]
SQ, RT, DI = "signal_quality_thresholds", "risk_thresholds", "data_integrity_thresholds"


@dataclass(frozen=True)
class Evidence:
    bundle: EvidenceBundle
    entered: datetime


@pytest.fixture(scope="module")
def evidence(tmp_path_factory: pytest.TempPathFactory) -> Evidence:
    """25 sessions of a modest edge, with every fault kind present at a small rate."""
    source = FileEvidenceSource(Path(tmp_path_factory.mktemp("evidence")))
    spec = Spec(sessions=25, edge=0.04, error_rate=0.002, end=date(2026, 11, 27), seed=11)
    first, _ = generate(source, "t", "quant", "s", spec)
    bundle = source.load("t", "quant", "s")
    assert bundle.fills is not None and bundle.orders is not None
    fills, orders = bundle.fills, bundle.orders
    n_f, n_o = np.arange(len(fills)), np.arange(len(orders))
    # Faults the generator leaves at zero, so that each "at most" criterion has a value above 0.
    denied_day = int(fills.day[len(fills) // 2])
    risk_denied = np.where(fills.day == denied_day, 1, 0).astype(np.int8)
    fills = replace(fills, fill_failed=n_f % 97 == 5, risk_denied=risk_denied)
    orders = replace(orders, api_error=n_o % 71 == 3, risk_denied=n_o % 53 == 7)
    warning_ns = int(fills.ts[len(fills) // 2])
    future_ns = int(NOW.timestamp() * 1e9) + SKEW_MS * 1_000_000
    risk = RiskEvents(
        ts=np.array([warning_ns, future_ns], dtype=np.int64),
        kind=np.array(["circuit_breaker_warning", "concentration_warning"]),
        severity=np.array(["WARNING", "WARNING"]),
        event_id=np.array(["w-1", "w-future"]),
    )
    return Evidence(replace(bundle, fills=fills, orders=orders, risk=risk), first.to_pydatetime())


def discrete(bundle: EvidenceBundle) -> EvidenceBundle:
    """The same signals as a BUY/SELL/HOLD strategy: no score, so lift replaces the IC."""
    assert bundle.signals is not None
    return replace(
        bundle, signals=replace(bundle.signals, score=np.full(len(bundle.signals), np.nan))
    )


# -- the knob that moves each criterion's threshold -----------------------------------------------
Updates = dict[Path_, Any]


def threshold(*path: str) -> Callable[[float, Comparator], tuple[Updates, Updates]]:
    """A float threshold: on the value passes; one float step past it fails."""

    def knob(value: float, comparator: Comparator) -> tuple[Updates, Updates]:
        past = math.nextafter(value, math.inf if comparator == Comparator.AT_LEAST else -math.inf)
        return {path: value}, {path: past}

    return knob


def allowance(*path: str) -> Callable[[float, Comparator], tuple[Updates, Updates]]:
    """A whole-number threshold: on the value passes; one past it fails."""

    def knob(value: float, comparator: Comparator) -> tuple[Updates, Updates]:
        step = 1 if comparator == Comparator.AT_LEAST else -1
        return {path: int(value)}, {path: int(value) + step}

    return knob


def skew(value: float, comparator: Comparator) -> tuple[Updates, Updates]:
    """The allowed skew: exactly the future row's lead passes; a millisecond less fails."""
    path = (DI, "max_clock_skew_ms")
    return {path: SKEW_MS}, {path: SKEW_MS - 1}


def loss_limit(worst_day: Callable[[EvidenceBundle], float]) -> Any:
    """The daily loss limit: at the worst day's loss no day breaches; a hair under, one does."""

    def knob(bundle: EvidenceBundle) -> tuple[Updates, Updates]:
        loss = -worst_day(bundle)
        assert loss > 0, "the evidence needs a losing day"
        path = (RT, "daily_loss_limit")
        return {path: loss}, {path: math.nextafter(loss, 0.0)}

    return knob


def _shadow_worst_day(bundle: EvidenceBundle) -> float:
    assert bundle.fills is not None
    f = bundle.fills.where(~bundle.fills.fill_failed)
    return float(ret.daily_returns(f.day, f.equity, f.pnl)[1].min())


def _paper_worst_day(bundle: EvidenceBundle) -> float:
    assert bundle.orders is not None
    o = bundle.orders
    f = o.where(np.isfinite(o.fill_price) & ~o.api_error & ~o.risk_denied)
    return float(ret.daily_returns(f.day, f.equity, f.pnl)[1].min())


O2S, S2P, P2L = (SQ, "observe_to_shadow"), (SQ, "shadow_to_paper"), (SQ, "paper_to_live")
KNOBS: dict[Transition, dict[str, Any]] = {
    Transition.OBSERVE_TO_SHADOW: {
        "coverage": threshold(*O2S, "coverage_min"),
        "hit_rate": threshold(*O2S, "hit_rate_min"),
        "ic_mean": threshold(*O2S, "ic_mean_min"),
        "ic_negative_day_fraction": threshold(*O2S, "ic_negative_day_fraction_max"),
        "lift": threshold(*O2S, "lift_min"),
        "calibration_monotonic_buckets": allowance(*O2S, "calibration_monotonic_buckets_min"),
        "schema_error_rate": threshold(DI, "schema_error_rate_max"),
        "stale_rate": threshold(DI, "stale_rate_max"),
        "clock_skew_violations": skew,
    },
    Transition.SHADOW_TO_PAPER: {
        "window_return": threshold(*S2P, "window_return_min"),
        "sharpe_daily": threshold(*S2P, "sharpe_daily_min"),
        "max_drawdown": threshold(*S2P, "max_drawdown_max"),
        "hwm_drawdown": threshold(RT, "drawdown_breaker"),
        "daily_loss_breach_days": loss_limit(_shadow_worst_day),
        "turnover": threshold(*S2P, "turnover_max"),
        "concentration_breaches": allowance(RT, "concentration_breach_allowance"),
        "vix_warning_denial_days": allowance(RT, "vix_warnings_with_denials_max"),
        "quote_freshness": threshold(DI, "quote_freshness_min"),
        "fill_failure_rate": threshold(DI, "fill_failure_rate_max"),
        "missing_field_rate": threshold(DI, "missing_field_rate_max"),
        "evaluation_error_rate": threshold(DI, "evaluation_error_rate_max"),
        "stale_rate": threshold(DI, "stale_rate_max"),
        "clock_skew_violations": skew,
    },
    Transition.PAPER_TO_LIVE: {
        "window_return": threshold(*P2L, "window_return_min"),
        "max_drawdown": threshold(*P2L, "max_drawdown_max"),
        "hwm_drawdown": threshold(RT, "drawdown_breaker"),
        "worst_day_return": threshold(*P2L, "worst_day_return_min"),
        "daily_loss_breach_days": loss_limit(_paper_worst_day),
        "decision_latency_p50": threshold(*P2L, "decision_latency_p50_ms_max"),
        "slippage_bps_p50": threshold(*P2L, "slippage_bps_p50_max"),
        "slippage_bias_bps": threshold(*P2L, "slippage_bias_bps_max"),
        "risk_denial_rate": threshold(RT, "risk_denial_rate_max"),
        "order_api_error_rate": threshold(DI, "order_api_error_rate_max"),
        "clock_skew_violations": skew,
    },
}
# Settings that give every criterion a value strictly inside its range, so that one step past
# it is still a valid policy (a rate of 0 cannot be undercut, 5 of 5 buckets cannot be exceeded).
SETUP: Updates = {
    (*O2S, "calibration_buckets"): 10,
    (DI, "max_quote_age_ms"): 300,
    (RT, "concentration_limit"): 0.14,
}
LOSS_KNOBS = {"daily_loss_breach_days"}


def with_updates(policy: PromotionPolicy, updates: Updates) -> PromotionPolicy:
    data = policy.model_dump(mode="json")
    for path, value in updates.items():
        node = data
        for key in path[:-1]:
            node = node[key]
        assert path[-1] in node, f"no policy field {'.'.join(path)}"
        node[path[-1]] = value
    return PromotionPolicy.model_validate(data)


def report(
    evidence: Evidence, bundle: EvidenceBundle, transition: Transition, policy: PromotionPolicy
) -> EligibilityReport:
    from_stage, target = FROM[transition]
    return build_report(
        bundle=bundle,
        policy=policy,
        from_stage=from_stage,
        target_stage=target,
        stage_entered_at=evidence.entered,
        now=NOW,
    )


@dataclass(frozen=True)
class Case:
    transition: Transition
    bundle: EvidenceBundle
    tight: PromotionPolicy  # every threshold on its value
    outside: dict[str, PromotionPolicy]  # one criterion a step past its value


def cases(evidence: Evidence) -> Iterator[Case]:
    base = with_updates(PromotionPolicy(policy_version="criteria-table"), SETUP)
    for transition, knobs in KNOBS.items():
        bundles = [evidence.bundle]
        if transition == Transition.OBSERVE_TO_SHADOW:
            bundles.append(discrete(evidence.bundle))  # lift in place of the IC
        for bundle in bundles:
            measured = {c.name: c for c in report(evidence, bundle, transition, base).criteria}
            inside: Updates = {}
            outside: dict[str, Updates] = {}
            for name, criterion in measured.items():
                knob = knobs[name]
                if name in LOSS_KNOBS:
                    on, past = knob(bundle)
                else:
                    assert criterion.value is not None, f"{name}: {criterion.why}"
                    on, past = knob(criterion.value, criterion.comparator)
                inside |= on
                outside[name] = past
            tight = with_updates(base, inside)
            yield Case(
                transition,
                bundle,
                tight,
                {name: with_updates(tight, past) for name, past in outside.items()},
            )


def test_every_criterion_of_every_transition_is_covered(evidence: Evidence) -> None:
    seen: dict[Transition, set[str]] = {t: set() for t in Transition}
    for case in cases(evidence):
        seen[case.transition] |= set(case.outside)
    for transition, names in BY_TRANSITION.items():
        assert seen[transition] == set(names), transition
        assert set(KNOBS[transition]) == set(names), transition


def test_on_the_threshold_passes_and_one_step_past_fails_alone(evidence: Evidence) -> None:
    for case in cases(evidence):
        tight = report(evidence, case.bundle, case.transition, case.tight)
        assert tight.verdict == Verdict.ELIGIBLE, (case.transition, tight.reasons)
        assert all(c.status == CriterionStatus.PASS for c in tight.criteria)
        for name, policy in case.outside.items():
            r = report(evidence, case.bundle, case.transition, policy)
            failing = [c for c in r.criteria if c.status != CriterionStatus.PASS]
            assert [c.name for c in failing] == [name], (case.transition, name, r.reasons)
            assert r.verdict == Verdict.INELIGIBLE
            c = failing[0]
            assert c.status == CriterionStatus.FAIL and c.margin is not None and c.margin < 0
            assert c.comparator == CATALOG[name].comparator and c.unit == CATALOG[name].unit
            assert c.value is not None
            assert r.reasons == [f"{name}: {c.value:.6g} fails {c.comparator} {c.threshold:g}"], (
                r.reasons
            )


# -- not measurable is never a pass -------------------------------------------------------------
def unreported(column: str) -> Callable[[EvidenceBundle], EvidenceBundle]:
    def change(bundle: EvidenceBundle) -> EvidenceBundle:
        target = "fills" if column == "risk_denied" else "signals"
        part = getattr(bundle, target)
        return replace(
            bundle, **{target: replace(part, **{column: np.full(len(part), -1, np.int8)})}
        )

    return change


def no_confidence(bundle: EvidenceBundle) -> EvidenceBundle:
    assert bundle.signals is not None
    s = bundle.signals
    return replace(bundle, signals=replace(s, confidence=np.full(len(s), np.nan)))


def flat_returns(bundle: EvidenceBundle) -> EvidenceBundle:
    """Every day returns the same: the Sharpe ratio has no standard deviation to divide by."""
    assert bundle.fills is not None
    f = bundle.fills
    return replace(bundle, fills=replace(f, pnl=np.zeros(len(f)), equity=np.full(len(f), 1e6)))


NOT_MEASURABLE = [
    (Transition.OBSERVE_TO_SHADOW, unreported("schema_error"), "schema_error_rate", "schema_error"),
    (
        Transition.OBSERVE_TO_SHADOW,
        unreported("marketdata_stale"),
        "stale_rate",
        "marketdata_stale",
    ),
    (Transition.OBSERVE_TO_SHADOW, no_confidence, "calibration_monotonic_buckets", "confidence"),
    (
        Transition.SHADOW_TO_PAPER,
        unreported("missing_fields"),
        "missing_field_rate",
        "missing_fields",
    ),
    (
        Transition.SHADOW_TO_PAPER,
        unreported("risk_denied"),
        "vix_warning_denial_days",
        "risk_denied",
    ),
    (Transition.SHADOW_TO_PAPER, flat_returns, "sharpe_daily", "constant daily return"),
]


@pytest.mark.parametrize(
    ("transition", "change", "name", "why"), NOT_MEASURABLE, ids=[c[2] for c in NOT_MEASURABLE]
)
def test_a_criterion_that_cannot_be_measured_makes_the_report_ineligible(
    evidence: Evidence,
    transition: Transition,
    change: Callable[[EvidenceBundle], EvidenceBundle],
    name: str,
    why: str,
) -> None:
    generous = PromotionPolicy(
        policy_version="generous",
        waived=[],
        data_integrity_thresholds={"max_clock_skew_ms": SKEW_MS},
    )
    r = report(evidence, change(evidence.bundle), transition, generous)
    criterion = next(c for c in r.criteria if c.name == name)
    assert criterion.status == CriterionStatus.NOT_MEASURABLE and criterion.value is None
    assert why in (criterion.why or "")
    assert r.verdict == Verdict.INELIGIBLE
    assert f"{name}: not measurable ({criterion.why})" in r.reasons


def test_no_evidence_of_a_kind_waits_for_it(evidence: Evidence) -> None:
    r = report(
        evidence,
        replace(evidence.bundle, fills=None),
        Transition.SHADOW_TO_PAPER,
        PromotionPolicy(policy_version="p"),
    )
    awaiting = {c.name for c in r.criteria if c.status == CriterionStatus.AWAITING_EVIDENCE}
    assert "window_return" in awaiting and "fill_failure_rate" in awaiting
    assert r.verdict == Verdict.WAITING


# -- waivers ------------------------------------------------------------------------------------
def test_a_waiver_lets_a_failing_criterion_through_and_is_reported(evidence: Evidence) -> None:
    case = next(c for c in cases(evidence) if c.transition == Transition.SHADOW_TO_PAPER)
    failing = case.outside["turnover"]
    assert report(evidence, case.bundle, case.transition, failing).verdict == Verdict.INELIGIBLE
    waiver = {"transition": "shadow_to_paper", "criterion": "turnover", "reason": "index arb"}
    waived = PromotionPolicy.model_validate(failing.model_dump(mode="json") | {"waived": [waiver]})
    r = report(evidence, case.bundle, case.transition, waived)
    turnover = next(c for c in r.criteria if c.name == "turnover")
    assert (
        turnover.status == CriterionStatus.WAIVED and turnover.why == "waived by policy: index arb"
    )
    assert r.verdict == Verdict.ELIGIBLE
    assert [(w.criterion, w.reason) for w in r.waivers] == [
        ("turnover", "waived by policy: index arb")
    ]
    # A waiver names a criterion of its own transition; any other is refused by name.
    with pytest.raises(ValueError, match="turnover"):
        PromotionPolicy.model_validate(
            failing.model_dump(mode="json")
            | {
                "waived": [
                    {
                        "transition": "paper_to_live",
                        "criterion": "turnover",
                        "reason": "not this one",
                    }
                ]
            }
        )
