"""Uvicorn inside a process that owns its own signal handling (the embedded stack)."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Generator
from pathlib import Path

import uvicorn

ACCESS_LOG = "api-access.log"


def access_log_to(path: Path) -> None:
    """Uvicorn's access log into a file of the data directory, not the `up` terminal: the
    terminal keeps what a person started the stack to read (addresses, the demo, Ctrl-C)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(message)s"))
    logger = logging.getLogger("uvicorn.access")
    for old in list(logger.handlers):
        logger.removeHandler(old)
        old.close()
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False


class EmbeddedServer(uvicorn.Server):
    """Leaves SIGINT/SIGTERM to the stack, which stops the API with the worker and server."""

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield
