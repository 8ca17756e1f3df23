"""How every command prints: tables that read at 80 columns on a terminal and stay one plain,
grep-able line per row when piped; refusals as one line on stderr, or under `--json` as the
API's own error body ({code, field, message}) on stdout.

Commands call `table(...)`, `out()` and `fail(...)`; the `--json` error mode is switched on once
for the whole process by `cli.main` when `--json` is on the command line, so every command,
including ones added later, answers the same way.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, NoReturn

import typer

if TYPE_CHECKING:  # rich is loaded when a table is drawn: `gate check` is on a hot path
    from rich.console import Console

_JSON_ERRORS = False
FIELD_PREFIX = re.compile(r"^(--?[\w-]+|[a-z_][\w.\[\]]*|[A-Z][A-Z0-9_]+): ")


def json_errors(on: bool = True) -> None:
    global _JSON_ERRORS
    _JSON_ERRORS = on


def json_errors_on() -> bool:
    return _JSON_ERRORS


def terminal() -> bool:
    return sys.stdout.isatty()


def console() -> Console:
    """A terminal gets rich's layout at its width; a pipe gets unwrapped, unstyled lines."""
    from rich.console import Console

    if terminal():
        return Console()
    return Console(soft_wrap=True, no_color=True, highlight=False, emoji=False)


def out(text: str = "") -> None:
    """One line of plain text (no markup), never wrapped when piped."""
    typer.echo(text)


def table(headers: Sequence[str], rows: Sequence[Sequence[str]], title: str | None = None) -> None:
    """A table: on a terminal, rich's (folding long cells to fit); piped, aligned plain lines,
    each row whole on one line, so `grep` and `cut` see every field."""
    if terminal():
        from rich import box
        from rich.console import Console
        from rich.table import Table

        grid = Table(*headers, title=title, box=box.SIMPLE_HEAD, expand=False)
        for column in grid.columns:
            column.overflow = "fold"
        for row in rows:
            grid.add_row(*row)
        Console().print(grid)
        return
    if title:
        out(title)
    widths = [len(h) for h in headers]
    for row in rows:
        widths = [max(w, len(cell)) for w, cell in zip(widths, row, strict=False)]
    for line in [list(headers), *rows]:
        cells = [cell.ljust(w) for cell, w in zip(line, widths, strict=False)]
        out("  ".join(cells).rstrip())


def emit_json(data: Any) -> None:
    typer.echo(json.dumps(data, indent=2, sort_keys=True, default=str))


def error_body(message: str, code: str, field: str | None) -> dict[str, str | None]:
    """The API's error body (api/errors.py `body`), so a script reads one shape everywhere."""
    return {"code": code, "field": field, "message": message}


def field_of(message: str) -> str | None:
    """The field a "field: reason" message names (options lose their dashes, as the API's)."""
    found = FIELD_PREFIX.match(message)
    return found.group(1).lstrip("-").replace("-", "_") if found else None


def fail(
    message: str, exit_code: int = 2, *, code: str = "invalid_request", field: str | None = None
) -> NoReturn:
    """Refuse: one line on stderr ("error: ..."), or the error body on stdout under --json."""
    line = " ".join(message.split())
    if _JSON_ERRORS:
        typer.echo(json.dumps(error_body(line, code, field or field_of(line)), sort_keys=True))
    else:
        # One line: scripts and operators read the first line of stderr.
        typer.echo(f"error: {line}", err=True)
    raise typer.Exit(exit_code)
