"""The limits on what callers send: measured exactly, refused naming the field and the reason."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import ValidationError

from governance.bounds import (
    DETAILS_MAX_BYTES,
    DETAILS_MAX_DEPTH,
    check_json,
    check_text,
    json_depth,
    text_too_deep,
)
from governance.risk_events import RiskEvent, RiskEventKind


def nested(depth: int) -> dict[str, Any]:
    """A dict nesting `depth` levels deep, itself included."""
    value: dict[str, Any] = {}
    for _ in range(depth - 1):
        value = {"a": value}
    return value


def test_depth_counts_containers_and_survives_very_deep_values() -> None:
    assert json_depth(1) == 0
    assert json_depth({}) == 1
    assert json_depth({"a": [1, {"b": []}]}) == 4
    deep: Any = []
    for _ in range(100_000):  # far past the interpreter's recursion limit
        deep = [deep]
    assert json_depth(deep) == 100_001


def test_details_at_the_limits_pass_and_one_past_them_is_refused() -> None:
    assert check_json(nested(DETAILS_MAX_DEPTH), "details") is None
    too_deep = check_json(nested(DETAILS_MAX_DEPTH + 1), "details")
    assert too_deep is not None and too_deep.field == "details"
    assert too_deep.reason == f"nesting depth 9 exceeds the limit of {DETAILS_MAX_DEPTH}"
    # {"x":"..."} is 8 bytes of canonical JSON around the string.
    at_limit = {"x": "y" * (DETAILS_MAX_BYTES - 8)}
    assert check_json(at_limit, "details") is None
    too_big = check_json({"x": "y" * (DETAILS_MAX_BYTES - 7)}, "details")
    assert too_big is not None
    assert str(too_big) == "details: 16385 bytes of canonical JSON exceeds the limit of 16384 bytes"


@pytest.mark.parametrize(
    "details",
    [
        {"n": 2**53},
        {"n": -(2**60)},
        {"n": float("nan")},
        {"n": float("inf")},
        {"s": "\ud800"},  # a lone surrogate: JSON text may escape one, UTF-8 cannot hold it
        {"\ud800": 1},
    ],
)
def test_values_canonical_json_cannot_encode_are_refused(details: dict[str, Any]) -> None:
    # They would pass json.loads but break every hash of the risk history later.
    problem = check_json(details, "details")
    assert problem is not None and problem.reason.startswith("not canonical JSON")


def test_text_limits_count_characters() -> None:
    assert check_text("é" * 2000, "comment", 2000) is None
    problem = check_text("é" * 2001, "comment", 2000)
    assert str(problem) == "comment: 2001 characters exceeds the limit of 2000 characters"


@pytest.mark.parametrize("depth", [33, 300, 900, 10_000])
def test_deep_json_text_is_found_without_parsing_it(depth: int) -> None:
    text = ("[" * depth + "]" * depth).encode()
    problem = text_too_deep(text, "body", 32)
    assert problem is not None
    assert problem.reason == f"nesting depth {depth} exceeds the limit of 32"


def test_brackets_in_strings_do_not_count_and_shallow_text_passes() -> None:
    assert text_too_deep(json.dumps({"a": "[" * 500 + '\\"{{{'}).encode(), "body", 32) is None
    assert text_too_deep(json.dumps([[1]] * 1000).encode(), "body", 32) is None
    assert text_too_deep(("[" * 32 + "]" * 32).encode(), "body", 32) is None
    # Not JSON at all: left to the parser, which refuses it as such.
    assert text_too_deep(b'"unclosed [[[[', "body", 2) is None


def test_a_risk_event_refuses_out_of_bounds_details_naming_the_field() -> None:
    now = datetime.now(UTC)
    kind = RiskEventKind.CLOCK_SKEW
    assert RiskEvent(event_id="e", kind=kind, ts=now, details=nested(8)).details == nested(8)
    with pytest.raises(ValidationError) as caught:
        RiskEvent(event_id="e", kind=kind, ts=now, details=nested(9))
    (error,) = caught.value.errors()
    assert error["loc"] == ("details",)
    assert error["msg"] == "nesting depth 9 exceeds the limit of 8"
