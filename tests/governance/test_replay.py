"""The replay's comparison rules: counts exact, other values within the stated tolerance, and
the cited risk history found again by its hash (or a changed one named)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from governance.replay import FLOAT_TOLERANCE, cited_risk_events, values_equal
from governance.risk_events import RiskEventKind, StoredRiskEvent, risk_history

T0 = datetime(2026, 11, 2, 15, tzinfo=UTC)


def test_counts_compare_exactly_and_floats_within_the_tolerance() -> None:
    assert values_equal("count", 3.0, 3.0)
    assert not values_equal("count", 3.0, 3.0 + 1e-15)
    assert not values_equal("days", 0.0, 1.0)
    assert values_equal("fraction", 0.5, 0.5 + FLOAT_TOLERANCE / 2)
    assert not values_equal("fraction", 0.5, 0.5 + 3 * FLOAT_TOLERANCE)
    # Relative to the recorded magnitude above 1 (a latency in ms, a Sharpe ratio).
    assert values_equal("ms", 250.0, 250.0 * (1 + FLOAT_TOLERANCE / 2))
    assert not values_equal("ms", 250.0, 250.0 * (1 + 3 * FLOAT_TOLERANCE))
    assert values_equal("rho", None, None)
    assert not values_equal("rho", None, 0.1) and not values_equal("rho", 0.1, None)


def event(n: int, received: datetime | None = None) -> StoredRiskEvent:
    return StoredRiskEvent(
        tenant_id="t",
        uid="u",
        strategy_id="s",
        event_id=f"e{n}",
        kind=RiskEventKind.MARKETDATA_STALE,
        ts=T0 + timedelta(minutes=n),
        received_at=received or T0 + timedelta(minutes=n),
    )


def test_the_cited_risk_events_are_found_by_their_hash() -> None:
    then = [event(1), event(2)]
    _, ref = risk_history(then)
    later = event(3, received=T0 + timedelta(days=1))
    found, problem = cited_risk_events([later, *then], [ref], until=T0 + timedelta(hours=1))
    assert found == then and problem is None
    # No risk history cited: none of the stored events counts.
    assert cited_risk_events(then, [], until=T0) == ([], None)


def test_a_removed_risk_event_is_named() -> None:
    _, ref = risk_history([event(1), event(2)])
    found, problem = cited_risk_events([event(2)], [ref], until=T0 + timedelta(hours=1))
    assert found == [event(2)]
    assert problem is not None and "risk_history 2-events" in problem and "removed" in problem
