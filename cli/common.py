"""What every store-side command shares: settings, one store session, the options every command
spells the same way, `--json` output, and refusals turned into one clear line on stderr (or the
API's error body on stdout under `--json`, see cli/output.py) with exit code 2.

Nothing here imports Temporal: the registry, records, policy and gate commands run without it,
and start faster for it (the trading runtime calls `stratgate gate check` on its hot path).
"""

from __future__ import annotations

import asyncio
import sqlite3
import sys
from collections.abc import AsyncIterator, Coroutine
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Annotated, Any, NamedTuple, NoReturn, TypeVar

import typer
from pydantic import ValidationError

from cli import output
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
Json = Annotated[
    bool, typer.Option("--json", help="Print JSON (errors too: {code, field, message} on stdout).")
]
# The person acting, on every command a human runs (`--by` and `--user` are the old spellings).
ACT_AS_HELP = (
    "Who acts: on the demo stack a demo person (their token), else recorded as "
    "local_operator:<name>."
)


ActAs = Annotated[str | None, typer.Option("--as", help=ACT_AS_HELP)]
# The old spelling, still accepted (hidden from --help), with a warning on stderr.
OldBy = Annotated[
    str | None, typer.Option("--by", hidden=True, help="Deprecated spelling of --as.")
]


def acting(as_user: str | None, by: str | None) -> str | None:
    """The one identity of a human command, from `--as` or its deprecated `--by`."""
    if by is not None:
        typer.echo("warning: --by is deprecated; use --as", err=True)
    if as_user is not None and by is not None and as_user != by:
        fail(f"as: --as {as_user} and --by {by} name two people; give --as only")
    return as_user if as_user is not None else by


def _at_most(option: str, limit: int) -> Any:
    """An option callback refusing text past the limit the API and the web UI also apply."""

    def check(value: str) -> str:
        problem = check_text(value, option, limit)
        if problem is not None:
            fail(str(problem))
        return value

    return check


Comment = Annotated[
    str,
    typer.Option(
        "--comment",
        callback=_at_most("--comment", COMMENT_MAX),
        help=f"Why you decide so (kept with the decision; at most {COMMENT_MAX} characters).",
    ),
]
Reason = Annotated[
    str,
    typer.Option(
        "--reason",
        callback=_at_most("--reason", REASON_MAX),
        help=f"Why (kept in the request and its audit events; at most {REASON_MAX} characters).",
    ),
]


def emit_json(data: Any) -> None:
    output.emit_json(data)


def fail(
    message: str, code: int = 2, *, refusal: str = "invalid_request", field: str | None = None
) -> NoReturn:
    output.fail(message, code, code=refusal, field=field)


class Refusal(NamedTuple):
    message: str
    code: str
    field: str | None


def refusal_of(exc: BaseException) -> Refusal | None:
    """A refusal's text, code and field (the API's), or None for an unexpected error."""
    if isinstance(exc, GovernanceError):
        where = f"{exc.field}: " if exc.field and exc.field not in exc.message else ""
        return Refusal(f"{where}{exc.message} [{exc.code}]", exc.code, exc.field)
    if isinstance(exc, ValidationError):  # before ValueError: it is one
        lines = validation_lines(exc)
        return Refusal("; ".join(lines), "invalid_request", output.field_of(lines[0]))
    if isinstance(exc, ValueError):
        text = str(exc)  # our ValueErrors read "field: reason"
        return Refusal(text, "invalid_request", output.field_of(text))
    if isinstance(exc, sqlite3.Error):
        return Refusal(f"store: {exc}", "unavailable", "store")
    if isinstance(exc, OSError):
        text = f"{exc.filename}: {exc.strerror}" if exc.filename and exc.strerror else str(exc)
        return Refusal(text, "invalid_request", None)
    return None


def describe(exc: BaseException) -> str | None:
    """The one-line text of a refusal (field and reason), or None for an unexpected error."""
    found = refusal_of(exc)
    return found.message if found else None


def validation_lines(exc: ValidationError) -> list[str]:
    return [f"{'.'.join(str(p) for p in e['loc']) or 'input'}: {e['msg']}" for e in exc.errors()]


def run(coro: Coroutine[Any, Any, T]) -> T:
    """Run a command's coroutine; a refusal becomes one line on stderr and exit code 2."""
    try:
        return asyncio.run(coro)
    except typer.Exit:
        raise  # a deliberate exit from inside the command (it is a RuntimeError too)
    except Exception as exc:
        found = refusal_of(exc)
        if found is None:
            raise
        fail(found.message, refusal=found.code, field=found.field)


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
