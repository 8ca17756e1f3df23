"""Every metric against its reference implementation, to 1e-9."""

from __future__ import annotations

import itertools

import empyrical
import numpy as np
import pandas as pd
import pytest
import scipy.stats as st
from hypothesis import given, settings
from hypothesis import strategies as hs
from hypothesis.extra.numpy import arrays

from governance.metrics import returns as ret
from governance.metrics import signal_quality as sq
from governance.metrics.ranking import average_ranks, daily_spearman
from governance.metrics.sessions import sessions_between


@settings(max_examples=60, deadline=None)
@given(
    arrays(
        np.float64,
        hs.integers(1, 300),
        elements=hs.sampled_from([-2.0, -1.0, 0.0, 0.5, 1.0, 3.0, -0.0]),
    )
)
def test_average_ranks_equal_scipy_rankdata_with_ties(values: np.ndarray) -> None:
    assert np.array_equal(average_ranks(values), st.rankdata(values))


@settings(max_examples=80, deadline=None)
@given(
    arrays(
        np.float64,
        hs.integers(1, 400),
        elements=hs.floats(-1e300, 1e300),
    ),
    hs.integers(0, 2**32 - 1),
)
def test_average_ranks_exact_for_any_finite_floats_and_near_collisions(
    values: np.ndarray, seed: int
) -> None:
    # Packed-key ranking drops low mantissa bits: values a hair apart must still rank exactly.
    rng = np.random.default_rng(seed)
    near = 1.0 + rng.integers(0, 4, len(values)) * 2.0**-50
    mixed = np.where(rng.random(len(values)) < 0.5, values, near)
    for sample in (values, mixed, np.nextafter(mixed, np.inf)):
        assert np.array_equal(average_ranks(sample), st.rankdata(sample))


@settings(max_examples=30, deadline=None)
@given(hs.integers(0, 2**32 - 1), hs.integers(2, 12), hs.booleans())
def test_daily_ic_equals_spearmanr_per_day(seed: int, days: int, ties: bool) -> None:
    rng = np.random.default_rng(seed)
    n = 600
    day = rng.integers(0, days, n).astype(np.int64)
    score = rng.normal(size=n)
    fwd = 0.3 * score + rng.normal(size=n)
    if ties:
        score, fwd = np.round(score, 1), np.round(fwd, 1)
    score[rng.random(n) < 0.05] = np.nan
    result = daily_spearman(day, score, fwd)
    expected = []
    for d in np.unique(day):
        m = (day == d) & np.isfinite(score)
        x, y = score[m], fwd[m]
        if len(x) >= 2 and len(np.unique(x)) > 1 and len(np.unique(y)) > 1:
            expected.append((d, st.spearmanr(x, y).statistic))
    assert [d for d, _ in expected] == result.days.tolist()
    assert np.allclose(result.ic, [v for _, v in expected], atol=1e-9, rtol=0)


@settings(max_examples=30, deadline=None)
@given(hs.integers(0, 2**32 - 1), hs.booleans())
def test_daily_ic_with_a_row_mask_equals_dropping_the_rows_first(seed: int, ordered: bool) -> None:
    rng = np.random.default_rng(seed)
    n = 800
    day = rng.integers(0, 6, n).astype(np.int64)
    if ordered:
        day = np.sort(day)  # the slice path; unordered days take the index path
    score = np.round(rng.normal(size=n), 1)
    fwd = 0.2 * score + rng.normal(size=n)
    rows = rng.random(n) < 0.8
    masked = daily_spearman(day, score, fwd, rows)
    dropped = daily_spearman(day[rows], score[rows], fwd[rows])
    assert masked.days.tolist() == dropped.days.tolist()
    assert np.array_equal(masked.ic, dropped.ic)


def test_constant_day_is_skipped() -> None:
    day = np.array([0, 0, 0, 1, 1, 1], dtype=np.int64)
    score = np.array([1.0, 1.0, 1.0, 1.0, 2.0, 3.0])
    fwd = np.array([0.1, 0.2, 0.3, 0.3, 0.2, 0.1])
    result = daily_spearman(day, score, fwd)
    assert result.days.tolist() == [1] and result.ic[0] == pytest.approx(-1.0)


