"""One real gRPC Firestore emulator per test session (npm @firestore-emulator/server).

FIRESTORE_EMULATOR_HOST set by the user points the tests at another emulator (the official one)
instead of starting ours.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

EMULATOR = Path(__file__).resolve().parents[2] / "tools" / "firestore-emulator"


def start() -> tuple[subprocess.Popen[str], str]:
    node = shutil.which("node")
    if node is None or not (EMULATOR / "node_modules" / "@firestore-emulator").exists():
        pytest.fail("the Firestore emulator is not installed: `make test` runs npm ci for it")
    # stdin stays a pipe: the emulator exits when we do, whatever happens to this process.
    process = subprocess.Popen(
        [node, "serve.js", "0"],
        cwd=EMULATOR,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert process.stdout is not None
    line = process.stdout.readline().strip()
    if not line.startswith("listening "):
        process.kill()
        pytest.fail(f"the Firestore emulator did not start: {line!r}")
    return process, line.split()[1]


@pytest.fixture(scope="session")
def firestore_emulator_host() -> Iterator[str]:
    preset = os.environ.get("FIRESTORE_EMULATOR_HOST")
    if preset:
        yield preset
        return
    process, host = start()
    try:
        yield host
    finally:
        process.terminate()
        process.wait(10)
