"""The tenant policy and its governed changes (thin: `app.policy`)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from api.deps import Caller, Deps
from app import policy as uc
from governance.bounds import COMMENT_MAX, REASON_MAX
from governance.policy import PromotionPolicy, parse_policy
from governance.policy_chain import PolicyChainVerification
from governance.policy_change import PolicyProposal, ProposalAction

router = APIRouter(prefix="/v1/tenants/{tenant}/policy", tags=["policy"])
ONE = "/proposals/{proposal_id}"


class ProposalIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # The document exactly as `stratgate policy show --json` prints it; validated by
    # governance's parse_policy, which names each bad field.
    policy: dict[str, Any]
    reason: str = Field(min_length=3, max_length=REASON_MAX)


class DecisionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    comment: str = Field(default="", max_length=COMMENT_MAX)


class ProposalView(BaseModel):
    proposal: PolicyProposal
    missing_approvals: int
    diff_lines: list[str]


def view(proposal: PolicyProposal) -> ProposalView:
    return ProposalView(
        proposal=proposal,
        missing_approvals=proposal.missing_approvals,
        diff_lines=proposal.diff.lines(),
    )


@router.get("", response_model=PromotionPolicy | None)
async def current(tenant: str, d: Deps, who: Caller) -> PromotionPolicy | None:
    return await uc.show_policy(d.ports(), who, tenant_id=tenant)


@router.get("/versions", response_model=list[PromotionPolicy])
async def versions(tenant: str, d: Deps, who: Caller) -> list[PromotionPolicy]:
    return await uc.policy_history(d.ports(), who, tenant_id=tenant)


@router.get("/verify", response_model=PolicyChainVerification)
async def verify(tenant: str, d: Deps, who: Caller) -> PolicyChainVerification:
    return await uc.verify_policy(d.ports(), who, tenant_id=tenant)


@router.post("/proposals", status_code=201, response_model=ProposalView)
async def propose(tenant: str, body: ProposalIn, d: Deps, who: Caller) -> ProposalView:
    proposal = await uc.propose_policy(
        d.ports(), who, tenant_id=tenant, policy=parse_policy(body.policy), reason=body.reason
    )
    return view(proposal)


@router.get("/proposals", response_model=list[ProposalView])
async def proposals(tenant: str, d: Deps, who: Caller) -> list[ProposalView]:
    return [view(p) for p in await uc.list_proposals(d.ports(), who, tenant_id=tenant)]


@router.get(ONE, response_model=ProposalView)
async def one(tenant: str, proposal_id: str, d: Deps, who: Caller) -> ProposalView:
    return view(await uc.show_proposal(d.ports(), who, tenant_id=tenant, proposal_id=proposal_id))


async def _decide(
    tenant: str, proposal_id: str, action: ProposalAction, body: DecisionIn, d: Deps, who: Caller
) -> ProposalView:
    proposal = await uc.decide_proposal(
        d.ports(),
        who,
        tenant_id=tenant,
        proposal_id=proposal_id,
        action=action,
        comment=body.comment,
    )
    return view(proposal)


@router.post(ONE + "/approve", response_model=ProposalView)
async def approve(
    tenant: str, proposal_id: str, body: DecisionIn, d: Deps, who: Caller
) -> ProposalView:
    return await _decide(tenant, proposal_id, ProposalAction.APPROVE, body, d, who)


@router.post(ONE + "/reject", response_model=ProposalView)
async def reject(
    tenant: str, proposal_id: str, body: DecisionIn, d: Deps, who: Caller
) -> ProposalView:
    return await _decide(tenant, proposal_id, ProposalAction.REJECT, body, d, who)


@router.post(ONE + "/withdraw", response_model=ProposalView)
async def withdraw(
    tenant: str, proposal_id: str, body: DecisionIn, d: Deps, who: Caller
) -> ProposalView:
    return await _decide(tenant, proposal_id, ProposalAction.WITHDRAW, body, d, who)
