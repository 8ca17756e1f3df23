"""Finding and connecting to the Temporal service from the CLI."""

from __future__ import annotations

from temporalio.client import Client

import tracing_setup
from cli.embedded import read_stack
from settings import Settings
from workflows.client import connect


class NoStack(RuntimeError):
    pass


def temporal_target(settings: Settings) -> tuple[str, str, str]:
    """(address, namespace, task queue): from the environment, else the running embedded stack."""
    if settings.temporal_address:
        return settings.temporal_address, settings.temporal_namespace, settings.task_queue
    info = read_stack(settings.home)
    if info is None:
        raise NoStack(
            f"no running stack found under {settings.home}: start one with `stratgate up` "
            "(or set TEMPORAL_ADDRESS)"
        )
    return info.temporal_address, info.namespace, info.task_queue


async def open_client(settings: Settings) -> tuple[Client, str]:
    address, namespace, task_queue = temporal_target(settings)
    tracing_setup.configure("stratgate-cli")  # a no-op once `api`/`up` configured their own
    return await connect(address, namespace), task_queue
