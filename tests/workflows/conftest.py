"""Workflow tests: each test gets its own queue, store and tenant on the session's server.

Every record a test commits on generated evidence is explained when the test ends and must
replay equal (the decision recomputed from what it cites; tests/support/replay_check.py).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from temporalio.client import Client

from store.sqlite import SqliteStore
from tests.support.replay_check import assert_records_replay
from tests.workflows.harness import Stack


@pytest.fixture
async def stack_factory(
    client: Client, sqlite_store: SqliteStore, task_queue: str, tenant: str, tmp_path: Path
) -> AsyncIterator[Stack]:
    stack = Stack(client, sqlite_store, task_queue, tenant, tmp_path)
    yield stack
    if (tmp_path / "evidence").is_dir():
        await assert_records_replay(sqlite_store, tenant, tmp_path / "evidence")
