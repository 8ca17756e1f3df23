"""The policy's defaults are the spec's numbers; impossible values are refused by name."""

from __future__ import annotations

from typing import Any

import pytest

from governance.errors import PolicyMissing
from governance.policy import PolicyInvalid, default_policy, effective_policy, parse_policy
from governance.roles import Role
from governance.stages import Transition


def test_observe_to_shadow_defaults_are_the_spec_numbers() -> None:
    p = default_policy()
    w = p.stability_windows.observe_to_shadow
    assert w.min_sessions == 5  # >= 5 trading sessions in OBSERVE
    assert w.min_evaluations == 500  # >= 500 valid signal evaluations
    q = p.signal_quality_thresholds.observe_to_shadow
    assert q.coverage_min == 0.90  # >= 90% of scheduled evaluations
    assert q.hit_rate_min == 0.52  # >= 52% directional hit rate
    assert q.ic_mean_min == 0.02  # mean IC >= 0.02
    assert q.ic_negative_day_fraction_max == 0.60  # IC negative on <= 60% of days
    assert q.calibration_monotonic_buckets_min == 4  # monotonic in >= 4 ...
    assert q.calibration_buckets == 5  # ... of 5 buckets
    a = p.approval_matrix.observe_to_shadow
    assert a.roles == [Role.STRATEGY_REVIEWER] and a.auto_approve_non_production
    assert p.risk_thresholds.daily_loss_limit == 0.02  # the -2% daily loss breaker


def test_shadow_to_paper_defaults_are_the_spec_numbers() -> None:
    p = default_policy()
    w = p.stability_windows.shadow_to_paper
    assert w.min_sessions == 10  # >= 10 trading sessions in SHADOW
    assert w.min_fills == 50  # >= 50 simulated fills
    assert w.min_signals_if_low_turnover == 1000  # ... or >= 1,000 signals if low-turnover
    q = p.signal_quality_thresholds.shadow_to_paper
    assert q.window_return_min == 0.0  # window return >= 0%
    assert q.sharpe_daily_min == 0.2  # Sharpe (daily) >= 0.2
    assert q.max_drawdown_max == 0.03  # max drawdown <= 3%
    assert q.turnover_max == 1.5  # average daily turnover <= 1.5x
    d = p.data_integrity_thresholds
    assert d.quote_freshness_min == 0.99  # >= 99% of fills with a fresh quote
    assert d.missing_field_rate_max == 0.005  # missing/NaN fields <= 0.5%
    assert d.evaluation_error_rate_max == 0.001  # evaluation exceptions <= 0.1%
    assert d.fill_failure_rate_max == 0.001  # simulated fill failures <= 0.1%
    assert p.risk_thresholds.concentration_limit == 0.20  # >20% position
    a = p.approval_matrix.shadow_to_paper
    assert a.roles == [Role.RISK_APPROVER, Role.OPS_APPROVER]  # 2-person approval
    assert not a.auto_approve_non_production


def test_paper_to_live_defaults_are_the_spec_numbers() -> None:
    p = default_policy()
    w = p.stability_windows.paper_to_live
    assert w.min_sessions == 20  # >= 20 trading sessions in PAPER
    assert w.min_orders == 100  # >= 100 paper orders
    q = p.signal_quality_thresholds.paper_to_live
    assert q.window_return_min == 0.0  # return >= 0%
    assert q.max_drawdown_max == 0.02  # max drawdown <= 2%
    assert q.worst_day_return_min == -0.01  # no single day worse than -1%
    assert p.risk_thresholds.risk_denial_rate_max == 0.02  # risk denial rate <= 2%
    assert p.data_integrity_thresholds.order_api_error_rate_max == 0.005  # <= 0.5%
    a = p.approval_matrix.paper_to_live
    # Risk sign-off, ops sign-off, then the final authorizer under the two-person rule.
    assert a.roles == [
        Role.RISK_APPROVER,
        Role.OPS_APPROVER,
        Role.FINAL_AUTHORIZER,
        Role.FINAL_AUTHORIZER,
    ]
    assert a.ordered and not a.auto_approve_non_production


def test_global_defaults_outside_the_transitions() -> None:
    p = default_policy()
    assert p.risk_thresholds.drawdown_breaker == 0.05  # HWM drawdown > 5%
    assert p.approval_matrix.unfreeze.roles == [Role.RISK_APPROVER]  # manual review
    assert p.production  # auto-approval only for tenants that say they are not production
    assert not p.auto_approves(Transition.OBSERVE_TO_SHADOW)
    non_prod = parse_policy({"policy_version": "dev", "production": False})
    assert non_prod.auto_approves(Transition.OBSERVE_TO_SHADOW)
    assert not non_prod.auto_approves(Transition.SHADOW_TO_PAPER)


def patched(**patch: Any) -> dict[str, Any]:
    """The default policy's document with nested `patch` merged in."""

    def merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
        out = dict(base)
        for k, v in over.items():
            out[k] = merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
        return out

    return merge(default_policy().model_dump(mode="json"), patch)


