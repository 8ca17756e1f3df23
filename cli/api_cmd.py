"""`stratgate api`: serve the HTTP API and the approver UI (the embedded stack runs it too)."""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer
import uvicorn
from temporalio.client import Client

import tracing_setup
from api.app import create_app
from api.deps import ApiDeps
from api.oidc import OidcConfig, OidcVerifier
from app.signing import signing_key
from cli.api_server import ACCESS_LOG, EmbeddedServer, access_log_to
from cli.embedded import read_stack
from cli.session import evaluations
from cli.temporal import open_client
from logging_setup import configure as configure_logging
from settings import Settings
from store.factory import open_store
from store.port import GovernanceStore


def server(
    store: GovernanceStore,
    client: Client | None,
    task_queue: str,
    host: str,
    port: int,
    embedded: bool = False,
    settings: Settings | None = None,
    temporal_ui_url: str | None = None,
) -> uvicorn.Server:
    oidc = None
    if settings is not None and settings.oidc_issuer and settings.oidc_jwks_url:
        oidc = OidcVerifier(
            OidcConfig(settings.oidc_issuer, settings.oidc_audience, settings.oidc_jwks_url)
        )
    settings = settings or Settings.from_env()
    signer = signing_key(settings)
    app = create_app(
        ApiDeps(
            store=store,
            client=client,
            task_queue=task_queue,
            oidc=oidc,
            signer=signer,
            temporal_ui_url=settings.temporal_ui_url or temporal_ui_url or _stack_ui(settings),
            evaluations=evaluations(settings),
        )
    )
    if not embedded:
        config = uvicorn.Config(app, host=host, port=port, log_level="warning", access_log=False)
        return uvicorn.Server(config)
    config = uvicorn.Config(app, host=host, port=port, log_level="warning", access_log=True)
    access_log_to(settings.home / ACCESS_LOG)  # after the config: it sets uvicorn's loggers up
    return EmbeddedServer(config)


def _stack_ui(settings: Settings) -> str | None:
    """The running `stratgate up`'s Temporal Web UI, when this API serves beside it."""
    info = read_stack(settings.home)
    return info.temporal_ui_url if info is not None else None


def api(
    host: Annotated[str, typer.Option("--host", help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Port to listen on.")] = 8000,
) -> None:
    """Serve /v1, /docs, /ui, /healthz, /readyz and /metrics."""
    configure_logging()
    tracing_setup.configure("stratgate-api")

    async def go() -> None:
        settings = Settings.from_env()
        client, queue = await open_client(settings)
        store = open_store(settings)
        try:
            await server(store, client, queue, host, port, settings=settings).serve()
        finally:
            await store.close()

    asyncio.run(go())
