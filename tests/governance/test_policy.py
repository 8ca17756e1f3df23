"""The policy's defaults are the spec's numbers; impossible values are refused by name."""

from __future__ import annotations

import pytest

from governance.errors import PolicyMissing
from governance.policy import PolicyInvalid, default_policy, effective_policy, parse_policy
from governance.roles import Role
from governance.stages import Transition


def test_defaults_are_the_spec_numbers() -> None:
    p = default_policy()
    w = p.stability_windows
    assert (w.observe_to_shadow.min_sessions, w.observe_to_shadow.min_evaluations) == (5, 500)
    assert (w.shadow_to_paper.min_sessions, w.shadow_to_paper.min_fills) == (10, 50)
    assert w.shadow_to_paper.min_signals_if_low_turnover == 1000
    assert (w.paper_to_live.min_sessions, w.paper_to_live.min_orders) == (20, 100)
    q = p.signal_quality_thresholds
    o = q.observe_to_shadow
    assert (o.coverage_min, o.hit_rate_min, o.ic_mean_min, o.ic_negative_day_fraction_max) == (
        0.90,
        0.52,
        0.02,
        0.60,
    )
    assert (o.calibration_monotonic_buckets_min, o.calibration_buckets) == (4, 5)
    s = q.shadow_to_paper
    assert (s.window_return_min, s.sharpe_daily_min, s.max_drawdown_max, s.turnover_max) == (
        0.0,
        0.2,
        0.03,
        1.5,
    )
    live = q.paper_to_live
    assert (live.window_return_min, live.max_drawdown_max, live.worst_day_return_min) == (
        0.0,
        0.02,
        -0.01,
    )
    r = p.risk_thresholds
    assert (
        r.daily_loss_limit,
        r.drawdown_breaker,
        r.concentration_limit,
        r.risk_denial_rate_max,
    ) == (
        0.02,
        0.05,
        0.20,
        0.02,
    )
    d = p.data_integrity_thresholds
    assert (d.quote_freshness_min, d.missing_field_rate_max) == (0.99, 0.005)
    assert (d.evaluation_error_rate_max, d.fill_failure_rate_max, d.order_api_error_rate_max) == (
        0.001,
        0.001,
        0.005,
    )
    m = p.approval_matrix
    assert m.observe_to_shadow.roles == [Role.STRATEGY_REVIEWER]
    assert m.observe_to_shadow.auto_approve_non_production
    assert m.shadow_to_paper.roles == [Role.RISK_APPROVER, Role.OPS_APPROVER]
    assert m.paper_to_live.roles == [
        Role.RISK_APPROVER,
        Role.OPS_APPROVER,
        Role.FINAL_AUTHORIZER,
        Role.FINAL_AUTHORIZER,
    ]
    assert m.paper_to_live.ordered and m.unfreeze.roles == [Role.RISK_APPROVER]
    assert p.production and not p.auto_approves(Transition.OBSERVE_TO_SHADOW)


@pytest.mark.parametrize(
    ("patch", "field", "why"),
    [
        (
            {"stability_windows": {"observe_to_shadow": {"min_sessions": -1}}},
            "stability_windows.observe_to_shadow.min_sessions",
            "greater than or equal to 0",
        ),
        (
            {"data_integrity_thresholds": {"quote_freshness_min": 1.2}},
            "data_integrity_thresholds.quote_freshness_min",
            "less than or equal to 1",
        ),
        (
            {"signal_quality_thresholds": {"observe_to_shadow": {"hit_rate_min": -0.1}}},
            "signal_quality_thresholds.observe_to_shadow.hit_rate_min",
            "greater than or equal to 0",
        ),
        (
            {"approval_matrix": {"shadow_to_paper": {"roles": ["boss"]}}},
            "approval_matrix.shadow_to_paper.roles.0",
            "'strategy_reviewer'",
        ),
        (
            {"approval_matrix": {"observe_to_paper": {"roles": ["risk_approver"]}}},
            "approval_matrix",
            "one stage at a time",
        ),
        ({"surprise": 1}, "surprise", "Extra inputs"),
    ],
)
def test_impossible_values_are_refused_naming_the_field(patch: dict, field: str, why: str) -> None:
    data = default_policy().model_dump(mode="json")
    for key, value in patch.items():
        if isinstance(value, dict) and isinstance(data.get(key), dict):
            data[key] = {**data[key], **value}
        else:
            data[key] = value
    with pytest.raises(PolicyInvalid) as refused:
        parse_policy(data)
    assert any(f == field and why in msg for f, msg in refused.value.errors), refused.value.errors


def test_overrides_merge_and_missing_policy_fails_closed() -> None:
    merged = effective_policy(
        default_policy(),
        {"signal_quality_thresholds": {"observe_to_shadow": {"hit_rate_min": 0.55}}},
    )
    assert merged.signal_quality_thresholds.observe_to_shadow.hit_rate_min == 0.55
    assert merged.signal_quality_thresholds.observe_to_shadow.coverage_min == 0.90
    with pytest.raises(PolicyMissing):
        effective_policy(None, None)
    with pytest.raises(PolicyInvalid):
        effective_policy(default_policy(), {"risk_thresholds": {"daily_loss_limit": 7}})
