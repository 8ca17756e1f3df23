"""cpu_tuning: NumPy's AVX-512 sorts turned off on AMD Zen 4 only, and never over an operator's
own setting of NumPy's switch."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import cpu_tuning

ROOT = Path(__file__).resolve().parents[1]


def cpuinfo(vendor: str, family: int, flags: str) -> str:
    first = f"processor\t: 0\nvendor_id\t: {vendor}\ncpu family\t: {family}\nflags\t\t: {flags}\n"
    return first + "\nprocessor\t: 1\nvendor_id\t: Other\n"


@pytest.mark.parametrize(
    ("vendor", "family", "flags", "zen4"),
    [
        ("AuthenticAMD", 25, "fpu avx2 avx512f avx512dq", True),  # Zen 4
        ("AuthenticAMD", 25, "fpu avx2", False),  # Zen 3: same family, no AVX-512
        ("AuthenticAMD", 26, "fpu avx2 avx512f", False),  # Zen 5: fast compress-store
        ("GenuineIntel", 6, "fpu avx2 avx512f", False),  # Intel: AVX-512 sorts are fastest
        ("AuthenticAMD", 25, "fpu avx2 avx512fx", False),  # a flag is a whole word
    ],
)
def test_only_zen4_is_detected(vendor: str, family: int, flags: str, zen4: bool) -> None:
    assert cpu_tuning.is_zen4(cpuinfo(vendor, family, flags)) is zen4


def test_apply_sets_the_switch_on_zen4_only_and_keeps_an_operators(tmp_path: Path) -> None:
    zen4, intel = tmp_path / "zen4", tmp_path / "intel"
    zen4.write_text(cpuinfo("AuthenticAMD", 25, "avx2 avx512f"))
    intel.write_text(cpuinfo("GenuineIntel", 6, "avx2 avx512f"))
    env: dict[str, str] = {}
    assert cpu_tuning.sorts_off(zen4, env, {}) is True
    assert env == {cpu_tuning.SWITCH: cpu_tuning.AVX512_TARGETS}
    env = {}
    assert cpu_tuning.sorts_off(intel, env, {}) is False and env == {}
    assert cpu_tuning.sorts_off(tmp_path / "absent", env, {}) is False and env == {}
    # The operator's own value, even an empty one, is left as it is.
    for own in ("AVX512_SPR", ""):
        env = {cpu_tuning.SWITCH: own}
        assert cpu_tuning.sorts_off(zen4, env, {}) is False and env == {cpu_tuning.SWITCH: own}
    # Too late once NumPy is imported: it read its switch then.
    env = {}
    assert cpu_tuning.sorts_off(zen4, env, {"numpy": object()}) is False and env == {}


def test_the_entry_points_import_it_before_numpy() -> None:
    """In a fresh process `cli.main` (the `stratgate` command) applies it before NumPy loads,
    and an operator's setting survives: NumPy then runs with exactly that switch."""
    code = (
        "import cli.main, numpy, os; from numpy._core import _multiarray_umath as m;"
        "print(os.environ['NPY_DISABLE_CPU_FEATURES'], m.__cpu_features__['AVX512_SPR'])"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        env={**os.environ, "PYTHONPATH": str(ROOT), "NPY_DISABLE_CPU_FEATURES": "AVX512_SPR"},
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.split() == ["AVX512_SPR", "False"]


def test_one_blas_thread_unless_the_operator_chose_a_count() -> None:
    env: dict[str, str] = {}
    assert cpu_tuning.one_blas_thread(env, {}) is True and env == {"OPENBLAS_NUM_THREADS": "1"}
    for name in cpu_tuning.BLAS_THREADS:
        env = {name: "4"}
        assert cpu_tuning.one_blas_thread(env, {}) is False and env == {name: "4"}
    env = {}
    assert cpu_tuning.one_blas_thread(env, {"numpy": object()}) is False and env == {}


def _threads_after_numpy(**env: str) -> int:
    """OS threads of a fresh process that imported `cli.main` and then NumPy (OpenBLAS's own
    threads start when NumPy loads it)."""
    code = "import cli.main, numpy, os; print(len(os.listdir('/proc/self/task')))"
    base = {k: v for k, v in os.environ.items() if k not in cpu_tuning.BLAS_THREADS}
    out = subprocess.run(
        [sys.executable, "-c", code],
        env={**base, "PYTHONPATH": str(ROOT), **env},
        capture_output=True,
        text=True,
        check=True,
    )
    return int(out.stdout)


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="Linux: threads in /proc")
def test_numpy_starts_no_blas_threads_in_an_entry_point() -> None:
    assert _threads_after_numpy() == 1
    # The operator's count is kept: OpenBLAS then starts its threads (the main thread is one).
    assert _threads_after_numpy(OPENBLAS_NUM_THREADS="2") == 2
