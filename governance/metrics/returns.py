"""Daily return series and their statistics, on empyrical's conventions.

Sharpe = mean / std (ddof=1) * sqrt(252) of daily returns; a constant series has no Sharpe
(None, never a division by zero). Max drawdown is taken on the cumulative value series with the
starting value 1 prepended, and reported as a positive fraction (empyrical's is negative).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

F = NDArray[np.float64]
Ints = NDArray[np.int64]
TRADING_DAYS = 252


def end_of_day_values(days: Ints, values: F) -> tuple[Ints, F]:
    """The last value of each day, rows in time order."""
    if len(days) == 0:
        return days, values
    last = np.flatnonzero(np.append(days[1:] != days[:-1], True))
    return days[last], values[last]


def daily_returns(days: Ints, equity: F, pnl: F) -> tuple[Ints, F]:
    """Daily returns from the equity after each fill; the window starts at equity - pnl of its
    first row (the equity before anything in the window happened)."""
    if len(days) == 0:
        return days, np.array([], dtype=np.float64)
    eod_days, eod = end_of_day_values(days, equity)
    start = equity[0] - pnl[0]
    previous = np.concatenate(([start], eod[:-1]))
    return eod_days, eod / previous - 1.0


def window_return(returns: F) -> float | None:
    return float(np.prod(1.0 + returns) - 1.0) if len(returns) else None


def sharpe(returns: F) -> float | None:
    if len(returns) < 2 or np.ptp(returns) == 0:
        return None  # a constant series has no Sharpe
    std = float(np.std(returns, ddof=1))
    if std == 0.0 or not np.isfinite(std):
        return None
    return float(np.mean(returns) / std * np.sqrt(TRADING_DAYS))


def max_drawdown(returns: F) -> float | None:
    if len(returns) == 0:
        return None
    value = np.concatenate(([1.0], np.cumprod(1.0 + returns)))
    peak = np.maximum.accumulate(value)
    return float(np.max(1.0 - value / peak))


def worst_day(returns: F) -> float | None:
    return float(np.min(returns)) if len(returns) else None


def average_turnover(days: Ints, notional: F, equity: F) -> float | None:
    """Mean over days of traded notional / that day's average portfolio value."""
    if len(days) == 0:
        return None
    _, day = np.unique(days, return_inverse=True)
    traded = np.bincount(day, np.abs(notional))
    average_value = np.bincount(day, equity) / np.bincount(day)
    return float(np.mean(traded / average_value))


def hwm_drawdown(equity: F, pnl: F) -> float | None:
    """Largest fall of equity from its high-water mark, row by row (intraday included).

    The mark starts at the equity before the window's first row (its equity minus its P&L).
    """
    if len(equity) == 0:
        return None
    value = np.concatenate(([equity[0] - pnl[0]], equity))
    peak = np.maximum.accumulate(value)
    with np.errstate(divide="ignore", invalid="ignore"):
        fall = np.where(peak > 0, 1.0 - value / peak, 0.0)
    return float(np.max(fall))


def loss_days(returns: F, daily_loss_limit: float) -> float | None:
    """Days whose return fell below -daily_loss_limit (realized P&L vs the day's start)."""
    if len(returns) == 0:
        return None
    return float(np.count_nonzero(returns < -daily_loss_limit))