@settings(max_examples=40, deadline=None)
@given(arrays(np.float64, hs.integers(2, 120), elements=hs.floats(-0.05, 0.05)))
def test_sharpe_and_drawdown_equal_empyrical(daily: np.ndarray) -> None:
    series = pd.Series(daily)
    reference = empyrical.sharpe_ratio(series)
    if np.ptp(daily) == 0:
        assert ret.sharpe(daily) is None  # a constant series has no Sharpe
    elif np.isfinite(reference):
        assert ret.sharpe(daily) == pytest.approx(reference, rel=1e-9, abs=1e-9)
    assert ret.max_drawdown(daily) == pytest.approx(-empyrical.max_drawdown(series), abs=1e-9)
    assert ret.window_return(daily) == pytest.approx(empyrical.cum_returns_final(series), abs=1e-9)


def test_daily_returns_from_equity_after_fills() -> None:
    day = np.array([0, 0, 1, 2, 2], dtype=np.int64)
    equity = np.array([101.0, 102.0, 100.0, 99.0, 103.0])
    pnl = np.array([1.0, 1.0, -2.0, -1.0, 4.0])
    days, daily = ret.daily_returns(day, equity, pnl)
    assert days.tolist() == [0, 1, 2]
    assert np.allclose(daily, [102 / 100 - 1, 100 / 102 - 1, 103 / 100 - 1])
    assert ret.worst_day(daily) == pytest.approx(100 / 102 - 1)


def test_signal_quality_definitions() -> None:
    score = np.array([1.0, -1.0, 0.5, np.nan, np.nan, 2.0])
    action = np.array(["BUY", "SELL", "BUY", "SELL", "HOLD", "BUY"])
    fwd = np.array([0.01, 0.02, -0.01, -0.03, 0.01, 0.0])
    d = sq.directions(score, action)
    assert d.tolist() == [1, -1, 1, -1, 0, 1]
    assert sq.hit_rate(sq.hits(d, fwd)) == pytest.approx(
        2 / 4
    )  # zero forward return is not counted
    valid = np.array([True, True, True, True, True, False])
    assert sq.coverage(valid, d) == pytest.approx(4 / 6)
    assert sq.lift(d, fwd, sq.hits(d, fwd)) == pytest.approx(0.0)


def test_always_buy_in_a_rising_market_has_no_lift() -> None:
    """56% of ticks rise: always-BUY hits 56%, exactly the majority baseline, so no lift."""
    rng = np.random.default_rng(5)
    fwd = np.where(rng.random(10_000) < 0.56, 0.01, -0.01)
    always_buy = np.ones(len(fwd))
    h = sq.hits(always_buy, fwd)
    assert sq.hit_rate(h) == pytest.approx(np.mean(fwd > 0))
    assert sq.lift(always_buy, fwd, h) == pytest.approx(0.0, abs=1e-12)
    # A strategy that knows the direction 60% of the time beats the baseline by ~4 points.
    knows = np.where(rng.random(len(fwd)) < 0.6, np.sign(fwd), -np.sign(fwd))
    assert sq.lift(knows, fwd, sq.hits(knows, fwd)) == pytest.approx(0.60 - 0.56, abs=0.02)


def test_calibration_counts_monotone_buckets() -> None:
    rng = np.random.default_rng(1)
    n = 5000
    conf = rng.random(n)
    d = np.ones(n)
    hit = rng.random(n) < 0.4 + 0.3 * conf  # more confident, more often right
    fwd = np.where(hit, 0.01, -0.01)
    assert sq.calibration_monotonic_buckets(conf, sq.hits(d, fwd), 5) == 5
    hit_rev = rng.random(n) < 0.7 - 0.3 * conf
    reversed_ = sq.calibration_monotonic_buckets(
        conf, sq.hits(d, np.where(hit_rev, 0.01, -0.01)), 5
    )
    assert reversed_ is not None and reversed_ <= 2


