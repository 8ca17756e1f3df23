"""The `stratgate` command line: one root, one sub-command group per concern.

Every group and command is imported when named, so a call pays only for what it runs: the
trading runtime calls `stratgate gate check` on its hot path (importing everything costs about
1.5 s per call), and `stratgate evidence report` does not load the store-side groups.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
import traceback
from typing import Any

import typer
from typer.core import TyperGroup

import cpu_tuning  # noqa: F401  (first: NumPy reads its CPU switch when first imported)
import malloc_tuning  # noqa: F401  (before NumPy allocates: glibc keeps freed arrays)
from cli import output
from evidence import prefetch

try:  # typer >= 0.16 carries its own click
    from typer._click.exceptions import ClickException
except ImportError:  # pragma: no cover - older typer on the real click
    from click.exceptions import ClickException  # type: ignore[assignment]

# Command name -> (module, attribute): a Typer app becomes a group, a function a command.
LAZY: dict[str, tuple[str, str]] = {
    "policy": ("cli.policy", "app"),
    "strategy": ("cli.strategy", "app"),
    "records": ("cli.records", "app"),
    "users": ("cli.users", "app"),
    "gate": ("cli.gate", "app"),
    "evidence": ("cli.evidence", "app"),
    "promote": ("cli.promote", "app"),
    "live": ("cli.live", "app"),
    "tokens": ("cli.tokens", "app"),
    "store": ("cli.store_cmd", "app"),
    "approve": ("cli.promote", "approve"),
    "reject": ("cli.promote", "reject"),
    "unfreeze": ("cli.promote", "unfreeze"),
    "risk-event": ("cli.risk", "risk_event"),
    "history": ("cli.history", "history"),
    "halt": ("cli.fleet", "halt"),
    "resume": ("cli.fleet", "resume"),
    "up": ("cli.up", "up"),
    "api": ("cli.api_cmd", "api"),
    "audit": ("cli.audit", "app"),
}


def load(name: str) -> Any:
    """The command or group `name`, imported now."""
    module, attribute = LAZY[name]
    target = getattr(importlib.import_module(module), attribute)
    # Mounted in a holder, as add_typer would, so it gets no completion options of its own.
    holder = typer.Typer(add_completion=False)
    if isinstance(target, typer.Typer):
        holder.add_typer(target, name=name)
    else:
        holder.command(name)(target)
        holder.callback()(lambda: None)  # a group even with one command, as at the root
    group = typer.main.get_command(holder)
    assert isinstance(group, TyperGroup)
    return group.commands[name]


class LazyGroup(TyperGroup):
    """The root group: LAZY's groups and commands, each loaded when named.

    (Contexts and commands are typed Any: typer's own click types live in a private module.)
    """

    def list_commands(self, ctx: Any) -> list[str]:
        return [*super().list_commands(ctx), *LAZY]

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        found = super().get_command(ctx, cmd_name)
        if found is None and cmd_name in LAZY:
            found = load(cmd_name)
        return found


app = typer.Typer(
    name="stratgate",
    help="Risk-governed promotion and demotion of trading strategies.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    cls=LazyGroup,
)


@app.callback()
def root() -> None:
    """(Every sub-command is lazy: the root is a group by its callback, as typer needs one.)"""


def main() -> None:
    """Run the CLI, then end the process deliberately.

    A process that used a Temporal client can abort at interpreter exit (sdk-python #300,
    exit 134 after the work was done); flushing and leaving with os._exit keeps the real status.
    """
    code = 1
    as_json = "--json" in sys.argv[1:]
    output.json_errors(as_json)  # every refusal, of every command, as the API's error body
    try:
        if as_json:
            code = _run_json()
        else:
            app()  # standalone: typer shows usage errors and always ends with SystemExit
    except SystemExit as exc:
        if exc.code is None or isinstance(exc.code, int):
            code = exc.code or 0
        else:
            print(exc.code, file=sys.stderr)
    except BaseException:
        traceback.print_exc()  # a bug, not a refusal: show it, and still exit deliberately
    prefetch.wait()  # a refused report: its child ends with the command, not after it
    tracing = sys.modules.get("tracing_setup")  # imported only by a command that traced
    if tracing is not None:
        tracing.flush()  # os._exit skips the span processor's own flush at exit
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def _run_json() -> int:
    """Under --json even a usage error (a misspelt stage, a missing option) is the API's error
    body on stdout, naming the option as its field."""
    try:
        result = app(standalone_mode=False)
    except ClickException as exc:
        param = getattr(exc, "param", None)
        field = getattr(param, "name", None)
        body = output.error_body(" ".join(exc.format_message().split()), "invalid_request", field)
        typer.echo(json.dumps(body, sort_keys=True))
        return exc.exit_code
    except typer.Abort:
        return 1
    return result if isinstance(result, int) else 0
