"""Canonical JSON (RFC 8785) and SHA-256 content hashes: the basis of metrics_hash and the chain."""

from __future__ import annotations

import hashlib
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


def canonical_json(obj: Any) -> bytes:
    return rfc8785.dumps(to_jsonable(obj))


def canonical_hash(obj: Any) -> str:
    """Hex SHA-256 of the canonical JSON: stable under key order, changed by any value."""
    return hashlib.sha256(canonical_json(obj)).hexdigest()
