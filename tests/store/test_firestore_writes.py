"""The raw write builders (store/firestore_writes.py) produce exactly the library's writes."""

from __future__ import annotations

from typing import Any

from google.api_core.datetime_helpers import DatetimeWithNanoseconds
from google.cloud.firestore_v1 import _helpers
from hypothesis import given, settings
from hypothesis import strategies as st

from bench.store import step
from governance.audit_chain import link
from governance.records import StrategyDoc
from governance.stage_change import CommitPlan, plan_commit
from store.firestore_docs import audit_doc, strategy_changes
from store.firestore_writes import Writes

PATH = "projects/p/databases/(default)/documents/tenants/t/things/one"
# Real Firestore's update times are in microseconds; the library drops any nanoseconds.
WHEN = DatetimeWithNanoseconds(2026, 11, 25, 15, 0, 1, 123456)


class _Ref:
    _document_path = PATH


def ours(build: str, data: dict[str, Any]) -> Any:
    writes = Writes(client=None)  # type: ignore[arg-type]
    if build == "update":
        writes.update(_Ref(), data, WHEN)
    else:
        getattr(writes, build)(_Ref(), data)
    (pb,) = writes.pbs
    return pb


def library(build: str, data: dict[str, Any]) -> Any:
    if build == "create":
        pbs = _helpers.pbs_for_create(PATH, data)
    elif build == "set":
        pbs = _helpers.pbs_for_set_no_merge(PATH, data)
    elif build == "merge":
        pbs = _helpers.pbs_for_set_with_merge(PATH, data, merge=True)
    else:
        pbs = _helpers.pbs_for_update(PATH, data, _helpers.LastUpdateOption(WHEN))
    (pb,) = pbs
    return pb._pb


def commit_documents() -> list[dict[str, Any]]:
    """The documents one stage change writes: record, audit event, strategy fields, head."""
    doc = StrategyDoc(tenant_id="t", uid="u", strategy_id="s")
    plan = plan_commit(step(doc), existing=None, doc=doc)
    assert isinstance(plan, CommitPlan)
    event, head = link(plan.audit_events[0], None)
    return [
        plan.record.model_dump(mode="json"),
        audit_doc(event),
        head.model_dump(mode="json"),
        strategy_changes(doc, plan.strategy),
        {"record_id": "r1"},
    ]


def test_each_write_of_a_commit_is_the_librarys() -> None:
    for data in commit_documents():
        for build in ("create", "set", "update"):
            assert ours(build, data) == library(build, data), (build, data)


def test_an_update_keeps_the_nanoseconds_it_read() -> None:
    when = DatetimeWithNanoseconds(2026, 11, 25, 15, 0, 1, nanosecond=123456789)
    writes = Writes(client=None)  # type: ignore[arg-type]
    writes.update(_Ref(), {"a": 1}, when)
    assert writes.pbs[0].current_document.update_time.nanos == 123456789


def test_a_request_closure_merge_is_the_librarys() -> None:
    data = {"status": "approved", "record_id": "r1", "updated_at": "2026-11-25T15:00:00Z"}
    assert ours("merge", data) == library("merge", data)


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63 - 1)
    | st.floats(allow_nan=False)
    | st.text(),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.from_regex(r"[a-z_][a-z0-9_]{0,8}", fullmatch=True), inner, max_size=4)
    ),
    max_leaves=20,
)
documents = st.dictionaries(
    st.from_regex(r"[a-z_][a-z0-9_]{0,8}", fullmatch=True), json_values, min_size=1, max_size=6
)


@settings(max_examples=300, deadline=None)
@given(documents)
def test_any_json_document_is_written_as_the_library_writes_it(data: dict[str, Any]) -> None:
    assert ours("create", data) == library("create", data)
    assert ours("set", data) == library("set", data)
