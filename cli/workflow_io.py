"""Running commands that talk to Temporal: the store-side refusals of `cli.common`, plus
Temporal's own (no running stack, an RPC refusal, a failed connection)."""

from __future__ import annotations

from collections.abc import Coroutine
from typing import Any, TypeVar

import typer
from temporalio.service import RPCError

from cli import common
from cli.common import emit_json, fail, flush
from cli.temporal import NoStack

__all__ = ["emit_json", "fail", "flush", "run"]

T = TypeVar("T")


def run(coro: Coroutine[Any, Any, T]) -> T:
    """Run a command's coroutine; refusals become one clear line on stderr and exit code 2."""
    try:
        return common.run(coro)
    except typer.Exit:
        raise  # a deliberate exit from inside the command (it is a RuntimeError too)
    except NoStack as exc:
        fail(str(exc), refusal="unavailable", field="temporal")
    except RPCError as exc:
        fail(f"Temporal refused: {exc.message}", refusal="unavailable", field="temporal")
    except (ConnectionError, RuntimeError) as exc:
        fail(str(exc), refusal="unavailable")
