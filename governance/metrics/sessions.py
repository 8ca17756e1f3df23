"""Trading sessions, counted on the tenant's exchange calendar (exchange-calendars).

A calendar is used as a `SessionTable`: its session dates with their opens and closes, as
integer arrays. exchange-calendars builds one (importing pandas and computing holiday rules:
most of a second of a cold process), so a caller that keeps tables (the evidence layer, beside
the evidence) can `provide` them instead; counts are the same either way.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache

import numpy as np
from numpy.typing import NDArray

Ints = NDArray[np.int64]
NS_PER_DAY = 86_400 * 10**9
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class SessionTable:
    """A calendar's sessions over whole years: dates as UTC day numbers, opens/closes in ns."""

    calendar: str
    first_year: int
    last_year: int
    days: Ints
    opens: Ints
    closes: Ints

    def covers(self, calendar: str, first_year: int, last_year: int) -> bool:
        return self.calendar == calendar and self.first_year <= first_year <= last_year <= (
            self.last_year
        )


_PROVIDED: list[SessionTable] = []


def provide(table: SessionTable) -> None:
    """Use this table for its calendar and years (kept by the caller, e.g. on disk)."""
    if not any(t.covers(table.calendar, table.first_year, table.last_year) for t in _PROVIDED):
        _PROVIDED.append(table)


def session_table(calendar: str, first_year: int, last_year: int) -> SessionTable:
    for table in _PROVIDED:
        if table.covers(calendar, first_year, last_year):
            return table
    return _built(calendar, first_year, last_year)


@lru_cache(maxsize=32)
def _built(name: str, first_year: int, last_year: int) -> SessionTable:
    import exchange_calendars as xcals  # pandas and the holiday rules: only when not provided
    import pandas as pd

    # Explicit bounds: the library's defaults move with today's date.
    cal = xcals.get_calendar(
        name, start=pd.Timestamp(f"{first_year}-01-01"), end=pd.Timestamp(f"{last_year}-12-31")
    )
    sessions = cal.sessions
    return SessionTable(
        calendar=name,
        first_year=first_year,
        last_year=last_year,
        days=(sessions.as_unit("ns").asi8 // NS_PER_DAY).astype(np.int64),
        opens=cal.opens.loc[sessions].to_numpy(dtype="datetime64[ns]").astype("int64"),
        closes=cal.closes.loc[sessions].to_numpy(dtype="datetime64[ns]").astype("int64"),
    )


def _range(calendar: str, first: date, last: date) -> tuple[SessionTable, slice]:
    table = session_table(calendar, first.year - 1, last.year + 1)
    lo = int(np.searchsorted(table.days, _day(first), side="left"))
    hi = int(np.searchsorted(table.days, _day(last), side="right"))
    return table, slice(lo, hi)


def sessions_between(calendar: str, start: datetime | date, end: datetime | date) -> int:
    """Sessions whose date lies in [start, end] (dates taken in UTC, naive and normalised)."""
    first, last = _as_date(start), _as_date(end)
    if last < first:
        return 0
    _, rows = _range(calendar, first, last)
    return rows.stop - rows.start


def _as_date(value: datetime | date) -> date:
    return value.date() if isinstance(value, datetime) else value


def _day(value: date) -> int:
    return (value - date(1970, 1, 1)).days


def sessions_covered(calendar: str, start: datetime, end: datetime, min_fraction: float) -> int:
    """Sessions of which [start, end] covers at least `min_fraction` of the open-close time.

    A strategy that entered its stage mid-session, or a session still trading now, counts only
    if enough of it lies inside the window (all of it by default).
    """
    first, last = _as_date(start), _as_date(end)
    if last < first:
        return 0
    table, rows = _range(calendar, first, last)
    if rows.stop == rows.start:
        return 0
    opens, closes = table.opens[rows], table.closes[rows]
    lo, hi = _ns(start), _ns(end)
    inside = np.clip(np.minimum(closes, hi) - np.maximum(opens, lo), 0, None)
    # Integer nanoseconds: a session fully inside compares exactly equal to its length.
    return int(np.count_nonzero(inside >= min_fraction * (closes - opens)))


def _ns(value: datetime) -> int:
    """Exact nanoseconds since the epoch (a naive datetime is taken as UTC)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    delta = value - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 10**9 + delta.microseconds * 1000


def session_after(calendar: str, after: date, n: int, horizon_years: int = 3) -> date | None:
    """The date of the `n`-th session strictly after `after` (n >= 1), or None beyond
    `horizon_years` (an estimate that far out says nothing useful)."""
    if n < 1:
        return after
    table = session_table(calendar, after.year - 1, after.year + horizon_years)
    first = int(np.searchsorted(table.days, _day(after), side="right"))
    at = first + n - 1
    if at >= len(table.days):
        return None
    return date(1970, 1, 1) + timedelta(days=int(table.days[at]))
