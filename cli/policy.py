"""`stratgate policy`: show, validate, publish and list versioned tenant policies.

`policy set` accepts exactly what `policy show --json` prints (JSON or YAML), so an operator can
export a policy, edit it, give it a new `policy_version` and publish it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
import yaml

from app.policy import policy_history, publish_policy, show_policy
from cli.common import Json, emit_json, fail, run
from cli.session import local_operator, local_ports
from cli.what_if import what_if
from governance.policy import PolicyInvalid, PromotionPolicy, default_policy, parse_policy

app = typer.Typer(help="Tenant promotion policies (versioned).", no_args_is_help=True)
PolicyFile = Annotated[Path, typer.Argument(help="Policy as JSON or YAML.")]


def read_policy_file(path: Path) -> dict[str, Any]:
    """A policy document as JSON or YAML; exactly what `policy show --json` prints."""
    try:
        text = path.read_text()
    except OSError as exc:
        fail(f"FILE: cannot read {path}: {exc.strerror}")
    try:
        # YAML 1.2 reads JSON too, but json names the line and column of a syntax error.
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
    tenant: Annotated[str | None, typer.Option("--tenant", help="Tenant id.")] = None,
    defaults: Annotated[bool, typer.Option("--defaults", help="The global spec defaults.")] = False,
    as_json: Json = False,
) -> None:
    """Print a tenant's current policy, or the global defaults."""
    if defaults:
        _print(default_policy(), as_json)
        return
    if tenant is None:
        fail("--tenant: name a tenant, or pass --defaults")

    async def go() -> PromotionPolicy | None:
        async with local_ports(temporal=False) as ports:
            return await show_policy(ports, local_operator(tenant), tenant_id=tenant)

    policy = run(go())
    if policy is None:
        fail(f"tenant: {tenant} has no promotion policy (promotions are refused: fail-closed)")
    _print(policy, as_json)


@app.command("validate")
def validate(file: PolicyFile, as_json: Json = False) -> None:
    """Check a policy file; names each bad field and why (exit code 2 when refused)."""
    data = read_policy_file(file)
    try:
        policy = parse_policy(data)
    except PolicyInvalid as exc:
        if as_json:
            emit_json({"ok": False, "errors": [{"field": f, "reason": r} for f, r in exc.errors]})
            raise typer.Exit(2) from None
        fail(exc.message)
    if as_json:
        emit_json({"ok": True, "policy_version": policy.policy_version, "errors": []})
    else:
        typer.echo(f"ok: policy_version {policy.policy_version}")


@app.command("set")
def set_policy(
    file: PolicyFile,
    tenant: Annotated[str, typer.Option("--tenant", help="Tenant id.")],
    by: Annotated[str, typer.Option("--by", help="Who publishes it.")] = "cli",
    as_json: Json = False,
) -> None:
    """Publish a new policy version for a tenant and make it current (never rewrites one)."""
    try:
        parsed = parse_policy(read_policy_file(file))
    except PolicyInvalid as exc:
        fail(exc.message)

    async def go() -> bool:
        async with local_ports(temporal=False) as ports:
            published = await publish_policy(
                ports, local_operator(tenant, by), tenant_id=tenant, policy=parsed
            )
        return published.changed

    changed = run(go())
    if as_json:
        emit_json({"tenant": tenant, "policy_version": parsed.policy_version, "changed": changed})
        return
    note = "" if changed else " (unchanged)"
    typer.echo(f"tenant {tenant}: policy {parsed.policy_version} is current{note}")


@app.command("history")
def history(
    tenant: Annotated[str, typer.Option("--tenant", help="Tenant id.")],
    as_json: Json = False,
) -> None:
    """Every version a tenant has published, oldest first."""

    async def go() -> list[PromotionPolicy]:
        async with local_ports(temporal=False) as ports:
            return await policy_history(ports, local_operator(tenant), tenant_id=tenant)

    versions = run(go())
    if as_json:
        emit_json([v.model_dump(mode="json") for v in versions])
        return
    for v in versions:
        typer.echo(f"{v.policy_version}  {v.updated_at or ''}  {v.updated_by or ''}")


app.command("what-if")(what_if)
