"""`stratgate policy`: show, validate, propose and approve versioned tenant policies.

`policy propose` accepts exactly what `policy show --json` prints (JSON or YAML), so an operator
can export a policy, edit it, give it a new `policy_version` and propose it. Proposing and
deciding go through the API as the person whose token is presented (as promotion approvals do);
`policy set` only publishes a tenant's FIRST policy, as the local operator.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
import yaml

from app import policy as uc
from app.policy import Published, show_policy
from cli import api_client
from cli.common import ActAs, Comment, Json, OldBy, Reason, Tenant, acting, emit_json, fail, run
from cli.session import local_operator, local_ports
from cli.what_if import what_if
from governance.policy import PolicyInvalid, PromotionPolicy, default_policy, parse_policy
from governance.policy_chain import PolicyChainVerification
from governance.policy_change import PolicyProposal, ProposalStatus

app = typer.Typer(help="Tenant promotion policies (versioned).", no_args_is_help=True)
PolicyFile = Annotated[Path, typer.Argument(help="Policy as JSON or YAML.")]
ProposalId = Annotated[str, typer.Argument(help="The proposal id (`policy proposals`).")]
Api = Annotated[
    str | None,
    typer.Option(
        "--api",
        envvar="STRATGATE_API_URL",
        help="The API to act through (default: the running `stratgate up`'s).",
    ),
]
AsUser = Annotated[
    str | None,
    typer.Option(
        "--as",
        help="On the demo stack: act with this demo person's token (else STRATGATE_TOKEN).",
    ),
]


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
    as_user: ActAs = None,
    by: OldBy = None,
    as_json: Json = False,
) -> None:
    """Publish a tenant's FIRST policy at once (bootstrap, recorded as the local operator).

    A tenant that has a policy changes it by `policy propose` (a changed policy needs a new
    `policy_version`); `set` refuses (policy_approval_required). Setting the current document
    again changes nothing."""
    publisher = acting(as_user, by) or "cli"
    try:
        parsed = parse_policy(read_policy_file(file))
    except PolicyInvalid as exc:
        fail(exc.message)

    async def go() -> Published:
        async with local_ports(temporal=False) as ports:
            return await uc.bootstrap_policy(
                ports, local_operator(tenant, publisher), tenant_id=tenant, policy=parsed
            )

    published = run(go())
    if as_json:
        emit_json(
            {
                "tenant": tenant,
                "policy_version": published.policy_version,
                "policy_hash": published.policy_hash,
                "changed": published.changed,
            }
        )
        return
    note = "" if published.changed else " (unchanged)"
    typer.echo(f"tenant {tenant}: policy {published.policy_version} is current{note}")


def _through_api(
    api: str | None, as_user: str | None, method: str, path: str, body: dict[str, Any] | None
) -> Any:
    # Loaded only here: finding the running stack imports Temporal, which `policy show` and
    # the other store-side commands must not load.
    from cli.identity import api_session

    async def go() -> Any:
        session = api_session(api, as_user)
        return api_client.call(session.base_url, method, path, body, token=session.token)

    return run(go())


def render_proposal(p: PolicyProposal) -> None:
    against = p.base_policy_version or "no policy (compared with the spec defaults)"
    count = f"{len(p.approvals)}/{p.required_approvals} approvals"
    typer.echo(f"proposal {p.proposal_id}: {p.policy.policy_version} against {against}")
    typer.echo(f"  status: {p.status.value} ({count}); proposed by {p.proposed_by}")
    typer.echo(f"  reason: {p.reason}")
    if p.diff.live_weakenings:
        typer.echo(
            f"  weakens LIVE controls: needs {p.required_approvals} distinct policy approvers"
        )
    for line in p.diff.lines():
        typer.echo(f"    {line}")
    for a in p.approvals:
        note = f": {a.comment}" if a.comment else ""
        typer.echo(f"  approved by {a.approved_by} at {a.approved_at.isoformat()[:19]}{note}")
    if p.status == ProposalStatus.PUBLISHED:
        typer.echo(f"  published as {p.policy.policy_version} ({p.published_policy_hash})")
    elif p.status != ProposalStatus.PENDING:
        why = f": {p.close_reason}" if p.close_reason else ""
        typer.echo(f"  {p.status.value} by {p.closed_by}{why}")


def _emit(data: Any, as_json: bool) -> None:
    if as_json:
        emit_json(data)
    else:
        render_proposal(PolicyProposal.model_validate(data["proposal"]))


@app.command("propose")
def propose(
    file: PolicyFile,
    tenant: Tenant,
    reason: Reason,
    as_user: AsUser = None,
    as_json: Json = False,
    api: Api = None,
) -> None:
    """Propose a new policy version: shown as a diff, published once approved by policy
    approvers who are not you (two when it weakens LIVE controls)."""
    try:
        parse_policy(read_policy_file(file))  # refused here, naming the field, before the API
    except PolicyInvalid as exc:
        fail(exc.message)
    body = {"policy": read_policy_file(file), "reason": reason}
    made = _through_api(api, as_user, "POST", f"/v1/tenants/{tenant}/policy/proposals", body)
    _emit(made, as_json)


def _decide(
    action: str,
    tenant: str,
    proposal_id: str,
    comment: str,
    as_user: str | None,
    as_json: bool,
    api: str | None,
) -> None:
    path = f"/v1/tenants/{tenant}/policy/proposals/{proposal_id}/{action}"
    _emit(_through_api(api, as_user, "POST", path, {"comment": comment}), as_json)


@app.command("approve-proposal")
def approve_proposal(
    proposal_id: ProposalId,
    tenant: Tenant,
    comment: Comment = "",
    as_user: AsUser = None,
    as_json: Json = False,
    api: Api = None,
) -> None:
    """Approve a proposal as a policy approver (not its proposer); the last approval needed
    publishes the version."""
    _decide("approve", tenant, proposal_id, comment, as_user, as_json, api)


@app.command("reject-proposal")
def reject_proposal(
    proposal_id: ProposalId,
    tenant: Tenant,
    comment: Comment = "",
    as_user: AsUser = None,
    as_json: Json = False,
    api: Api = None,
) -> None:
    """Reject a proposal as a policy approver: it is closed, nothing is published."""
    _decide("reject", tenant, proposal_id, comment, as_user, as_json, api)


@app.command("withdraw-proposal")
def withdraw_proposal(
    proposal_id: ProposalId,
    tenant: Tenant,
    comment: Comment = "",
    as_user: AsUser = None,
    as_json: Json = False,
    api: Api = None,
) -> None:
    """Withdraw your own proposal: it is closed, nothing is published."""
    _decide("withdraw", tenant, proposal_id, comment, as_user, as_json, api)


@app.command("proposals")
def proposals(tenant: Tenant, as_json: Json = False) -> None:
    """Every policy proposal of a tenant, oldest first."""

    async def go() -> list[PolicyProposal]:
        async with local_ports(temporal=False) as ports:
            return await uc.list_proposals(ports, local_operator(tenant), tenant_id=tenant)

    found = run(go())
    if as_json:
        emit_json([p.model_dump(mode="json") for p in found])
        return
    if not found:
        typer.echo(f"{tenant}: no policy proposals")
    for p in found:
        typer.echo(
            f"{p.proposal_id}  {p.policy.policy_version:20} {p.status.value:10} "
            f"{len(p.approvals)}/{p.required_approvals}  {p.proposed_by}  "
            f"{len(p.diff.changes)} changes" + (" (weakens LIVE)" if p.diff.live_weakenings else "")
        )


@app.command("show-proposal")
def show_proposal(proposal_id: ProposalId, tenant: Tenant, as_json: Json = False) -> None:
    """One proposal: its diff against the version it was proposed on, and its approvals."""

    async def go() -> PolicyProposal:
        async with local_ports(temporal=False) as ports:
            return await uc.show_proposal(
                ports, local_operator(tenant), tenant_id=tenant, proposal_id=proposal_id
            )

    found = run(go())
    if as_json:
        emit_json(found.model_dump(mode="json"))
    else:
        render_proposal(found)


@app.command("history")
def history(tenant: Tenant, as_json: Json = False) -> None:
    """Every version a tenant has published, oldest first, as a hash chain, and its check
    (exits 1 naming the first broken version)."""

    async def go() -> tuple[list[PromotionPolicy], PolicyChainVerification]:
        async with local_ports(temporal=False) as ports:
            who = local_operator(tenant)
            checked = await uc.verify_policy(ports, who, tenant_id=tenant)
            if not checked.ok and checked.first_broken_version is None:
                return [], checked  # a stored version no longer parses: nothing to list
            return await uc.policy_history(ports, who, tenant_id=tenant), checked

    versions, checked = run(go())
    if as_json:
        emit_json(
            {
                "versions": [v.model_dump(mode="json") for v in versions],
                "verification": checked.model_dump(),
            }
        )
    else:
        for v in versions:
            link = (v.prev_policy_hash or "-")[:12]
            typer.echo(
                f"{v.policy_version:24} {(v.policy_hash or 'unchained')[:12]:12} <- {link:12} "
                f"{v.updated_at or ''}  {v.updated_by or ''}"
                + (f"  proposal {v.proposal_id}" if v.proposal_id else "")
            )
        state = (
            "ok" if checked.ok else (f"BROKEN at {checked.first_broken_version}: {checked.reason}")
        )
        typer.echo(f"chain: {checked.checked} versions, {state}")
    if not checked.ok:
        typer.echo(f"error: policy chain broken: {checked.reason}", err=True)
        raise typer.Exit(1)


app.command("what-if")(what_if)
