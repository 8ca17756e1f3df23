"""`stratgate policy`: show, validate and publish versioned tenant policies."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
import yaml

from cli.workflow_io import emit_json, fail, run
from governance.errors import GovernanceError
from governance.policy import PromotionPolicy, default_policy, parse_policy
from settings import Settings
from store.factory import open_store

app = typer.Typer(help="Tenant promotion policies (versioned).", no_args_is_help=True)


def read_policy_file(path: Path) -> dict[str, Any]:
    """A policy document as JSON or YAML; exactly what `policy show --json` prints."""
    try:
        text = path.read_text()
    except OSError as exc:
        fail(f"FILE: cannot read {path}: {exc.strerror}")
    try:
        data = json.loads(text) if path.suffix.lower() == ".json" else yaml.safe_load(text)
    except (json.JSONDecodeError, yaml.YAMLError) as exc:
        fail(f"FILE: {path} is not valid JSON/YAML: {exc}")
    if not isinstance(data, dict):
        fail(f"FILE: {path} must hold a mapping of policy fields")
    return data


def _print(policy: PromotionPolicy, as_json: bool) -> None:
    data = policy.model_dump(mode="json")
    if as_json:
        emit_json(data)
    else:
        typer.echo(yaml.safe_dump(data, sort_keys=False))


@app.command("show")
def show(
    tenant: Annotated[str | None, typer.Option("--tenant")] = None,
    defaults: Annotated[bool, typer.Option("--defaults", help="The global spec defaults.")] = False,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Print a tenant's current policy, or the global defaults."""
    if defaults or tenant is None:
        if not defaults:
            fail("--tenant: name a tenant, or pass --defaults")
        _print(default_policy(), as_json)
        return

    async def go() -> PromotionPolicy | None:
        store = open_store(Settings.from_env())
        try:
            return await store.get_policy(tenant)
        finally:
            await store.close()

    policy = run(go())
    if policy is None:
        fail(f"tenant: {tenant} has no promotion policy (promotions are refused: fail-closed)")
    _print(policy, as_json)


@app.command("validate")
def validate(file: Annotated[Path, typer.Argument(help="Policy as JSON or YAML.")]) -> None:
    """Check a policy file; names each bad field and why."""
    policy = _parse(file)
    typer.echo(f"ok: policy_version {policy.policy_version}")


def _parse(file: Path) -> PromotionPolicy:
    data = read_policy_file(file)
    try:
        return parse_policy(data)
    except GovernanceError as exc:
        fail(exc.message)


@app.command("set")
def set_policy(
    file: Annotated[Path, typer.Argument(help="Policy as JSON or YAML.")],
    tenant: Annotated[str, typer.Option("--tenant")],
    by: Annotated[str, typer.Option("--by", help="Who publishes it.")] = "cli",
) -> None:
    """Publish a new policy version for a tenant (a version is never rewritten)."""
    policy = _parse(file).model_copy(update={"updated_at": datetime.now(UTC), "updated_by": by})

    async def go() -> bool:
        store = open_store(Settings.from_env())
        try:
            current = await store.get_policy(tenant)
            if current is not None and current.policy_version == policy.policy_version:
                if _content(current) == _content(policy):
                    return False  # the same document again: nothing to publish
                fail(
                    f"policy_version: {policy.policy_version} is already published for {tenant} "
                    "with other content; publish changes under a new version"
                )
            await store.put_policy(tenant, policy)
            return True
        finally:
            await store.close()

    changed = run(go())
    note = "" if changed else " (unchanged)"
    typer.echo(f"tenant {tenant}: policy {policy.policy_version} is current{note}")


def _content(policy: PromotionPolicy) -> dict[str, Any]:
    return policy.model_dump(mode="json", exclude={"updated_at", "updated_by"})


@app.command("history")
def history(
    tenant: Annotated[str, typer.Option("--tenant")],
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Every version a tenant has published, oldest first."""

    async def go() -> list[PromotionPolicy]:
        store = open_store(Settings.from_env())
        try:
            return await store.list_policy_versions(tenant)
        finally:
            await store.close()

    versions = run(go())
    if as_json:
        emit_json([v.model_dump(mode="json") for v in versions])
        return
    for v in versions:
        typer.echo(f"{v.policy_version}  {v.updated_at or ''}  {v.updated_by or ''}")
