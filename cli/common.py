"""What every store-side command shares: settings, one store session, `--json` output, and
refusals turned into one clear line on stderr with exit code 2.

Nothing here imports Temporal: the registry, records, policy and gate commands run without it,
and start faster for it (the trading runtime calls `stratgate gate check` on its hot path).
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import sys
from collections.abc import AsyncIterator, Coroutine
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Annotated, Any, NoReturn, TypeVar

import typer
from pydantic import ValidationError

from governance.bounds import COMMENT_MAX, REASON_MAX, check_text
from governance.errors import GovernanceError
from settings import Settings
from store.factory import open_store
from store.port import GovernanceStore

T = TypeVar("T")

# Options every command spells the same way.
Tenant = Annotated[str, typer.Option("--tenant", help="Tenant id.")]
Uid = Annotated[str, typer.Option("--uid", help="Owner (user id) of the strategy.")]
Strategy = Annotated[str, typer.Option("--strategy", help="Strategy id.")]
Json = Annotated[bool, typer.Option("--json", help="Print JSON.")]


def _at_most(option: str, limit: int) -> Any:
    """An option callback refusing text past the limit the API and the web UI also apply."""

    def check(value: str) -> str:
        problem = check_text(value, option, limit)
        if problem is not None:
            fail(str(problem))
        return value

    return check


Comment = Annotated[str, typer.Option("--comment", callback=_at_most("--comment", COMMENT_MAX))]
Reason = Annotated[str, typer.Option("--reason", callback=_at_most("--reason", REASON_MAX))]


def emit_json(data: Any) -> None:
    typer.echo(json.dumps(data, indent=2, sort_keys=True, default=str))


def fail(message: str, code: int = 2) -> NoReturn:
    # One line: scripts and operators read the first line of stderr.
    typer.echo(f"error: {' '.join(message.split())}", err=True)
    raise typer.Exit(code)


def describe(exc: BaseException) -> str | None:
    """The one-line text of a refusal (field and reason), or None for an unexpected error."""
    if isinstance(exc, GovernanceError):
        where = f"{exc.field}: " if exc.field and exc.field not in exc.message else ""
        return f"{where}{exc.message} [{exc.code}]"
    if isinstance(exc, ValidationError):  # before ValueError: it is one
        return "; ".join(validation_lines(exc))
    if isinstance(exc, ValueError):
        return str(exc)  # our ValueErrors read "field: reason"
    if isinstance(exc, sqlite3.Error):
        return f"store: {exc}"
    if isinstance(exc, OSError):
        return f"{exc.filename}: {exc.strerror}" if exc.filename and exc.strerror else str(exc)
    return None


def validation_lines(exc: ValidationError) -> list[str]:
    return [f"{'.'.join(str(p) for p in e['loc']) or 'input'}: {e['msg']}" for e in exc.errors()]


def run(coro: Coroutine[Any, Any, T]) -> T:
    """Run a command's coroutine; a refusal becomes one line on stderr and exit code 2."""
    try:
        return asyncio.run(coro)
    except Exception as exc:
        message = describe(exc)
        if message is None:
            raise
        fail(message)


@asynccontextmanager
async def store_session() -> AsyncIterator[GovernanceStore]:
    """The configured store (STRATGATE_STORE, STRATGATE_HOME, STRATGATE_DB), closed after use."""
    store = open_store(Settings.from_env())
    try:
        yield store
    finally:
        await store.close()


def parse_timestamp(value: str, option: str) -> datetime:
    """ISO-8601; a time without an offset is UTC. Refuses naming the option."""
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        fail(f"{option}: {value!r} is not an ISO-8601 timestamp (e.g. 2026-10-01T14:30:00Z)")
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def flush() -> None:
    sys.stdout.flush()
    sys.stderr.flush()
