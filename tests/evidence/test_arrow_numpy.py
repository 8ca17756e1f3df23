"""evidence.arrow_numpy: a stored file's columns read from their buffers equal Arrow's own
conversion (cast, fill_null, to_numpy) on any chunking, offset and nulls, and a cold report reads
them without importing pandas or pyarrow.compute."""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from evidence import arrow_numpy
from evidence.signal_scan import SignalFile, columns_of

ROOT = Path(__file__).resolve().parents[2]


def chunked(
    values: Sequence[object], kind: pa.DataType, cuts: list[int], skip: int
) -> pa.ChunkedArray:
    """`values` sliced from `skip` (an offset into the buffers) and cut into chunks at `cuts`."""
    whole = pa.array(values, type=kind).slice(min(skip, len(values)))
    bounds = sorted({0, len(whole), *(min(c, len(whole)) for c in cuts)})
    return pa.chunked_array(
        [whole.slice(a, b - a) for a, b in itertools.pairwise(bounds)], type=kind
    )


CUTS = st.lists(st.integers(min_value=0, max_value=70), max_size=3)
SKIP = st.integers(min_value=0, max_value=9)


@settings(max_examples=200, deadline=None)
@given(
    values=st.lists(st.one_of(st.none(), st.booleans()), max_size=70),
    cuts=CUTS,
    skip=SKIP,
    null=st.sampled_from([-1, 0]),
)
def test_bool_codes_equal_arrows_cast_and_fill(
    values: list[bool | None], cuts: list[int], skip: int, null: int
) -> None:
    column = chunked(values, pa.bool_(), cuts, skip)
    expected = np.asarray(pc.fill_null(pc.cast(column, pa.int8()), null).to_numpy(), np.int8)
    got = arrow_numpy.bool_codes(column, null)
    assert got.dtype == np.int8 and got.tolist() == expected.tolist()


@settings(max_examples=200, deadline=None)
@given(
    values=st.lists(st.one_of(st.none(), st.floats(allow_nan=False)), max_size=70),
    cuts=CUTS,
    skip=SKIP,
)
def test_floats_equal_arrows_with_nan_for_nulls(
    values: list[float | None], cuts: list[int], skip: int
) -> None:
    column = chunked(values, pa.float64(), cuts, skip)
    expected = np.asarray(column.to_numpy(), dtype=np.float64)  # NaN where null
    got = arrow_numpy.numbers(column, np.nan)
    assert got.dtype == np.float64
    np.testing.assert_array_equal(got, expected)


@settings(max_examples=200, deadline=None)
@given(
    values=st.lists(st.one_of(st.none(), st.integers(-(2**31), 2**31 - 1)), max_size=70),
    kind=st.sampled_from([pa.int32(), pa.int64(), pa.timestamp("ns")]),
    cuts=CUTS,
    skip=SKIP,
)
def test_integers_equal_arrows_fill(
    values: list[int | None], kind: pa.DataType, cuts: list[int], skip: int
) -> None:
    column = chunked(values, kind, cuts, skip)
    storage = column.cast(pa.int64()) if pa.types.is_timestamp(kind) else column
    expected = np.asarray(pc.fill_null(storage, 7).to_numpy(), dtype=np.int64)
    got = arrow_numpy.numbers(column, 7)
    assert got.tolist() == expected.tolist()


def test_one_chunk_without_nulls_is_a_view_of_the_buffer() -> None:
    chunk = pa.array([1.5, 2.5, 3.5]).slice(1)
    view = arrow_numpy.numbers(chunk, np.nan)
    assert view.tolist() == [2.5, 3.5] and not view.flags.writeable
    assert view.ctypes.data == chunk.buffers()[1].address + chunk.offset * 8


def test_other_types_are_refused_or_take_arrows_way() -> None:
    with pytest.raises(TypeError, match="string is not a number type"):
        arrow_numpy.numbers(pa.array(["a"]), 0)
    ints = pa.chunked_array([pa.array([1, None, 0], type=pa.int64())])
    assert arrow_numpy.bool_codes(ints, -1).tolist() == [1, -1, 0]


def test_a_cold_read_of_a_stored_file_imports_neither_pandas_nor_compute(tmp_path: Path) -> None:
    n = 6
    table = pa.table(
        {
            "ts": pa.array(np.arange(n, dtype=np.int64) * 10**9),
            "action": pa.array(["BUY", "SELL", None, "HOLD", "BUY", "SELL"]),
            "score": pa.array([1.0, -1.0, None, 0.5, float("nan"), 2.0]),
            "confidence": pa.array([0.1, 0.2, 0.3, None, 0.5, 0.6]),
            "fwd_return": pa.array([0.01, -0.02, 0.0, 0.01, None, 0.02]),
            "valid": pa.array([True, None, True, False, True, True]),
            "error": pa.array([False, False, None, False, True, False]),
            "missing_fields": pa.array([None, True, False, None, False, False]),
        }
    )
    path = tmp_path / "signals.parquet"
    pq.write_table(table, path)
    expected = {k: v.tolist() for k, v in columns_of(table).items()}  # this process has both
    code = (
        "import json, sys; from pathlib import Path; from evidence.signal_scan import SignalFile,"
        " columns_of; f = SignalFile(Path(sys.argv[1]));"
        "c = columns_of(f.file.read_row_group(0, columns=f.read));"
        "print(json.dumps([{k: v.tolist() for k, v in c.items()},"
        " sorted(m for m in ('pandas', 'pyarrow.compute') if m in sys.modules)]))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(path)],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        check=True,
    )
    got, imported = json.loads(out.stdout.replace("NaN", "null"))
    assert imported == []
    assert SignalFile(path).read  # the file is one the report reads
    for name, values in expected.items():
        assert got[name] == [None if v != v else v for v in values], name
