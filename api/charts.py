"""Small inline SVG line charts for the approver UI (no front-end build, no JS library)."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from governance.report import EligibilityReport

TITLES = {
    "equity": "Equity curve (cumulative value)",
    "drawdown": "Drawdown",
    "daily_ic": "Daily information coefficient",
    "hit_rate": "Daily hit rate",
}


def line_chart(
    points: Sequence[Sequence[float]], label: str, width: int = 480, height: int = 120
) -> str:
    if len(points) < 2:
        return f'<p class="muted">{escape(label)}: not enough data</p>'
    xs = [float(p[0]) for p in points]
    ys = [float(p[1]) for p in points]
    x0, x1 = min(xs), max(xs)
    y0, y1 = min(min(ys), 0.0), max(max(ys), 0.0)
    span_x, span_y = (x1 - x0) or 1.0, (y1 - y0) or 1.0
    pad = 6

    def at(x: float, y: float) -> str:
        px = pad + (x - x0) / span_x * (width - 2 * pad)
        py = height - pad - (y - y0) / span_y * (height - 2 * pad)
        return f"{px:.1f},{py:.1f}"

    path = " ".join(at(x, y) for x, y in zip(xs, ys, strict=True))
    zero = height - pad - (0 - y0) / span_y * (height - 2 * pad)
    return (
        f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{escape(label)}: from {ys[0]:.4g} to {ys[-1]:.4g}, min {min(ys):.4g}, '
        f'max {max(ys):.4g}">'
        f'<line x1="0" x2="{width}" y1="{zero:.1f}" y2="{zero:.1f}" stroke="#bbb" />'
        f'<polyline fill="none" stroke="#1a73e8" stroke-width="1.5" points="{path}" /></svg>'
    )


def report_charts(report: EligibilityReport | None) -> list[dict[str, str]]:
    if report is None or report.series is None:
        return []
    series = report.series.model_dump()
    return [
        {"title": TITLES.get(name, name), "svg": line_chart(points, TITLES.get(name, name))}
        for name, points in series.items()
        if points
    ]
