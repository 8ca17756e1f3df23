r"""Canonical JSON (RFC 8785) and SHA-256 content hashes: the basis of metrics_hash and the chain.

`rfc8785` serializes in pure Python (~0.2 ms for one promotion record, twice per stage change).
For the data we hash (model dumps: str keys, str/int/bool/null/list/dict values, some floats) the
stdlib encoder, sorting keys, with no spaces and no ASCII escaping, writes the same bytes: same
escapes (quote, backslash, the short control escapes, lowercase \u00xx for the other controls),
same integers, and ASCII keys sort the same by code point as by UTF-16 unit. Floats are the one
difference (ECMAScript number form): each is written by `rfc8785` itself into the stdlib's output.
Anything else (a non-ASCII key, an integer beyond 2^53, a NUL in a string, another type) is left to
`rfc8785` whole. tests/governance/test_hashing_fast.py checks the bytes against `rfc8785`.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from typing import Any

import rfc8785
from pydantic import BaseModel


def to_jsonable(obj: Any) -> Any:
    """Plain JSON data for a model or mapping (datetimes become ISO-8601 strings)."""
    if isinstance(obj, BaseModel):
        return obj.model_dump(mode="json")
    if isinstance(obj, Mapping):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [to_jsonable(v) for v in obj]
    return obj


_SAFE_INT = 2**53 - 1  # RFC 8785: beyond it an integer is not exactly a JSON number
_FLOAT_SLOT = re.compile(r'"\\u0000(\d+)\\u0000"')  # where _plain put float number i


class _NotPlain(Exception):
    """A value the stdlib encoder would not write as RFC 8785 does."""


def _plain(value: Any, floats: list[float]) -> Any:
    """`value` with each float replaced by a NUL-delimited slot (no string holds a NUL)."""
    kind = type(value)
    if kind is str:
        if "\x00" in value:
            raise _NotPlain
        return value
    if value is None or kind is bool:
        return value
    if kind is int:
        if -_SAFE_INT <= value <= _SAFE_INT:
            return value
        raise _NotPlain
    if kind is float:
        floats.append(value)
        return f"\x00{len(floats) - 1}\x00"
    if kind is dict:
        out = {}
        for key, item in value.items():
            if type(key) is not str or not key.isascii() or "\x00" in key:
                raise _NotPlain
            out[key] = _plain(item, floats)
        return out
    if kind is list or kind is tuple:
        return [_plain(item, floats) for item in value]
    raise _NotPlain


def canonical_json(obj: Any) -> bytes:
    # A model's JSON dump is plain already: `_plain` copies it once (no `to_jsonable` pass).
    data = obj.model_dump(mode="json") if isinstance(obj, BaseModel) else obj
    floats: list[float] = []
    try:
        plain = _plain(data, floats)
        text = json.dumps(plain, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
        if floats:
            text = _FLOAT_SLOT.sub(lambda m: rfc8785.dumps(floats[int(m[1])]).decode(), text)
        return text.encode("utf-8")
    except (_NotPlain, UnicodeEncodeError):
        # Models nested in mappings, enums, other mappings: as before; and rfc8785's errors.
        return rfc8785.dumps(to_jsonable(data))


def canonical_hash(obj: Any) -> str:
    """Hex SHA-256 of the canonical JSON: stable under key order, changed by any value."""
    return hashlib.sha256(canonical_json(obj)).hexdigest()
