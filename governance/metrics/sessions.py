"""Trading sessions, counted on the tenant's exchange calendar (exchange-calendars)."""

from __future__ import annotations

from datetime import date, datetime
from functools import lru_cache

import exchange_calendars as xcals
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
