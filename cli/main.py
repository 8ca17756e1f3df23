"""The `stratgate` command line: one root, one sub-command group per concern."""

from __future__ import annotations

import os
import sys

import typer

from cli import api_cmd, evidence, history, live, policy, promote, registry, risk, tokens, up

app = typer.Typer(
    name="stratgate",
    help="Risk-governed promotion and demotion of trading strategies.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(policy.app, name="policy")
app.add_typer(registry.strategy_app, name="strategy")
app.add_typer(registry.records_app, name="records")
app.add_typer(registry.users_app, name="users")
app.add_typer(registry.gate_app, name="gate")
app.add_typer(evidence.app, name="evidence")
app.add_typer(promote.app, name="promote")
app.add_typer(live.app, name="live")
app.add_typer(tokens.app, name="tokens")
app.command("approve")(promote.approve)
app.command("reject")(promote.reject)
app.command("unfreeze")(promote.unfreeze)
app.command("risk-event")(risk.risk_event)
app.command("history")(history.history)
app.command("up")(up.up)
app.command("api")(api_cmd.api)


def main() -> None:
    """Run the CLI, then end the process deliberately.

    A process that used a Temporal client can abort at interpreter exit (sdk-python #300,
    exit 134 after the work was done); flushing and leaving with os._exit keeps the real status.
    """
    code = 0
    try:
        # Outside standalone mode click returns an Exit's code instead of raising it.
        result = app(standalone_mode=False)
        code = result if isinstance(result, int) else 0
    except typer.Exit as exc:
        code = exc.exit_code
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    except Exception as exc:
        import click

        if isinstance(exc, click.ClickException):
            exc.show()
            code = exc.exit_code
        elif isinstance(exc, click.exceptions.Abort):
            code = 130
        else:
            raise
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
