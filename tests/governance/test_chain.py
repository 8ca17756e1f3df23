"""Canonical hashes, the record hash chain and its verifier, and the stage-change rules that
build it (pure functions; the store's own tests run the same rules through SQLite)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from governance.chain import verify_chain
from governance.errors import PreconditionFailed
from governance.hashing import canonical_hash, canonical_json
from governance.limits import LimitEnvelopes
from governance.records import (
    ApprovedBy,
    EvidenceRef,
    MetricsSnapshot,
    PromotionRecord,
    RuntimeFingerprint,
    StrategyDoc,
)
from governance.roles import Role
from governance.stage_change import (
    StageChange,
    apply_to_strategy,
    build_record,
    check_precondition,
    record_hash,
    same_commit,
)
from governance.stages import ORDER, Decision
from governance.stages import LifecycleStage as S

NOW = datetime(2026, 11, 25, 15, tzinfo=UTC)

json_values = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-(10**6), 10**6),
        st.text(max_size=8),
        st.floats(allow_nan=False, allow_infinity=False),
    ),
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(st.text(max_size=6), children, max_size=4)
    ),
    max_leaves=20,
)
documents = st.dictionaries(st.text(max_size=6), json_values, min_size=1, max_size=6)


def shuffled(value: Any, rnd: random.Random) -> Any:
    """The same document with the keys of every map, at every depth, in another order."""
    if isinstance(value, dict):
        items = list(value.items())
        rnd.shuffle(items)
        return {k: shuffled(v, rnd) for k, v in items}
    if isinstance(value, list):
        return [shuffled(v, rnd) for v in value]
    return value


@given(documents, st.randoms())
def test_hashes_are_stable_under_key_order_at_every_depth(doc: dict[str, Any], rnd: Any) -> None:
    again = shuffled(doc, rnd)
    assert canonical_json(again) == canonical_json(doc)
    assert canonical_hash(again) == canonical_hash(doc)


def leaves(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    if isinstance(value, dict) and value:
        return [p for k, v in value.items() for p in leaves(v, (*path, k))]
    if isinstance(value, list) and value:
        return [p for i, v in enumerate(value) for p in leaves(v, (*path, i))]
    return [path]


def replaced(value: Any, path: tuple[Any, ...], new: Any) -> Any:
    if not path:
        return new
    head, rest = path[0], path[1:]
    if isinstance(value, dict):
        return {**value, head: replaced(value[head], rest, new)}
    return [replaced(v, rest, new) if i == head else v for i, v in enumerate(value)]


@given(documents, st.data())
def test_hashes_change_with_any_leaf(doc: dict[str, Any], data: st.DataObject) -> None:
    path = data.draw(st.sampled_from(leaves(doc)))
    old = doc
    for step in path:
        old = old[step]
    new = data.draw(json_values.filter(lambda v: canonical_json(v) != canonical_json(old)))
    assert canonical_hash(replaced(doc, path, new)) != canonical_hash(doc)


# Two or more values for every field of a record: a record_hash must tell each apart.
FIELD_VALUES: dict[str, list[Any]] = {
    "record_id": ["r1", "r2"],
    "tenant_id": ["t", "t2"],
    "uid": ["u", "u2"],
    "strategy_id": ["s", "s2"],
    "sequence": [1, 2, 10],
    "from_stage": list(ORDER),
    "to_stage": list(ORDER),
    "decision": list(Decision),
    "policy_version": [None, "v1", "v2"],
    "requested_by": ["quant", "risk:feed"],
    "requested_at": [NOW, NOW + timedelta(microseconds=1)],
    "approved_by": [
        [],
        [ApprovedBy(role=Role.RISK_APPROVER, uid="bob", approved_at=NOW)],
        [ApprovedBy(role=Role.OPS_APPROVER, uid="bob", approved_at=NOW)],
        [ApprovedBy(role=Role.RISK_APPROVER, uid="bob", approved_at=NOW, comment="ok")],
        [ApprovedBy(role=Role.RISK_APPROVER, uid="bob", approved_at=NOW, metrics_hash="ab")],
        [ApprovedBy(role=Role.RISK_APPROVER, uid="bob", approved_at=NOW, designated_person=True)],
    ],
    "effective_at": [NOW, NOW + timedelta(seconds=1)],
    "reason_code": ["promotion_ready", "data_integrity"],
    "freeze": [False, True],
    "freeze_reason": [None, "data_integrity", ""],
    "request_id": [None, "q1"],
    "metrics_snapshot": [
        MetricsSnapshot(),
        MetricsSnapshot(metrics={"hit_rate": 0.53}),
        MetricsSnapshot(metrics={"hit_rate": 0.54}),
        MetricsSnapshot(metrics_hash="ab" * 32),
        MetricsSnapshot(window_start=NOW),
    ],
    "evidence_refs": [[], [EvidenceRef(kind="fills", id="f1", sha256="00")]],
    "runtime_fingerprint": [RuntimeFingerprint(), RuntimeFingerprint(git_sha="abc123")],
    "live_enabled_until": [None, NOW],
    "correlation_id": [None, "trace-1"],
    "prev_record_hash": [None, "ab" * 32, "cd" * 32],
    "limit_envelope": [
        None,
        LimitEnvelopes().paper,
        LimitEnvelopes().live,
        LimitEnvelopes().live.model_copy(update={"instruments": ["AAPL"]}),
    ],
    "policy_hash": [None, "ab" * 32, "cd" * 32],
}


def test_the_field_table_covers_every_record_field() -> None:
    assert set(FIELD_VALUES) == set(PromotionRecord.model_fields) - {"record_hash"}


@st.composite
def records(draw: st.DrawFn) -> dict[str, Any]:
    return {f: draw(st.sampled_from(values)) for f, values in FIELD_VALUES.items()}


@given(records(), st.data())
def test_record_hash_changes_with_any_field(fields: dict[str, Any], data: st.DataObject) -> None:
    name = data.draw(st.sampled_from(sorted(FIELD_VALUES)))
    other = data.draw(st.sampled_from([v for v in FIELD_VALUES[name] if v != fields[name]]))
    a = PromotionRecord(**fields, record_hash="")
    b = PromotionRecord(**{**fields, name: other}, record_hash="")
    assert record_hash(a) != record_hash(b), name
    assert record_hash(a) == record_hash(a.model_copy(update={"record_hash": "anything"}))


def change(doc: StrategyDoc, i: int, to: S, decision: Decision, **kw: Any) -> StageChange:
    return StageChange(
        tenant_id=doc.tenant_id,
        uid=doc.uid,
        strategy_id=doc.strategy_id,
        record_id=f"rec-{i}",
        audit_event_id=f"evt-{i}",
        decision=decision,
        expected_from_stage=doc.lifecycle_stage,
        expected_last_record_id=doc.last_stage_change_record_id,
        to_stage=to,
        reason_code="chain",
        policy_version="v1",
        requested_by="quant",
        requested_at=NOW,
        effective_at=NOW + timedelta(minutes=i),
        **kw,
    )


def chain(n: int) -> list[PromotionRecord]:
    """n records up and down the ladder, built by the same functions the stores call."""
    doc = StrategyDoc(tenant_id="t", uid="u", strategy_id="s")
    out = []
    for i in range(n):
        up = doc.lifecycle_stage == S.OBSERVE
        c = change(
            doc, i, S.SHADOW if up else S.OBSERVE, Decision.PROMOTE if up else Decision.DEMOTE
        )
        record = build_record(c, check_precondition(c, doc))
        doc = apply_to_strategy(doc, record)
        out.append(record)
    return out


CHAIN = chain(4)
STORED = [r.model_dump_json() for r in CHAIN]  # the JSON a store keeps for each record
# Where record 0 keeps its chain position: altering it reorders the chain.
SEQUENCE_DIGIT = STORED[0].index('"sequence":1') + len('"sequence":')


def test_a_built_chain_verifies_and_links() -> None:
    assert verify_chain(CHAIN).ok and verify_chain(CHAIN).checked == 4
    assert verify_chain([]).ok
    assert CHAIN[0].prev_record_hash is None
    assert all(b.prev_record_hash == a.record_hash for a, b in pairwise(CHAIN))
    assert verify_chain(list(reversed(CHAIN))).ok  # checked in chain order, not list order


@pytest.mark.parametrize(
    ("records", "named", "why"),
    [
        ([CHAIN[0], CHAIN[2], CHAIN[3]], "rec-2", "sequence"),  # a record removed
        ([CHAIN[1], CHAIN[2], CHAIN[3]], "rec-1", "sequence"),  # the first one removed
        (
            [*CHAIN[:2], CHAIN[2].model_copy(update={"reason_code": "x"}), CHAIN[3]],
            "rec-2",
            "altered",
        ),
        (
            [CHAIN[0], CHAIN[1].model_copy(update={"prev_record_hash": None})],
            "rec-1",
            "altered",
        ),
    ],
)
def test_verify_chain_names_the_first_broken_link(
    records: list[PromotionRecord], named: str, why: str
) -> None:
    result = verify_chain(records)
    assert not result.ok and result.first_broken_record_id == named and why in (result.reason or "")


def test_a_rehashed_record_is_caught_by_the_next_link() -> None:
    forged = CHAIN[1].model_copy(update={"reason_code": "forged"})
    forged = forged.model_copy(update={"record_hash": record_hash(forged)})
    result = verify_chain([CHAIN[0], forged, *CHAIN[2:]])
    assert not result.ok and result.first_broken_record_id == "rec-2"
    assert "prev_record_hash" in (result.reason or "")


def alter(victim: int, offset: int, char: str) -> tuple[PromotionRecord | None, list[Any]]:
    """Record `victim` with one character of its stored JSON replaced, as a store would read it
    back (None: it no longer parses, which the store reports as RecordCorrupt naming it)."""
    raw = STORED[victim]
    pos = offset % len(raw)
    text = raw[:pos] + char + raw[pos + 1 :]
    try:
        tampered = PromotionRecord.model_validate_json(text)
    except ValidationError:
        return None, []
    return tampered, [*CHAIN[:victim], tampered, *CHAIN[victim + 1 :]]


ALTERATIONS = (
    st.integers(0, len(CHAIN) - 1),
    st.integers(0, 10_000),
    st.one_of(st.sampled_from("0123456789"), st.characters(min_codepoint=32, max_codepoint=126)),
)


@settings(max_examples=300)
@given(*ALTERATIONS)
@example(0, SEQUENCE_DIGIT, "3")
def test_any_altered_byte_breaks_the_chain(victim: int, offset: int, char: str) -> None:
    tampered, records = alter(victim, offset, char)
    if tampered is None or tampered == CHAIN[victim]:
        return  # refused when read, or no change of content (e.g. the same character)
    assert not verify_chain(records).ok


@settings(max_examples=300)
@given(*ALTERATIONS)
@example(0, SEQUENCE_DIGIT, "3")
def test_the_altered_record_is_the_one_named(victim: int, offset: int, char: str) -> None:
    tampered, records = alter(victim, offset, char)
    if tampered is None or tampered == CHAIN[victim]:
        return
    named = verify_chain(records).first_broken_record_id
    assert named in (CHAIN[victim].record_id, tampered.record_id)


def test_precondition_refusals_name_the_field() -> None:
    doc = StrategyDoc(tenant_id="t", uid="u", strategy_id="s")
    cases = [
        (None, change(doc, 0, S.SHADOW, Decision.PROMOTE), "strategy_id"),
        (doc, change(doc, 0, S.PAPER, Decision.PROMOTE), "to_stage"),  # skips a stage
        (doc, change(doc, 0, S.OBSERVE, Decision.DEMOTE), "to_stage"),  # not lower
        (doc, change(doc, 0, S.SHADOW, Decision.FREEZE), "to_stage"),  # a freeze keeps it
        (doc, change(doc, 0, S.OBSERVE, Decision.UNFREEZE), "freeze"),  # not frozen
        (
            doc.model_copy(update={"freeze": True, "freeze_reason": "x"}),
            change(doc, 0, S.SHADOW, Decision.PROMOTE),
            "freeze",
        ),
        (
            doc,
            change(doc, 0, S.SHADOW, Decision.PROMOTE).model_copy(
                update={"expected_from_stage": S.SHADOW}
            ),
            "expected_from_stage",
        ),
        (
            doc,
            change(doc, 0, S.SHADOW, Decision.PROMOTE).model_copy(
                update={"expected_last_record_id": "rec-x"}
            ),
            "expected_last_record_id",
        ),
    ]
    for current, c, field in cases:
        with pytest.raises(PreconditionFailed) as refused:
            check_precondition(c, current)
        assert refused.value.field == field


def test_only_a_live_enablement_renewal_promotes_within_a_stage() -> None:
    live = StrategyDoc(tenant_id="t", uid="u", strategy_id="s", lifecycle_stage=S.LIVE)
    until = NOW + timedelta(days=1)
    renewal = change(live, 0, S.LIVE, Decision.PROMOTE).model_copy(
        update={"live_enabled_until": until}
    )
    renewed = apply_to_strategy(live, build_record(renewal, check_precondition(renewal, live)))
    assert renewed.lifecycle_stage == S.LIVE and renewed.live_enabled_until == until
    # Without an enablement it is no renewal, and no other stage promotes to itself.
    paper = live.model_copy(update={"lifecycle_stage": S.PAPER})
    for doc, c in [
        (live, change(live, 0, S.LIVE, Decision.PROMOTE)),
        (
            paper,
            change(paper, 0, S.PAPER, Decision.PROMOTE).model_copy(
                update={"live_enabled_until": until}
            ),
        ),
    ]:
        with pytest.raises(PreconditionFailed) as refused:
            check_precondition(c, doc)
        assert refused.value.field == "to_stage"


def test_a_demotion_sets_shadow_mode_fields_and_a_promotion_clears_them() -> None:
    doc = StrategyDoc(tenant_id="t", uid="u", strategy_id="s", lifecycle_stage=S.PAPER)
    demoted = apply_to_strategy(doc, build_record(change(doc, 0, S.SHADOW, Decision.DEMOTE), doc))
    assert demoted.execution_mode == "SHADOW_MODE" and demoted.shadow_mode_reason == "chain"
    assert demoted.shadow_mode_activated_at == NOW
    promoted = apply_to_strategy(
        demoted, build_record(change(demoted, 1, S.PAPER, Decision.PROMOTE), demoted)
    )
    assert promoted.shadow_mode_reason is None and promoted.shadow_mode_activated_at is None


@pytest.mark.parametrize(
    ("frozen", "decision", "set_freeze"),
    [
        (True, Decision.UNFREEZE, None),
        (True, Decision.UNFREEZE, True),
        (False, Decision.FREEZE, False),
    ],
)
def test_freeze_and_unfreeze_records_do_what_they_say(
    frozen: bool, decision: Decision, set_freeze: bool | None
) -> None:
    doc = StrategyDoc(
        tenant_id="t",
        uid="u",
        strategy_id="s",
        freeze=frozen,
        freeze_reason="x" if frozen else None,
    )
    c = change(doc, 0, S.OBSERVE, decision, set_freeze=set_freeze)
    try:
        record = build_record(c, check_precondition(c, doc))
    except PreconditionFailed:
        return  # refusing the contradiction is as good as honouring the decision
    assert record.freeze == (decision == Decision.FREEZE)


def test_a_retry_of_the_same_change_is_the_same_commit() -> None:
    doc = StrategyDoc(tenant_id="t", uid="u", strategy_id="s")
    c = change(doc, 0, S.SHADOW, Decision.PROMOTE)
    assert same_commit(build_record(c, doc), c)


@pytest.mark.parametrize(
    "update",
    [
        {"reason_code": "other"},
        {"requested_by": "mallory"},
        {"uid": "u2"},
        {"strategy_id": "s2"},
        {"policy_version": "v9"},
        {"approved_by": [ApprovedBy(role=Role.RISK_APPROVER, uid="bob", approved_at=NOW)]},
        {"metrics_snapshot": MetricsSnapshot(metrics_hash="ff" * 32)},
    ],
)
def test_another_change_under_the_same_record_id_is_not_a_retry(update: dict[str, Any]) -> None:
    doc = StrategyDoc(tenant_id="t", uid="u", strategy_id="s")
    c = change(doc, 0, S.SHADOW, Decision.PROMOTE)
    assert not same_commit(build_record(c, doc), c.model_copy(update=update))
