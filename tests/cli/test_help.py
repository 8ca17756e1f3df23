"""Every option and argument of every command has help text, and every stage, role or kind
is accepted in any case: walked over the whole command tree, whatever commands exist."""

from __future__ import annotations

import enum
import typing
from collections.abc import Iterator
from typing import Any

import typer

from cli.main import app


def commands(group: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[str, Any]]:
    if hasattr(group, "list_commands"):
        for name in group.list_commands(None):
            yield from commands(group.get_command(None, name), (*path, name))
    else:
        yield " ".join(path), group


def every_parameter() -> list[tuple[str, Any]]:
    root = typer.main.get_command(app)
    return [
        (name, p) for name, command in commands(root) for p in command.params if p.name != "help"
    ]


def enum_typed(param: Any) -> bool:
    annotation = getattr(getattr(param, "type_descriptor", None), "annotation", None)
    args = typing.get_args(annotation) or (annotation,)
    inner = [typing.get_args(a) or (a,) for a in args]  # list[Role]
    return any(isinstance(t, type) and issubclass(t, enum.Enum) for a in inner for t in a)


def test_the_walk_sees_the_whole_tree() -> None:
    names = {name for name, _ in every_parameter()}
    for expected in ("approve", "promote request", "risk-event", "gate check", "up"):
        assert expected in names, sorted(names)


def test_every_option_and_argument_has_help() -> None:
    missing = [f"{name} {'/'.join(p.opts)}" for name, p in every_parameter() if not p.help]
    assert not missing, missing


def test_every_enum_option_is_case_insensitive() -> None:
    sensitive = [
        f"{name} {'/'.join(p.opts)}"
        for name, p in every_parameter()
        if enum_typed(p) and p.type_descriptor.parameter_info.case_sensitive
    ]
    assert not sensitive, sensitive
    assert any(enum_typed(p) for _, p in every_parameter())  # the check has something to check


def test_one_identity_flag_for_human_actions() -> None:
    """People act `--as` someone; `--by` survives only hidden (deprecated)."""
    for name, p in every_parameter():
        if "--by" in p.opts:
            assert p.hidden, name
        assert "--actor" not in p.opts and "--who" not in p.opts, name
    acting = {name for name, p in every_parameter() if "--as" in p.opts}
    for expected in ("approve", "reject", "promote request", "promote cancel", "unfreeze"):
        assert expected in acting, sorted(acting)
    assert {"live renew", "policy set"} <= acting
