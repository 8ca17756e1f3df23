"""How far a stability window has come: one counter per minimum the transition requires, and
when each is expected to be met.

Only counters the transition requires are listed (a minimum of 0 is no requirement). The
expected completion is an estimate, in sessions of the policy's exchange calendar: the sessions
still missing for the session count, and for the other counters what is missing at the rate
the window has shown per session so far (no estimate before the first one arrives).
"""

from __future__ import annotations

from datetime import date
from math import ceil

from pydantic import BaseModel, ConfigDict

from governance.metrics.sessions import session_after
from governance.report import WindowProgress


class Counter(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str  # sessions, evaluations, fills, signals, orders
    have: int
    need: int
    # Why this counter counts, when it stands in for another (the low-turnover alternative).
    note: str | None = None
    sessions_left: int | None = None  # None: no estimate yet (nothing counted so far)
    expected_on: date | None = None

    @property
    def done(self) -> bool:
        return self.have >= self.need

    @property
    def fraction(self) -> float:
        return 1.0 if self.need <= 0 else min(1.0, self.have / self.need)


def required_counters(w: WindowProgress) -> list[tuple[str, int, int, str | None]]:
    """(name, have, need, note) for each minimum the window requires."""
    found: list[tuple[str, int, int, str | None]] = []
    if w.sessions_required > 0:
        found.append(("sessions", w.sessions, w.sessions_required, None))
    if w.evaluations_required > 0:
        found.append(("evaluations", w.evaluations, w.evaluations_required, None))
    if w.fills_required > 0:
        alternative = w.signals_if_low_turnover
        note: str | None
        if alternative is not None and w.low_turnover:
            note = f"low turnover: {alternative} signals stand in for {w.fills_required} fills"
            found.append(("signals", w.signals, alternative, note))
        else:
            note = (
                f"or {alternative} signals if turnover is low" if alternative is not None else None
            )
            found.append(("fills", w.fills, w.fills_required, note))
    if w.orders_required > 0:
        found.append(("orders", w.orders, w.orders_required, None))
    return found


def window_counters(w: WindowProgress, calendar: str) -> list[Counter]:
    """Every required counter with its expected completion, counted from the window's end."""
    counters = []
    for name, have, need, note in required_counters(w):
        left = _sessions_left(name, have, need, w.sessions)
        on = None
        if left is not None:
            on = w.end.date() if left == 0 else session_after(calendar, w.end.date(), left)
        counters.append(
            Counter(name=name, have=have, need=need, note=note, sessions_left=left, expected_on=on)
        )
    return counters


def _sessions_left(name: str, have: int, need: int, sessions: int) -> int | None:
    if have >= need:
        return 0
    if name == "sessions":
        return need - have
    if have <= 0 or sessions <= 0:
        return None
    return ceil((need - have) / (have / sessions))
