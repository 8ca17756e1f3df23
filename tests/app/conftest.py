"""Use cases on a real SQLite store, with no Temporal and no evidence unless a test adds them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from app.ports import Ports
from store.sqlite import SqliteStore


@pytest.fixture
async def ports(tmp_path: Path) -> AsyncIterator[Ports]:
    store = SqliteStore(tmp_path / "stratgate.db")
    try:
        yield Ports(store=store, client=None, task_queue="unused")
    finally:
        await store.close()