REFUSALS = [
    # negative windows, in every transition
    *[
        (
            {"stability_windows": {t.value: {"min_sessions": -1}}},
            f"stability_windows.{t.value}.min_sessions",
            "greater than or equal to 0",
        )
        for t in Transition
    ],
    (
        {"stability_windows": {"shadow_to_paper": {"min_fills": -5}}},
        "stability_windows.shadow_to_paper.min_fills",
        "greater than or equal to 0",
    ),
    # rates above 1
    (
        {"data_integrity_thresholds": {"quote_freshness_min": 1.2}},
        "data_integrity_thresholds.quote_freshness_min",
        "less than or equal to 1",
    ),
    (
        {"risk_thresholds": {"risk_denial_rate_max": 2}},
        "risk_thresholds.risk_denial_rate_max",
        "less than or equal to 1",
    ),
    (
        {"signal_quality_thresholds": {"observe_to_shadow": {"coverage_min": 1.01}}},
        "signal_quality_thresholds.observe_to_shadow.coverage_min",
        "less than or equal to 1",
    ),
    # hit rate below 0
    (
        {"signal_quality_thresholds": {"observe_to_shadow": {"hit_rate_min": -0.1}}},
        "signal_quality_thresholds.observe_to_shadow.hit_rate_min",
        "greater than or equal to 0",
    ),
    # unknown role
    (
        {"approval_matrix": {"shadow_to_paper": {"roles": ["boss"]}}},
        "approval_matrix.shadow_to_paper.roles.0",
        "'strategy_reviewer'",
    ),
    # admin may cancel but never approves
    (
        {"approval_matrix": {"unfreeze": {"roles": ["admin"]}}},
        "approval_matrix.unfreeze",
        "'admin' is not an approver role",
    ),
    # transitions that skip a stage, in each per-transition map
    *[
        ({section: {"observe_to_paper": {}}}, section, "one stage at a time")
        for section in ("stability_windows", "signal_quality_thresholds", "approval_matrix")
    ],
    (
        {"approval_matrix": {"shadow_to_live": {"roles": ["risk_approver"]}}},
        "approval_matrix",
        "unknown transition 'shadow_to_live'",
    ),
    # other impossibilities
    (
        {
            "signal_quality_thresholds": {
                "observe_to_shadow": {"calibration_monotonic_buckets_min": 6}
            }
        },
        "signal_quality_thresholds.observe_to_shadow",
        "cannot exceed calibration_buckets",
    ),
    ({"approval_ttl_seconds": 0}, "approval_ttl_seconds", "greater than 0"),
    (
        {"risk_thresholds": {"warning_budget": {"window_seconds": -60}}},
        "risk_thresholds.warning_budget.window_seconds",
        "greater than 0",
    ),
    ({"policy_version": ""}, "policy_version", "at least 1 character"),
    ({"surprise": 1}, "surprise", "Extra inputs"),
]


@pytest.mark.parametrize(("patch", "field", "why"), REFUSALS)
def test_impossible_values_are_refused_naming_the_field(
    patch: dict[str, Any], field: str, why: str
) -> None:
    with pytest.raises(PolicyInvalid) as refused:
        parse_policy(patched(**patch))
    assert any(f == field and why in msg for f, msg in refused.value.errors), refused.value.errors
    assert field in refused.value.message  # the one-line text names it too


def test_every_bad_field_is_named_at_once() -> None:
    data = patched(
        stability_windows={"observe_to_shadow": {"min_sessions": -1}},
        risk_thresholds={"daily_loss_limit": 3},
    )
    with pytest.raises(PolicyInvalid) as refused:
        parse_policy(data)
    fields = {f for f, _ in refused.value.errors}
    assert fields == {
        "stability_windows.observe_to_shadow.min_sessions",
        "risk_thresholds.daily_loss_limit",
    }


def test_a_policy_must_be_a_mapping() -> None:
    with pytest.raises(PolicyInvalid) as refused:
        parse_policy(["not", "a", "policy"])
    assert refused.value.errors[0][0] == "policy"


def test_show_output_parses_back_to_the_same_policy() -> None:
    policy = default_policy("v7")
    assert parse_policy(policy.model_dump(mode="json")) == policy


def test_a_production_policy_always_needs_a_human_approver() -> None:
    data = patched(approval_matrix={"observe_to_shadow": {"roles": []}})
    assert data["production"] is True
    with pytest.raises(PolicyInvalid) as refused:
        parse_policy(data)
    assert refused.value.errors[0][0].startswith("approval_matrix.observe_to_shadow")


def test_overrides_merge_and_missing_policy_fails_closed() -> None:
    merged = effective_policy(
        default_policy(),
        {"signal_quality_thresholds": {"observe_to_shadow": {"hit_rate_min": 0.55}}},
    )
    assert merged.signal_quality_thresholds.observe_to_shadow.hit_rate_min == 0.55
    assert merged.signal_quality_thresholds.observe_to_shadow.coverage_min == 0.90
    assert merged.policy_version == default_policy().policy_version
    with pytest.raises(PolicyMissing) as missing:
        effective_policy(None, None)
    assert missing.value.code == "missing_policy"
    with pytest.raises(PolicyInvalid) as bad:
        effective_policy(default_policy(), {"risk_thresholds": {"daily_loss_limit": 7}})
    assert bad.value.errors[0][0] == "risk_thresholds.daily_loss_limit"
    with pytest.raises(PolicyInvalid) as renamed:
        effective_policy(default_policy(), {"policy_version": "mine"})
    assert renamed.value.errors[0][0] == "stage_overrides.policy_version"
    with pytest.raises(PolicyInvalid):
        effective_policy(default_policy(), {"approval_matrix": {"observe_to_live": {}}})
