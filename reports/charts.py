"""The evidence pack's charts: matplotlib figures rendered to inline SVG (no network, no CDN).

Text stays text in the SVG (`svg.fonttype = none`), so a reader can search the labels, and the
output is reproducible (fixed hash salt, no creation date).
"""

from __future__ import annotations

import io
from collections import Counter
from datetime import date, timedelta
from typing import Any

import matplotlib

matplotlib.use("Agg")  # no display: rendering only

import matplotlib.dates as mdates
import matplotlib.pyplot as plt
from matplotlib.ticker import MaxNLocator

from governance.audit_assessment import AuditPack

plt.rcParams.update(
    {
        "svg.fonttype": "none",
        "svg.hashsalt": "stratgate-audit-pack",
        "font.size": 9,
        "axes.spines.top": False,
        "axes.spines.right": False,
    }
)
PROMOTE, DEMOTE, HALT, DRILL = "#2f6f4f", "#b03a2e", "#8e44ad", "#7f8c8d"


def _svg(fig: Any) -> str:
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None})
    plt.close(fig)
    text = buffer.getvalue()
    return text[text.index("<svg") :]


def stage_changes(pack: AuditPack) -> str | None:
    """Promotions and demotions per UTC day of the period."""
    s = pack.sections
    promoted = Counter(d.effective_at.date() for d in s.deployments)
    demoted = Counter(d.effective_at.date() for d in s.demotions)
    if not promoted and not demoted:
        return None
    days = _days(pack.period.start, pack.period.end)
    x = [float(mdates.date2num(d)) for d in days]
    fig, ax = plt.subplots(figsize=(8, 2.8))
    bars = {"width": 0.8, "align": "edge"}  # each bar covers its own UTC day
    up = [promoted[d] for d in days]
    ax.bar(x, up, color=PROMOTE, label="deployments (PAPER, LIVE)", **bars)  # type: ignore[arg-type]
    down = [-demoted[d] for d in days]
    ax.bar(x, down, color=DEMOTE, label="demotions", **bars)  # type: ignore[arg-type]
    ax.xaxis_date()
    ax.set_xlim(x[0], x[-1] + 1)  # the whole period, its last day included
    ax.axhline(0, color="#333", linewidth=0.6)
    ax.set_title("Deployments and demotions per day (UTC)")
    ax.set_xlabel("date (UTC)")
    ax.set_ylabel("records (demotions below 0)")
    short = len(days) <= 14
    locator = mdates.DayLocator() if short else mdates.AutoDateLocator(maxticks=10)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.legend(loc="upper left", frameon=False)
    return _svg(fig)


def approval_times(pack: AuditPack) -> str | None:
    """Hours from each deployment's request to its last approval, with the median."""
    rows = [d for d in pack.sections.deployments if d.approve_seconds is not None]
    if not rows:
        return None
    labels = [f"{d.strategy} → {d.to_stage} ({d.effective_at.date()})" for d in rows]
    seconds = [d.approve_seconds or 0.0 for d in rows]
    unit, per = _unit(max(seconds))
    fig, ax = plt.subplots(figsize=(8, 0.9 + 0.35 * len(rows)))
    ax.barh(labels, [v / per for v in seconds], color=PROMOTE)
    median = pack.figures.median_approve_seconds
    if median is not None:
        ax.axvline(median / per, color="#333", linestyle="--", linewidth=0.8)
        ax.set_title(f"Time from request to last approval (median {median / per:.1f} {unit})")
    ax.invert_yaxis()
    ax.set_xlabel(unit)
    return _svg(fig)


def halt_timings(pack: AuditPack) -> str | None:
    """Per halt or drill: milliseconds until the gate closed and until the last demotion landed."""
    rows = [h for h in pack.sections.halts if h.gate_closed_ms is not None]
    if not rows:
        return None
    labels = [f"{h.halted_at:%Y-%m-%d %H:%M}" + (" (drill)" if h.drill else "") for h in rows]
    positions = list(range(len(rows)))
    fig, ax = plt.subplots(figsize=(8, 2.8))
    width = 0.38
    ax.bar(
        [p - width / 2 for p in positions],
        [h.gate_closed_ms or 0 for h in rows],
        width,
        color=[DRILL if h.drill else HALT for h in rows],
        label="gate closed",
    )
    ax.bar(
        [p + width / 2 for p in positions],
        [h.last_record_ms or 0 for h in rows],
        width,
        color="#d4ac0d",
        label="last demotion recorded",
    )
    ax.set_xticks(positions, labels, rotation=20, ha="right")
    ax.set_title("Kill function: time to effect per halt (UTC)")
    ax.set_xlabel("halt started (UTC)")
    ax.set_ylabel("milliseconds")
    ax.legend(loc="upper left", frameon=False)
    return _svg(fig)


def _unit(largest_seconds: float) -> tuple[str, float]:
    if largest_seconds < 120:
        return "seconds", 1.0
    if largest_seconds < 7_200:
        return "minutes", 60.0
    return "hours", 3_600.0


def _days(start: date, end: date) -> list[date]:
    return [start + timedelta(days=i) for i in range((end - start).days + 1)]


def all_charts(pack: AuditPack) -> dict[str, str | None]:
    return {
        "stage_changes": stage_changes(pack),
        "approval_times": approval_times(pack),
        "halt_timings": halt_timings(pack),
    }
