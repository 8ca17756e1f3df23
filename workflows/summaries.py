"""What the Temporal Web UI shows on each row of a request's history, in the spec's words.

Activities, timers and the workflow itself carry a one-line summary ("wait for stability window:
3 of 5 sessions", "check approver directory: alice", "commit promotion SHADOW -> PAPER"), so the
history reads as the story without expanding a row. Built from the workflow's own state only
(never the clock or anything outside), so they are deterministic: a replay builds the same text.
"""

from __future__ import annotations

from datetime import timedelta

from governance.promotion import Phase, PromotionInput
from governance.report import EligibilityReport
from governance.roles import Role
from governance.stage_change import StageChange
from governance.stages import Decision, LifecycleStage

# The Web UI shows one line; Temporal keeps the whole payload, so keep it short.
SUMMARY_MAX = 200


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= SUMMARY_MAX else text[: SUMMARY_MAX - 1] + "…"


def _transition(request: PromotionInput, from_stage: LifecycleStage | None) -> str:
    start = from_stage.value if from_stage else "?"
    if request.decision == Decision.UNFREEZE:
        return f"unfreeze at {start}"
    return f"{request.decision.value} {start} -> {request.to_stage.value}"


def request_summary(request: PromotionInput, from_stage: LifecycleStage | None) -> str:
    """The workflow's own (static) summary, given when it starts."""
    return _short(
        f"{_transition(request, from_stage)} for {request.uid}/{request.strategy_id} "
        f"({request.tenant_id}), requested by {request.requested_by}"
    )


def request_details(request: PromotionInput) -> str:
    """The workflow's static details (markdown in the Web UI): who, why, which request."""
    lines = [
        f"**request** `{request.request_id}`",
        f"**requested by** {request.requested_by} at {request.requested_at:%Y-%m-%d %H:%M}Z",
    ]
    if request.reason:
        lines.append(f"**reason** {request.reason}")
    return "\n\n".join(lines)


def phase_details(phase: Phase, reason: str | None) -> str:
    """The workflow's current details: its phase and why."""
    return _short(f"phase {phase.value}" + (f": {reason}" if reason else ""))


def load_context(request: PromotionInput) -> str:
    return _short(f"load strategy, policy and breaker: {request.uid}/{request.strategy_id}")


def evaluate(request: PromotionInput, from_stage: LifecycleStage | None) -> str:
    return _short(f"evaluate evidence for {_transition(request, from_stage)}")


def window_wait(report: EligibilityReport | None, wait: timedelta) -> str:
    """The timer between evaluations: how far the stability window has come."""
    again = f"re-evaluate in {_duration(wait)}"
    if report is None:
        return _short(f"wait for stability window: not measured yet; {again}")
    w = report.window
    counters = [f"{w.sessions} of {w.sessions_required} sessions"]
    if w.evaluations_required:
        counters.append(f"{w.evaluations} of {w.evaluations_required} evaluations")
    if w.fills_required:
        counters.append(f"{w.fills} of {w.fills_required} fills")
    if w.orders_required:
        counters.append(f"{w.orders} of {w.orders_required} orders")
    return _short(f"wait for stability window: {', '.join(counters)}; {again}")


def approvals_wait(missing: list[Role], wait: timedelta) -> str:
    who = ", ".join(r.value for r in missing) or "nothing (complete)"
    return _short(f"await approvals: missing {who}; wake in {_duration(wait)} at the latest")


def check_approver(user: str, role: Role) -> str:
    return _short(f"check approver directory: {user} as {role.value}")


def roles_of(user: str) -> str:
    return _short(f"check approver directory: {user}")


def redeem(user: str) -> str:
    return _short(f"redeem LIVE confirmation token of {user}")


def commit(change: StageChange) -> str:
    return _short(
        f"commit {change.decision.value} {change.expected_from_stage.value} -> "
        f"{change.to_stage.value}"
    )


def save_request(phase: Phase) -> str:
    return _short(f"save request: {phase.value}")


def audit(event_type: str) -> str:
    return _short(f"audit {event_type}")


def _duration(wait: timedelta) -> str:
    seconds = int(wait.total_seconds())
    if seconds >= 86_400 and seconds % 3_600 == 0:
        return f"{seconds // 86_400}d{(seconds % 86_400) // 3_600}h".removesuffix("0h")
    if seconds >= 3_600:
        return f"{seconds // 3_600}h{(seconds % 3_600) // 60:02d}m".removesuffix("00m")
    if seconds >= 60:
        return f"{seconds // 60}m{seconds % 60:02d}s".removesuffix("00s")
    return f"{seconds}s"


# -- the demotion listener ----------------------------------------------------------------------
def demotion_summary(tenant_id: str, uid: str, strategy_id: str) -> str:
    return _short(f"risk events and demotions of {uid}/{strategy_id} ({tenant_id})")


def store_risk_events(count: int) -> str:
    return _short(f"store {count} risk event{'s' if count != 1 else ''} signalled whole")


def list_backlog() -> str:
    return "list risk events stored but not applied yet"


def apply_risk_events(kinds: list[str]) -> str:
    counted: dict[str, int] = {}
    for kind in kinds:
        counted[kind] = counted.get(kind, 0) + 1
    what = ", ".join(f"{n} {kind}" if n > 1 else kind for kind, n in counted.items())
    return _short(f"apply risk events: {what}")


def notify_demotion(action: str, target: LifecycleStage | None, record_id: str | None) -> str:
    to = f" to {target.value}" if target else ""
    return _short(f"notify: {action}{to} (record {record_id})")
