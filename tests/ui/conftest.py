"""A real app on a loopback port over a real worker, for the browser and CLI-via-API tests."""

from __future__ import annotations

import asyncio
import secrets
import shutil
import socket
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import uvicorn
from temporalio.client import Client

from api.app import create_app
from api.deps import ApiDeps
from cli.api_server import EmbeddedServer
from governance.identity import TokenKind, new_token_record
from governance.stages import LifecycleStage as S
from store.sqlite import SqliteStore
from tests.workflows.evidence_fixtures import seed_evidence
from tests.workflows.harness import SIGNER, Stack, fast_policy

# Where the pages link workflows to (the dev server's Web UI is not started by the tests).
TEMPORAL_UI = "http://127.0.0.1:8233"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
SHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
async def site(
    client: Client, sqlite_store: SqliteStore, task_queue: str, tenant: str, tmp_path: Path
) -> AsyncIterator[tuple[str, Stack, dict[str, str]]]:
    assert Path(CHROMIUM).exists(), "Debian's chromium is missing: `make test` installs it"
    stack = Stack(client, sqlite_store, task_queue, tenant, tmp_path)
    await stack.seed(fast_policy(), {"edge": S.SHADOW})
    evaluator = seed_evidence(tmp_path / "evidence", tenant, {"edge": 0.6})
    tokens = {}
    for user, kind in (
        ("bob", TokenKind.PERSONAL),
        ("carol", TokenKind.PERSONAL),
        ("alice", TokenKind.PERSONAL),
        ("quant", TokenKind.PERSONAL),
        ("risk-engine", TokenKind.SERVICE),
    ):
        tokens[user] = secrets.token_urlsafe(16)
        await sqlite_store.put_api_token(
            new_token_record(
                token=tokens[user],
                kind=kind,
                tenant_id=tenant,
                subject=user,
                now=datetime.now(UTC),
                ttl_seconds=3600,
            )
        )
    port = free_port()
    app = create_app(
        ApiDeps(
            store=sqlite_store,
            client=client,
            task_queue=task_queue,
            signer=SIGNER,
            temporal_ui_url=TEMPORAL_UI,
            evaluations=evaluator,
        )
    )
    server = EmbeddedServer(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    async with stack.worker(evaluator):
        serving = asyncio.create_task(server.serve())
        while not server.started:
            await asyncio.sleep(0.05)
        try:
            yield f"http://127.0.0.1:{port}", stack, tokens
        finally:
            server.should_exit = True
            await serving
