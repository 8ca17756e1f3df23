"""`stratgate up`: the whole embedded stack in one process tree, stopped cleanly by Ctrl-C."""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path
from typing import Annotated

import typer
from temporalio.client import Client

import tracing_setup
from app.signing import checkpoint_key, public_keys
from cli.api_cmd import server as api_server
from cli.embedded import (
    StackInfo,
    check_ports,
    clear_stack,
    describe,
    start_temporal,
    stop_process,
    wait_for_port,
    write_stack,
)
from cli.stack_lock import hold_data_dir
from cli.workflow_io import fail
from logging_setup import configure as configure_logging
from settings import Settings
from store.factory import open_store
from worker import build_worker, default_evaluator, fingerprint, start_checkpoint_schedule
from workflows.client import connect


async def run_stack(
    settings: Settings, temporal_port: int, ui_port: int, api_port: int, demo: bool
) -> None:
    # The data directory first: a second `up` on it is refused before it touches anything.
    with hold_data_dir(settings.home) as token:
        check_ports({"Temporal": temporal_port, "Temporal Web UI": ui_port, "API": api_port})
        await _serve(settings, token, temporal_port, ui_port, api_port, demo)


async def _serve(
    settings: Settings, token: str, temporal_port: int, ui_port: int, api_port: int, demo: bool
) -> None:
    server = start_temporal(settings.home, temporal_port, ui_port)
    store = open_store(settings)
    try:
        await wait_for_port(temporal_port, server)
        address = f"127.0.0.1:{temporal_port}"
        client = await _connect_with_retry(address, settings.temporal_namespace)
        info = StackInfo(
            temporal_address=address,
            temporal_ui_url=f"http://127.0.0.1:{ui_port}",
            api_url=f"http://127.0.0.1:{api_port}",
            task_queue=settings.task_queue,
            namespace=settings.temporal_namespace,
            pid=os.getpid(),
            token=token,
        )
        worker = build_worker(
            client,
            store,
            settings.task_queue,
            default_evaluator(settings),
            fingerprint(settings),
            public_keys(settings),
            lambda: checkpoint_key(settings),
            settings.worker_bounds,
        )
        if demo and not settings.checkpoint_tenants:  # the demo tenant is checkpointed too
            settings = settings.model_copy(update={"checkpoint_tenants": ["demo"]})
        await start_checkpoint_schedule(client, settings)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        api = api_server(
            store,
            client,
            settings.task_queue,
            "127.0.0.1",
            api_port,
            embedded=True,
            settings=settings,
            temporal_ui_url=info.temporal_ui_url,
        )
        async with worker:
            api_task = asyncio.create_task(api.serve())
            write_stack(settings.home, info)
            typer.echo(f"stratgate is up (data in {settings.home}):\n{describe(info)}")
            if demo:
                from cli.demo import seed_demo

                typer.echo(await seed_demo(store, client, settings))
            typer.echo("Ctrl-C stops everything.")
            await stop.wait()
            typer.echo("stopping...")
            api.should_exit = True
            await api_task
    finally:
        clear_stack(settings.home, token)
        await store.close()
        stop_process(server)


async def _connect_with_retry(address: str, namespace: str) -> Client:
    for _ in range(50):
        try:
            return await connect(address, namespace)
        except RuntimeError:
            await asyncio.sleep(0.2)
    return await connect(address, namespace)


def up(
    data_dir: Annotated[
        Path | None, typer.Option("--data-dir", help="Data directory (default STRATGATE_HOME).")
    ] = None,
    temporal_port: Annotated[
        int, typer.Option("--temporal-port", help="Temporal frontend port (the `temporal` CLI's).")
    ] = 7233,
    ui_port: Annotated[int, typer.Option("--ui-port", help="Temporal Web UI port.")] = 8233,
    api_port: Annotated[
        int, typer.Option("--api-port", help="stratgate API and web UI port.")
    ] = 8000,
    demo: Annotated[bool, typer.Option("--demo", help="Seed the demo tenant.")] = False,
) -> None:
    """Start the Temporal dev server, the worker and the API on this machine."""
    if data_dir is not None:
        os.environ["STRATGATE_HOME"] = str(data_dir)
    settings = Settings.from_env()
    configure_logging()
    tracing_setup.configure("stratgate")
    try:
        asyncio.run(run_stack(settings, temporal_port, ui_port, api_port, demo))
    except RuntimeError as exc:
        fail(str(exc))
