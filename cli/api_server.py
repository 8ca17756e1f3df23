"""Uvicorn inside a process that owns its own signal handling (the embedded stack)."""

from __future__ import annotations

import contextlib
from collections.abc import Generator

import uvicorn


class EmbeddedServer(uvicorn.Server):
    """Leaves SIGINT/SIGTERM to the stack, which stops the API with the worker and server."""

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield
