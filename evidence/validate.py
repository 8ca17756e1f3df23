"""Reading one evidence file (Parquet or CSV) into checked columns, or refusing it whole."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from evidence.errors import EvidenceSchemaError
from evidence.schemas import KINDS, Column
from governance.evidence_columns import UNREPORTED

TRUE = {"true", "1", "yes", "t", "y"}
FALSE = {"false", "0", "no", "f", "n", ""}


def read_table(path: Path) -> pd.DataFrame:
    suffix = path.suffix.lower()
    try:
        if suffix == ".parquet":
            return pq.read_table(path).to_pandas()
        if suffix == ".csv":
            return pd.read_csv(path, dtype=str, keep_default_na=False)
    except Exception as exc:
        raise EvidenceSchemaError(path, None, None, f"unreadable: {exc}") from None
    raise EvidenceSchemaError(path, None, None, "expected a .parquet or .csv file")


def validate(kind: str, path: Path) -> dict[str, np.ndarray[Any, Any]]:
    """All columns of `kind`, typed; the first bad cell is refused naming row and column."""
    if kind not in KINDS:
        raise EvidenceSchemaError(
            path, None, None, f"unknown kind {kind!r} (one of {sorted(KINDS)})"
        )
    frame = read_table(path)
    columns: dict[str, np.ndarray[Any, Any]] = {}
    for spec in KINDS[kind]:
        if spec.name not in frame.columns:
            if spec.required:
                raise EvidenceSchemaError(path, None, spec.name, "required column is missing")
            if spec.type == "flag":
                columns[spec.name] = np.full(len(frame), UNREPORTED, dtype=np.int8)
            else:
                columns[spec.name] = np.full(len(frame), spec.default)
            continue
        columns[spec.name] = _column(path, spec, frame[spec.name])
    return columns


def _bad(path: Path, spec: Column, mask: np.ndarray[Any, Any], reason: str) -> None:
    if mask.any():
        row = int(np.flatnonzero(mask)[0]) + 1  # 1-based data row (CSV line = row + 1)
        raise EvidenceSchemaError(path, row, spec.name, reason)


def _is_null(series: pd.Series) -> np.ndarray[Any, Any]:
    nulls = series.isna().to_numpy().copy()
    if series.dtype == object or pd.api.types.is_string_dtype(series):
        nulls |= series.astype(str).str.strip().isin(["", "nan", "NaN", "null", "None"]).to_numpy()
    return nulls


def _column(path: Path, spec: Column, series: pd.Series) -> np.ndarray[Any, Any]:
    nulls = _is_null(series)
    if not spec.nullable:
        _bad(path, spec, nulls, "value is missing")
    if spec.type == "timestamp":
        parsed = pd.to_datetime(series, utc=True, errors="coerce")
        _bad(path, spec, parsed.isna().to_numpy() & ~nulls, "not a timestamp")
        return parsed.to_numpy(dtype="datetime64[ns]").astype(np.int64)
    if spec.type == "float":
        parsed = pd.to_numeric(series.where(~nulls, None), errors="coerce").to_numpy(
            dtype=np.float64
        )
        _bad(path, spec, np.isnan(parsed) & ~nulls, "not a number")
        finite = np.isfinite(parsed)
        if spec.low is not None:
            _bad(path, spec, finite & (parsed < spec.low), f"below {spec.low}")
        if spec.high is not None:
            _bad(path, spec, finite & (parsed > spec.high), f"above {spec.high}")
        return parsed
    if spec.type in ("bool", "flag"):
        if pd.api.types.is_bool_dtype(series) and not nulls.any():
            values = series.to_numpy(dtype=bool)
        else:
            text = series.astype(str).str.strip().str.lower()
            known = text.isin(TRUE | FALSE).to_numpy()
            _bad(path, spec, ~known & ~nulls, "not a boolean (true/false)")
            values = text.isin(TRUE).to_numpy()
        if spec.type == "bool":
            return values
        return np.where(nulls, UNREPORTED, values.astype(np.int8)).astype(np.int8)
    values = series.astype(str).to_numpy()
    if spec.choices:
        _bad(path, spec, ~np.isin(values, spec.choices), f"not one of {', '.join(spec.choices)}")
    return values.astype(str)
