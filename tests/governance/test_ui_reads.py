"""The pure reads behind the request page: window counters and their expected completion,
why two reports' hashes differ, a policy's field diff, and who an audit event names."""

from __future__ import annotations

from datetime import UTC, date, datetime

from governance.audit_actor import audit_actor
from governance.policy import default_policy
from governance.policy_diff import diff_policies
from governance.progress import window_counters
from governance.records import AuditEvent
from governance.report import (
    Comparator,
    Criterion,
    CriterionStatus,
    EligibilityReport,
    Verdict,
    WindowProgress,
)
from governance.report_diff import report_diff
from governance.stages import LifecycleStage, Transition

# Wednesday 2026-12-02 after the close; XNYS is shut on Friday 2026-12-25.
END = datetime(2026, 12, 2, 22, 0, tzinfo=UTC)


def window(**kw: object) -> WindowProgress:
    data: dict[str, object] = {
        "start": datetime(2026, 11, 1, tzinfo=UTC),
        "end": END,
        "sessions": 8,
        "sessions_required": 10,
    }
    data.update(kw)
    return WindowProgress.model_validate(data)


def test_only_required_counters_with_sessions_left_and_the_calendar_date() -> None:
    counters = window_counters(window(fills=20, fills_required=50), "XNYS")
    assert [c.name for c in counters] == ["sessions", "fills"]
    sessions, fills = counters
    assert (sessions.have, sessions.need, sessions.sessions_left) == (8, 10, 2)
    assert sessions.expected_on == date(2026, 12, 4)  # Thursday, Friday
    # 20 fills in 8 sessions: 2.5 a session, 30 missing -> 12 sessions, over Christmas.
    assert fills.sessions_left == 12
    assert fills.expected_on == date(2026, 12, 18)
    late = window_counters(window(fills=20, fills_required=100), "XNYS")[1]
    assert late.sessions_left == 32 and late.expected_on == date(2027, 1, 20)  # 25 Dec, 1 Jan shut
    assert fills.fraction == 0.4 and not fills.done


def test_a_met_counter_is_due_now_and_one_with_nothing_yet_has_no_estimate() -> None:
    met, none_yet = window_counters(window(sessions=12, orders=0, orders_required=100), "XNYS")
    assert met.done and met.sessions_left == 0 and met.expected_on == END.date()
    assert none_yet.name == "orders" and none_yet.sessions_left is None
    assert none_yet.expected_on is None
    assert window_counters(window(sessions_required=0), "XNYS") == []


def test_low_turnover_counts_signals_instead_of_fills() -> None:
    w = window(fills=3, fills_required=50, signals=400, signals_if_low_turnover=1000)
    (fills,) = [c for c in window_counters(w, "XNYS") if c.name != "sessions"]
    assert fills.name == "fills" and fills.note == "or 1000 signals if turnover is low"
    low = window_counters(w.model_copy(update={"low_turnover": True}), "XNYS")[1]
    assert (low.name, low.have, low.need) == ("signals", 400, 1000)
    assert low.note == "low turnover: 1000 signals stand in for 50 fills"


def report(
    end: datetime, hit_rate: float, verdict: Verdict = Verdict.ELIGIBLE
) -> EligibilityReport:
    crit = [
        Criterion(
            name=name,
            comparator=Comparator.AT_LEAST,
            threshold=0.5,
            value=value,
            unit="fraction",
            status=CriterionStatus.PASS if value >= 0.5 else CriterionStatus.FAIL,
            evidence="signals",
        )
        for name, value in (("coverage", 0.95), ("hit_rate", hit_rate))
    ]
    return EligibilityReport(
        verdict=verdict,
        target_stage=LifecycleStage.SHADOW,
        transition=Transition.OBSERVE_TO_SHADOW,
        policy_version="p1",
        window=window(end=end),
        criteria=crit,
    ).hashed()


def test_a_report_diff_names_the_moved_window_end_and_each_changed_value() -> None:
    a = report(END, 0.55)
    later = report(datetime(2026, 12, 3, 15, 0, tzinfo=UTC), 0.55)
    moved = report_diff(a, later)
    assert not moved.same and moved.criteria == []
    assert moved.explain() == (
        "window end moved 2026-12-02 22:00 -> 2026-12-03 15:00 UTC; no criterion value changed"
    )
    failing = report_diff(a, report(END, 0.45, Verdict.INELIGIBLE))
    assert failing.window_end is None
    (change,) = failing.criteria
    assert (change.name, change.before, change.after) == ("hit_rate", 0.55, 0.45)
    assert (change.status_before, change.status_after) == ("pass", "fail")
    assert failing.explain() == (
        "verdict ELIGIBLE -> INELIGIBLE; criterion values changed: hit_rate"
    )
    assert report_diff(a, a).same and report_diff(a, a).explain() == "same report"


def test_a_policy_diff_lists_changed_fields_only() -> None:
    old = default_policy("p1")
    data = old.model_dump(mode="json")
    data["policy_version"] = "p2"
    data["signal_quality_thresholds"]["observe_to_shadow"]["hit_rate_min"] = 0.55
    data["updated_by"] = "root"
    new = type(old).model_validate(data)
    changes = {c.path: (c.old, c.new) for c in diff_policies(old, new, old).changes}
    # Who published it is metadata; the version's name is the diff's own heading.
    assert changes == {"signal_quality_thresholds.observe_to_shadow.hit_rate_min": (0.52, 0.55)}
    assert diff_policies(new, new, old).changes == []
    # A first version is compared with the defaults it is given.
    assert diff_policies(None, new, old).changes == diff_policies(old, new, old).changes


def test_the_actor_of_an_audit_event() -> None:
    def event(event_type: str, **details: object) -> AuditEvent:
        return AuditEvent(
            event_id="e", event_type=event_type, ts=END, tenant_id="t", details=details
        )

    assert audit_actor(event("strategy.promotion_approved", by="bob")) == "bob"
    assert audit_actor(event("risk.event", source="risk-engine")) == "risk-engine"
    commit = event("strategy.promoted", promotion_record_id="r1")
    assert audit_actor(commit, {"r1": "quant"}) == "quant"
    requested = event("strategy.promotion_requested", request_id="q1")
    assert audit_actor(requested, {}, {"q1": "quant"}) == "quant"
    assert audit_actor(requested) == "—"
    assert audit_actor(event("strategy.registered")) == "registry"
