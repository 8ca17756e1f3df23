"""How much a caller may send: one set of limits for the API, the web UI and the CLI, so each
refuses the same input in the same words.

Risk-event `details` are kept in the risk history and hashed into eligibility reports, so they
must stay small (the spec: "small map; store large blobs elsewhere") and be canonical JSON:
a value RFC 8785 cannot encode (an integer beyond 2**53, NaN) would break every later hash.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from itertools import accumulate
from typing import Any

import rfc8785

DETAILS_MAX_BYTES = 16 * 1024
DETAILS_MAX_DEPTH = 8
COMMENT_MAX = 2000
REASON_MAX = 2000
# A whole request: a batch of 500 events whose details are each at their limit is under it.
BODY_MAX_BYTES = 256 * 1024
BODY_MAX_DEPTH = 32


@dataclass(frozen=True)
class OutOfBounds:
    """Why a value was refused; `str()` is the sentence shown to the caller."""

    field: str
    reason: str

    def __str__(self) -> str:
        return f"{self.field}: {self.reason}"


def json_depth(value: Any) -> int:
    """Nesting depth of a JSON value (a scalar is 0, `{}` and `[]` are 1).

    Iterative, so a hostile value cannot exhaust the interpreter's stack.
    """
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list | tuple):
            children = item
        else:
            continue
        depth += 1
        deepest = max(deepest, depth)
        stack.extend((child, depth) for child in children)
    return deepest


def check_json(
    value: Any,
    field: str,
    max_bytes: int = DETAILS_MAX_BYTES,
    max_depth: int = DETAILS_MAX_DEPTH,
) -> OutOfBounds | None:
    """None if `value` is canonical JSON within both limits, else what is wrong with it.

    Depth is checked first: encoding a deeply nested value would itself recurse.
    """
    depth = json_depth(value)
    if depth > max_depth:
        return OutOfBounds(field, f"nesting depth {depth} exceeds the limit of {max_depth}")
    try:
        size = len(rfc8785.dumps(value))
    except (rfc8785.CanonicalizationError, UnicodeError) as exc:
        # UnicodeError: a lone surrogate in a key (in a value it is a CanonicalizationError).
        return OutOfBounds(field, f"not canonical JSON ({exc})")
    if size > max_bytes:
        return OutOfBounds(
            field, f"{size} bytes of canonical JSON exceeds the limit of {max_bytes} bytes"
        )
    return None


def check_text(value: str, field: str, max_chars: int) -> OutOfBounds | None:
    if len(value) > max_chars:
        return OutOfBounds(
            field, f"{len(value)} characters exceeds the limit of {max_chars} characters"
        )
    return None


# A JSON string literal, closed or not (an unclosed one runs to the end of the text).
_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*(?:"|\Z)', re.DOTALL)
_NOT_BRACKETS = bytes(c for c in range(256) if c not in b"[]{}")


def text_too_deep(text: bytes, field: str, max_depth: int) -> OutOfBounds | None:
    """Whether JSON text nests deeper than `max_depth`, found without parsing it: the parser
    itself recurses, and fails on deep input with a RecursionError instead of a refusal.

    Brackets inside string literals do not count; text that is not JSON is left to the parser.
    """
    if text.count(b"[") + text.count(b"{") <= max_depth:
        return None  # it cannot nest deeper than its number of openings
    brackets = _STRING.sub(b"", text).translate(None, _NOT_BRACKETS)
    depth = max(accumulate(1 if b in b"[{" else -1 for b in brackets), default=0)
    if depth > max_depth:
        return OutOfBounds(field, f"nesting depth {depth} exceeds the limit of {max_depth}")
    return None
