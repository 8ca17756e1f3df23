"""API tests: the real app over ASGI, a real worker on the session's Temporal server, SQLite."""

from __future__ import annotations

import asyncio
import functools
import json
import secrets
import socket
import sqlite3
import threading
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import jwt
import pytest
import uvicorn
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi import FastAPI
from temporalio.client import Client

from api.app import create_app
from api.deps import ApiDeps
from api.oidc import OidcConfig, OidcVerifier
from cli.api_server import EmbeddedServer
from governance.identity import TokenKind, new_token_record
from governance.stages import LifecycleStage as S
from store.sqlite import SqliteStore
from tests.workflows.harness import SIGNER, Stack, fast_policy
from tests.workflows.test_demotion import no_evidence_needed


@dataclass
class Api:
    http: httpx.AsyncClient
    stack: Stack
    app: FastAPI

    async def token(
        self,
        user: str,
        kind: TokenKind = TokenKind.PERSONAL,
        tenant: str | None = None,
        ttl: int = 3600,
        now: datetime | None = None,
    ) -> dict[str, str]:
        token = secrets.token_urlsafe(16)
        await self.stack.store.put_api_token(
            new_token_record(
                token=token,
                kind=kind,
                tenant_id=tenant or self.stack.tenant,
                subject=user,
                now=now or datetime.now(UTC),
                ttl_seconds=ttl,
            )
        )
        return {"authorization": f"Bearer {token}"}

    async def counts(self) -> tuple[int, int, int]:
        t = self.stack.tenant
        store = self.stack.store
        return (
            len(await store.list_records(t)),
            len(await store.list_audit_events(t)),
            len(await store.list_requests(t)),
        )

    def snapshot(self) -> list[str]:
        """Every row of every table of the store, read beside the store's own connection."""
        conn = sqlite3.connect(f"file:{self.stack.store.db_path}?mode=ro", uri=True)
        try:
            return list(conn.iterdump())
        finally:
            conn.close()


@pytest.fixture
async def api(
    client: Client, sqlite_store: SqliteStore, task_queue: str, tenant: str, tmp_path: Path
) -> AsyncIterator[Api]:
    stack = Stack(client, sqlite_store, task_queue, tenant, tmp_path)
    await stack.seed(fast_policy(), {"momo": S.PAPER, "calm": S.SHADOW})
    app = create_app(
        ApiDeps(store=sqlite_store, client=client, task_queue=task_queue, signer=SIGNER)
    )
    transport = httpx.ASGITransport(app=app)
    async with (
        stack.worker(no_evidence_needed),
        httpx.AsyncClient(transport=transport, base_url="http://stratgate.test") as http,
    ):
        yield Api(http, stack, app)


def expired() -> datetime:
    return datetime.now(UTC) - timedelta(days=2)


@pytest.fixture
async def served(api: Api) -> AsyncIterator[str]:
    """The same app behind a real uvicorn on a loopback port: the server's own parsing too."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    server = EmbeddedServer(
        uvicorn.Config(api.app, host="127.0.0.1", port=port, log_level="warning")
    )
    serving = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await serving


ISSUER, AUDIENCE = "https://login.example.test/", "stratgate"


@pytest.fixture
def keys(tmp_path: Path) -> Iterator[tuple[rsa.RSAPrivateKey, OidcVerifier]]:
    """An RSA key and a verifier that fetches its JWKS over HTTP on loopback."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
    served = tmp_path / "jwks"
    served.mkdir()
    (served / "jwks.json").write_text(
        json.dumps({"keys": [{**jwk, "kid": "k1", "use": "sig", "alg": "RS256"}]})
    )
    handler = functools.partial(SimpleHTTPRequestHandler, directory=str(served))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_address[1]}/jwks.json"
    try:
        yield key, OidcVerifier(OidcConfig(ISSUER, AUDIENCE, url))
    finally:
        server.shutdown()


def sign(key: rsa.RSAPrivateKey, **claims: object) -> str:
    body = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": "bob",
        "tenant_id": "demo",
        "exp": int(time.time()) + 300,
        **claims,
    }
    return jwt.encode(body, key, algorithm="RS256", headers={"kid": "k1"})
