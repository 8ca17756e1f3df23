"""Running async commands and reporting their results and refusals, for every CLI command."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Coroutine
from typing import Any, NoReturn, TypeVar

import typer
from pydantic import ValidationError
from temporalio.service import RPCError

from cli.temporal import NoStack
from governance.errors import GovernanceError

T = TypeVar("T")


def emit_json(data: Any) -> None:
    typer.echo(json.dumps(data, indent=2, sort_keys=True, default=str))


def fail(message: str, code: int = 2) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def run(coro: Coroutine[Any, Any, T]) -> T:
    """Run a command's coroutine; refusals become one clear line on stderr and exit code 2."""
    try:
        return asyncio.run(coro)
    except GovernanceError as exc:
        where = f"{exc.field}: " if exc.field else ""
        fail(f"{where}{exc.message} [{exc.code}]")
    except ValidationError as exc:
        fail("; ".join(_validation_lines(exc)))
    except NoStack as exc:
        fail(str(exc))
    except RPCError as exc:
        fail(f"Temporal refused: {exc.message}")
    except (ConnectionError, RuntimeError) as exc:
        fail(str(exc))


def _validation_lines(exc: ValidationError) -> list[str]:
    return [f"{'.'.join(str(p) for p in e['loc']) or 'input'}: {e['msg']}" for e in exc.errors()]


def flush() -> None:
    sys.stdout.flush()
    sys.stderr.flush()
