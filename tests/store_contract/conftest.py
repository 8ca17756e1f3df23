"""The store contract suite runs once per adapter: the embedded SQLite file and Firestore."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from store.port import GovernanceStore

# Firestore runs against the emulator the `firestore_emulator_host` fixture starts.
ADAPTERS = ["sqlite", "firestore"]


@pytest.fixture(params=ADAPTERS)
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[GovernanceStore]:
    if request.param == "sqlite":
        from store.sqlite import SqliteStore

        adapter: GovernanceStore = SqliteStore(tmp_path / "contract.db")
    else:
        from store.firestore import FirestoreStore

        host = request.getfixturevalue("firestore_emulator_host")
        adapter = FirestoreStore.for_emulator(host, project="stratgate-contract")
    try:
        yield adapter
    finally:
        await adapter.close()
