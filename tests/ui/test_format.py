"""Values as the request page prints them: rounded, with their unit, margins signed."""

from __future__ import annotations

from api.ui_format import margin_text, value_text


def test_values_and_margins_read_with_their_units() -> None:
    assert value_text(0.523456, "fraction") == "52.35 %"
    assert value_text(3.0, "days") == "3 days"
    assert value_text(0.0, "count") == "0 count"
    assert value_text(212.4, "ms") == "212 ms"
    assert value_text(1.26, "bps") == "1.3 bps"
    assert value_text(0.0312345, "rho") == "0.0312"
    assert value_text(0.61234, "ratio") == "0.6123 ratio"
    assert value_text(None, "fraction") == "—"
    assert margin_text(0.0034, "fraction") == "+0.34 pp"
    assert margin_text(-0.012, "fraction") == "-1.20 pp"
    assert margin_text(-2.0, "fills") == "-2 fills"
    assert margin_text(None, "ms") == "—"
