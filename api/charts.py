"""The request page's charts: what each plots, its axis label and unit, and the policy's
threshold as a line. Drawn in the browser by uPlot (tools/ui-assets, served from
node_modules/uplot/dist); without those files the page says the chart library is missing."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import BaseModel

from governance.report import EligibilityReport

# Installed by `make up` / `make test` (npm ci in tools/ui-assets).
# An installed package (the container image) has no tools/ directory: the image copies uPlot's
# dist/ and names it in STRATGATE_UI_ASSETS.
UPLOT_DIST = Path(
    os.environ.get("STRATGATE_UI_ASSETS")
    or Path(__file__).resolve().parents[1] / "tools/ui-assets/node_modules/uplot/dist"
)
DAY = 86_400

Unit = Literal["percent", "number"]


class Chart(BaseModel):
    id: str
    title: str
    y_label: str
    unit: Unit
    x: list[int]  # UTC seconds at each day's midnight
    y: list[float]
    threshold: float | None = None
    threshold_label: str | None = None

    @property
    def summary(self) -> str:
        """What a screen reader (or a page without the chart library) is told."""
        first, last = self.y[0], self.y[-1]
        line = f", {self.threshold_label}" if self.threshold_label else ""
        return (
            f"{self.title}: {len(self.y)} days, from {_fmt(first, self.unit)} to "
            f"{_fmt(last, self.unit)}, min {_fmt(min(self.y), self.unit)}, max "
            f"{_fmt(max(self.y), self.unit)}{line}"
        )


def chart_library_installed() -> bool:
    return (UPLOT_DIST / "uPlot.iife.min.js").is_file()


def report_charts(report: EligibilityReport | None) -> list[Chart]:
    if report is None or report.series is None:
        return []
    s = report.series
    charts = []

    def threshold(name: str) -> float | None:
        c = report.criterion(name)
        return c.threshold if c is not None else None

    if len(s.equity) >= 2:
        charts.append(
            _chart(
                "equity",
                "Equity curve (growth of 1 at the window's start)",
                "equity (x start)",
                "number",
                s.equity,
                1.0 if threshold("window_return") is not None else None,
                "start value: window_return >= 0",
            )
        )
    if len(s.drawdown) >= 2:
        limit = threshold("max_drawdown")
        charts.append(
            _chart(
                "drawdown",
                "Drawdown from the peak end-of-day value",
                "drawdown",
                "percent",
                s.drawdown,
                -limit if limit is not None else None,
                f"drawdown limit -{_fmt(limit, 'percent')}" if limit is not None else None,
            )
        )
    if len(s.daily_ic) >= 2:
        ic_min = threshold("ic_mean")
        charts.append(
            _chart(
                "daily_ic",
                "Daily information coefficient (Spearman rho)",
                "IC (rho)",
                "number",
                s.daily_ic,
                ic_min,
                f"IC minimum {ic_min:g} (for the mean)" if ic_min is not None else None,
            )
        )
    if len(s.hit_rate) >= 2:
        hit_min = threshold("hit_rate")
        charts.append(
            _chart(
                "hit_rate",
                "Daily hit rate",
                "hit rate",
                "percent",
                s.hit_rate,
                hit_min,
                f"hit rate minimum {_fmt(hit_min, 'percent')}" if hit_min is not None else None,
            )
        )
    return charts


def _chart(
    id_: str,
    title: str,
    y_label: str,
    unit: Unit,
    points: list[tuple[int, float]],
    threshold: float | None,
    threshold_label: str | None,
) -> Chart:
    return Chart(
        id=id_,
        title=title,
        y_label=y_label,
        unit=unit,
        x=[day * DAY for day, _ in points],
        y=[v for _, v in points],
        threshold=threshold,
        threshold_label=threshold_label if threshold is not None else None,
    )


def _fmt(value: float | None, unit: Unit) -> str:
    if value is None:
        return "—"
    return f"{value * 100:.2f} %" if unit == "percent" else f"{value:.4g}"
