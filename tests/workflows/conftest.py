"""Workflow tests: each test gets its own queue, store and tenant on the session's server."""

from __future__ import annotations

from pathlib import Path

import pytest
from temporalio.client import Client

from store.sqlite import SqliteStore
from tests.workflows.harness import Stack


@pytest.fixture
def stack_factory(
    client: Client, sqlite_store: SqliteStore, task_queue: str, tenant: str, tmp_path: Path
) -> Stack:
    return Stack(client, sqlite_store, task_queue, tenant, tmp_path)