@settings(max_examples=60, deadline=None)
@given(
    arrays(np.float64, hs.integers(1, 300), elements=hs.floats(-1e6, 1e6)),
    hs.lists(hs.floats(0, 1), min_size=1, max_size=6),
)
def test_quantiles_of_sorted_equal_numpy_quantile(values: np.ndarray, q: list[float]) -> None:
    qs = np.array(q)
    assert np.array_equal(sq.quantiles_of_sorted(np.sort(values), qs), np.quantile(values, qs))


def most_rising(rates: list[float]) -> int:
    """By brute force: the most buckets, kept in order, whose rates never decrease."""
    for size in range(len(rates), 0, -1):
        for kept in itertools.combinations(rates, size):
            if all(a <= b for a, b in itertools.pairwise(kept)):
                return size
    return 0


def test_calibration_tolerates_one_bucket_out_of_line() -> None:
    assert sq.longest_non_decreasing(np.array([0.50, 0.52, 0.49, 0.55, 0.60])) == 4
    assert sq.longest_non_decreasing(np.array([0.60, 0.52, 0.49, 0.55, 0.50])) == 2


@settings(max_examples=60, deadline=None)
@given(hs.integers(0, 2**32 - 1), hs.integers(5, 2000), hs.booleans())
def test_calibration_equals_quantile_bucketing(seed: int, n: int, coarse: bool) -> None:
    rng = np.random.default_rng(seed)
    conf = rng.random(n)
    if coarse:
        conf = np.round(conf, 1)  # many ties on the bucket edges
    conf[rng.random(n) < 0.05] = np.nan
    d = rng.choice([-1.0, 0.0, 1.0], n)
    fwd = rng.normal(size=n)
    counted = (d != 0) & (fwd != 0) & np.isfinite(conf)
    expected = None
    if counted.sum() >= 5:
        c, hit = conf[counted], (np.sign(fwd) == d)[counted]
        bucket = np.searchsorted(np.quantile(c, [0.2, 0.4, 0.6, 0.8]), c, side="right")
        sizes = np.bincount(bucket, minlength=5)
        if np.all(sizes > 0):
            rates = np.bincount(bucket, hit, minlength=5) / sizes
            expected = most_rising(rates.tolist())
    assert sq.calibration_monotonic_buckets(conf, sq.hits(d, fwd), 5) == expected


def test_sessions_follow_the_exchange_calendar() -> None:
    from datetime import date

    # November 2026 on NYSE: 21 weekdays less Thanksgiving (26th).
    assert sessions_between("XNYS", date(2026, 11, 1), date(2026, 11, 30)) == 20
    assert sessions_between("XNYS", date(2026, 11, 26), date(2026, 11, 26)) == 0
    assert sessions_between("XLON", date(2026, 12, 24), date(2026, 12, 29)) == 2


def test_a_session_counts_only_if_the_window_covers_enough_of_it() -> None:
    from datetime import UTC, datetime

    from governance.metrics.sessions import sessions_covered

    # Mon 23 - Wed 25 Nov 2026 on NYSE: 14:30-21:00 UTC each day.
    start_mid_monday = datetime(2026, 11, 23, 17, 45, tzinfo=UTC)  # half of Monday left
    end_mid_wednesday = datetime(2026, 11, 25, 17, 45, tzinfo=UTC)
    assert sessions_covered("XNYS", start_mid_monday, end_mid_wednesday, 1.0) == 1  # Tuesday
    assert sessions_covered("XNYS", start_mid_monday, end_mid_wednesday, 0.5) == 3
    assert sessions_covered("XNYS", start_mid_monday, end_mid_wednesday, 0.51) == 1
    before_open = datetime(2026, 11, 23, 14, 30, tzinfo=UTC)
    after_close = datetime(2026, 11, 25, 21, 0, tzinfo=UTC)
    assert sessions_covered("XNYS", before_open, after_close, 1.0) == 3
    assert sessions_covered("XNYS", after_close, before_open, 1.0) == 0


