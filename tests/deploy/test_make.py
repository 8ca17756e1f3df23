"""`make up` passes ports and a data directory through to `stratgate up`."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def dry_run(*variables: str) -> str:
    # -n: print the recipe only; -o: take the venv as made, so its set-up is not printed.
    result = subprocess.run(
        ["make", "-n", "-o", ".venv/.installed-stamp", "up", *variables],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 0, result.stderr
    (line,) = [ln for ln in result.stdout.splitlines() if "stratgate up" in ln]
    return line


@pytest.mark.skipif(shutil.which("make") is None, reason="no make here")
def test_make_up_takes_ports_and_a_data_directory() -> None:
    line = dry_run("PORT=9100", "TEMPORAL_PORT=9101", "UI_PORT=9102", "DATA=/tmp/sg-data")
    for expected in ("--api-port 9100", "--temporal-port 9101", "--ui-port 9102"):
        assert expected in line, line
    assert "--data-dir /tmp/sg-data" in line, line
    # Without them, the defaults of `stratgate up` itself.
    assert dry_run().rstrip().endswith("stratgate up --demo")
