"""Trading sessions, counted on the tenant's exchange calendar (exchange-calendars)."""

from __future__ import annotations

from datetime import date, datetime
from functools import lru_cache

import exchange_calendars as xcals
import numpy as np
import pandas as pd


@lru_cache(maxsize=32)
def _calendar(name: str, first_year: int, last_year: int) -> xcals.ExchangeCalendar:
    # Explicit bounds: the library's defaults move with today's date.
    return xcals.get_calendar(
        name, start=pd.Timestamp(f"{first_year}-01-01"), end=pd.Timestamp(f"{last_year}-12-31")
    )


def sessions_between(calendar: str, start: datetime | date, end: datetime | date) -> int:
    """Sessions whose date lies in [start, end] (dates taken in UTC, naive and normalised)."""
    first, last = _as_date(start), _as_date(end)
    if last < first:
        return 0
    cal = _calendar(calendar, first.year - 1, last.year + 1)
    return len(cal.sessions_in_range(pd.Timestamp(first), pd.Timestamp(last)))


def _as_date(value: datetime | date) -> date:
    return value.date() if isinstance(value, datetime) else value


def sessions_covered(calendar: str, start: datetime, end: datetime, min_fraction: float) -> int:
    """Sessions of which [start, end] covers at least `min_fraction` of the open-close time.

    A strategy that entered its stage mid-session, or a session still trading now, counts only
    if enough of it lies inside the window (all of it by default).
    """
    first, last = _as_date(start), _as_date(end)
    if last < first:
        return 0
    cal = _calendar(calendar, first.year - 1, last.year + 1)
    days = cal.sessions_in_range(pd.Timestamp(first), pd.Timestamp(last))
    if len(days) == 0:
        return 0
    opens = cal.opens.loc[days].to_numpy(dtype="datetime64[ns]").astype("int64")
    closes = cal.closes.loc[days].to_numpy(dtype="datetime64[ns]").astype("int64")
    lo, hi = _ns(start), _ns(end)
    inside = np.clip(np.minimum(closes, hi) - np.maximum(opens, lo), 0, None)
    # Integer nanoseconds: a session fully inside compares exactly equal to its length.
    return int(np.count_nonzero(inside >= min_fraction * (closes - opens)))


def _ns(value: datetime) -> int:
    return int(pd.Timestamp(value).tz_convert("UTC").value)