def test_signals_stand_in_for_fills_only_at_low_turnover() -> None:
    from datetime import UTC, datetime

    from governance.report import WindowProgress

    at = datetime(2026, 11, 25, tzinfo=UTC)
    base = {
        "start": at,
        "end": at,
        "sessions": 10,
        "sessions_required": 10,
        "fills": 12,
        "fills_required": 50,
        "signals": 1_000,
        "signals_if_low_turnover": 1_000,
    }
    assert WindowProgress(**base, low_turnover=True).shortfalls() == []
    assert WindowProgress(**base, low_turnover=False).shortfalls() == ["fills 12/50"]
    short = WindowProgress(**{**base, "signals": 999}, low_turnover=True)
    assert short.shortfalls() == ["signals 999/1000 (low turnover)"]


@settings(max_examples=80, deadline=None)
@given(
    hs.lists(
        arrays(
            np.float64,
            hs.integers(0, 60),
            elements=hs.one_of(hs.floats(-1e6, 1e6), hs.sampled_from([0.0, -0.0, 0.5, 1.0])),
        ),
        min_size=1,
        max_size=6,
    ),
    hs.lists(hs.floats(0, 1), min_size=1, max_size=6),
)
def test_quantiles_across_sorted_runs_equal_numpy_quantile_of_their_union(
    runs: list[np.ndarray], q: list[float]
) -> None:
    """Calibration edges of a window are selected across its days' runs, never merged."""
    union = np.concatenate(runs)
    if not len(union):
        return
    sorted_runs = [np.sort(r) for r in runs]
    got = sq.quantiles_of_runs(sorted_runs, np.array(q))
    want = np.quantile(union, np.array(q))
    assert np.array_equal(got, want)  # (-0.0 and 0.0 compare equal: a tie, as in a sort)
    ks = sorted({0, len(union) - 1, len(union) // 2})
    assert sq.order_statistics(sorted_runs, ks) == [float(np.sort(union)[k]) for k in ks]


@settings(max_examples=40, deadline=None)
@given(hs.integers(0, 2**32 - 1), hs.integers(1, 8))
def test_calibration_over_days_equals_the_window_at_once(seed: int, days: int) -> None:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(5, 400))
    conf = np.round(rng.random(n), int(rng.integers(1, 4)))
    conf[rng.random(n) < 0.05] = np.nan
    d, fwd = rng.choice([-1.0, 0.0, 1.0], n), rng.normal(size=n)
    h = sq.hits(d, fwd)
    owner = rng.integers(0, days, n)
    counted = [np.sort(conf[(owner == k) & h.counted & np.isfinite(conf)]) for k in range(days)]
    hit = [np.sort(conf[(owner == k) & h.hit & ~np.isnan(conf)]) for k in range(days)]
    assert sq.calibration_of_runs(counted, hit, 5) == sq.calibration_monotonic_buckets(conf, h, 5)


@settings(max_examples=40, deadline=None)
@given(hs.integers(0, 2**32 - 1), hs.integers(1, 8), hs.booleans())
def test_calibration_over_flagged_days_equals_the_window_at_once(
    seed: int, days: int, odd: bool
) -> None:
    """Days keep their confidences sorted with a hit flag each (one sort): same buckets, also
    for confidences outside [0, 1] (in memory) and infinite ones."""
    from governance.metrics.signal_days import sorted_with_flags

    rng = np.random.default_rng(seed)
    n = int(rng.integers(5, 400))
    conf = np.round(rng.random(n), int(rng.integers(1, 4)))
    if odd:
        conf[rng.random(n) < 0.1] = rng.choice([-np.inf, np.inf, -0.5, 3.0, -0.0])
    conf[rng.random(n) < 0.05] = np.nan
    d, fwd = rng.choice([-1.0, 0.0, 1.0], n), rng.normal(size=n)
    h = sq.hits(d, fwd)
    owner = rng.integers(0, days, n)
    runs = [
        sorted_with_flags(conf, (owner == k) & h.counted & np.isfinite(conf), h.hit)
        for k in range(days)
    ]
    up = int(np.count_nonzero(h.hit & (conf == np.inf)))
    down = int(np.count_nonzero(h.hit & (conf == -np.inf)))
    got = sq.calibration_of_flagged_runs([r for r, _ in runs], [f for _, f in runs], up, down, 5)
    assert got == sq.calibration_monotonic_buckets(conf, h, 5)
