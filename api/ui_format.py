"""Numbers as a reader at a desk reads them: rounded, with their unit (the UI's filters)."""

from __future__ import annotations

PERCENT_UNITS = {"fraction"}
INTEGER_UNITS = {"count", "days", "fills", "buckets", "orders"}


def value_text(value: float | None, unit: str) -> str:
    if value is None:
        return "—"
    if unit in PERCENT_UNITS:
        return f"{value * 100:.2f} %"
    if unit in INTEGER_UNITS and float(value).is_integer():
        return f"{int(value)} {unit}"
    if unit == "ms":
        return f"{value:.0f} ms"
    if unit == "bps":
        return f"{value:.1f} bps"
    if unit == "rho":
        return f"{value:.4f}"
    if unit == "x equity":
        return f"{value:.3f} x equity"
    return f"{value:.4g} {unit}".rstrip()


def margin_text(margin: float | None, unit: str) -> str:
    """Signed distance on the passing side (+) or the failing side (-) of the threshold."""
    if margin is None:
        return "—"
    sign = "+" if margin >= 0 else "-"
    size = abs(margin)
    if unit in PERCENT_UNITS:
        return f"{sign}{size * 100:.2f} pp"
    return sign + value_text(size, unit)


def install(env: object) -> None:
    filters = env.filters  # type: ignore[attr-defined]
    filters["value_text"] = value_text
    filters["margin_text"] = margin_text
