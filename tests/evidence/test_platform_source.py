"""The platform's shadow trades and paper orders as evidence, read from the Firestore emulator."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from evidence.errors import EvidenceDocumentError
from evidence.files import FileEvidenceSource
from evidence.platform import PlatformEvidenceSource, parse_timestamp
from evidence.synthetic import Spec, paper_orders, session_days, shadow_fills
from governance.eligibility import build_report
from governance.hashing import canonical_hash
from governance.policy import default_policy
from governance.report import EligibilityReport
from governance.stages import LifecycleStage as S
from settings import Settings
from store import paths
from store.factory import open_evidence_source
from store.firestore_evidence import FirestoreDocuments, jsonable

NOW = datetime(2026, 11, 25, 12, tzinfo=UTC)
SPEC = Spec(sessions=6, fills_per_session=5, orders_per_session=4, end=date(2026, 11, 24))
Columns = dict[str, np.ndarray[Any, Any]]


@pytest.fixture
def platform(firestore_emulator_host: str) -> Iterator[FirestoreDocuments]:
    settings = Settings.from_env(
        {
            "STRATGATE_HOME": "/nonexistent",
            "FIRESTORE_EMULATOR_HOST": firestore_emulator_host,
            "FIRESTORE_PROJECT": "stratgate-evidence",
        }
    )
    docs = FirestoreDocuments.from_settings(settings)
    try:
        yield docs
    finally:
        docs.close()


def evidence() -> tuple[Columns, Columns, datetime]:
    rng = np.random.default_rng(5)
    days = session_days(SPEC)
    fills, orders = shadow_fills(SPEC, rng, days), paper_orders(SPEC, rng, days)
    for columns in (fills, orders):
        columns["ts"] = columns["ts"] // 1000 * 1000  # Firestore keeps microseconds
    orders["notional"] = np.where(rng.random(len(orders["ts"])) < 0.4, -1, 1) * orders["notional"]
    orders["fill_price"][3] = np.nan  # one order not filled
    return fills, orders, days[0].tz_localize("UTC").to_pydatetime()


def _at(ns: int) -> datetime:
    return datetime.fromtimestamp(ns // 1000 / 1e6, tz=UTC).replace(microsecond=ns // 1000 % 10**6)


def seed(
    platform: FirestoreDocuments, tenant: str, uid: str, fills: Columns, orders: Columns
) -> None:
    """Documents as the platform writes them (amounts as decimal strings, its own fields)."""
    db = platform.client
    for i in range(len(fills["ts"])):
        db.document(f"{paths.shadow_trades(uid)}/st{i:04d}").set(
            {
                "shadow_id": f"st{i:04d}",
                "tenant_id": tenant,
                "uid": uid,
                "strategy_id": "s",
                "symbol": str(fills["symbol"][i]),
                "side": "BUY",
                "notional": repr(float(fills["notional"][i])),
                "status": "OPEN",
                "created_at": _at(int(fills["ts"][i])),
                "current_pnl": repr(float(fills["pnl"][i])),
                "quote_age_ms": float(fills["quote_age_ms"][i]),
                "position_weight": float(fills["position_weight"][i]),
                "equity": float(fills["equity"][i]),
                "risk_denied": False,
                "reasoning": "an extra field of the platform's",
            }
        )
    for i in range(len(orders["ts"])):
        price = orders["fill_price"][i]
        db.document(paths.paper_order(tenant, f"po{i:04d}")).set(
            {
                "uid": uid,
                "strategy_id": "s",
                "symbol": str(orders["symbol"][i]),
                "side": "sell" if orders["notional"][i] < 0 else "buy",
                "notional": abs(float(orders["notional"][i])),
                "status": "simulated",
                "risk_allowed": True,
                "created_at": _at(int(orders["ts"][i])),
                "decision_to_order_ms": float(orders["decision_to_order_ms"][i]),
                "expected_price": float(orders["expected_price"][i]),
                "filled_avg_price": None if np.isnan(price) else float(price),
                "pnl": float(orders["pnl"][i]),
                "equity": float(orders["equity"][i]),
            }
        )
    # Another strategy's documents, in the same collections: never counted.
    db.document(f"{paths.shadow_trades(uid)}/other").set({"strategy_id": "other", "equity": "x"})
    db.document(paths.paper_order(tenant, "other")).set({"uid": uid, "strategy_id": "other"})


def report(bundle: Any, to: S, entered: datetime) -> EligibilityReport:
    frm = {S.PAPER: S.SHADOW, S.LIVE: S.PAPER}[to]
    return build_report(
        bundle=bundle,
        policy=default_policy(),
        from_stage=frm,
        target_stage=to,
        stage_entered_at=entered,
        now=NOW,
    )


def test_platform_documents_judge_like_the_same_rows_in_files(
    platform: FirestoreDocuments, tenant: str, tmp_path: Path
) -> None:
    uid = f"u-{uuid.uuid4().hex[:8]}"
    fills, orders, entered = evidence()
    seed(platform, tenant, uid, fills, orders)
    files = FileEvidenceSource(tmp_path / "files")
    files.write(tenant, uid, "s", "shadow_fills", fills)
    files.write(tenant, uid, "s", "paper_orders", orders)
    source = PlatformEvidenceSource(FileEvidenceSource(tmp_path / "none"), platform)
    for to in (S.PAPER, S.LIVE):
        ours, theirs = (
            report(source.open(tenant, uid, "s"), to, entered),
            report(files.open(tenant, uid, "s"), to, entered),
        )
        assert ours.criteria == theirs.criteria and ours.window == theirs.window
        assert ours.verdict == theirs.verdict
    bundle = source.open(tenant, uid, "s")
    assert bundle.fills is not None and bundle.orders is not None
    assert len(bundle.fills) == len(fills["ts"]) and len(bundle.orders) == len(orders["ts"])
    assert np.array_equal(bundle.orders.notional, orders["notional"])
    assert np.isnan(bundle.orders.fill_price[3])
    # Each document is cited by path and the hash of its canonical content, recomputable.
    cited = {r.id: r for r in bundle.refs}
    assert len(cited) == len(fills["ts"]) + len(orders["ts"])
    path = paths.paper_order(tenant, "po0002")
    snapshot = platform.client.document(path).get().to_dict()
    assert cited[path].sha256 == canonical_hash(jsonable(snapshot))
    assert cited[path].kind == "paper_orders"


@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [
        ("equity", "a lot", "not a number"),
        ("quote_age_ms", None, "required field is missing"),
        ("created_at", "yesterday", "not an RFC 3339 timestamp"),
        ("position_weight", -0.5, "below 0.0"),
    ],
)
def test_a_malformed_document_is_refused_naming_it_and_its_field(
    platform: FirestoreDocuments, tenant: str, field: str, value: Any, reason: str
) -> None:
    uid = f"u-{uuid.uuid4().hex[:8]}"
    fills, orders, _ = evidence()
    seed(platform, tenant, uid, fills, orders)
    bad = f"{paths.shadow_trades(uid)}/st0003"
    platform.client.document(bad).update({field: value})
    source = PlatformEvidenceSource(FileEvidenceSource(Path("/nonexistent")), platform)
    with pytest.raises(EvidenceDocumentError) as refused:
        source.open(tenant, uid, "s")
    assert refused.value.path == bad and refused.value.document_field == field
    assert reason in refused.value.message and bad in refused.value.message


def test_a_paper_order_without_a_side_names_side(platform: FirestoreDocuments, tenant: str) -> None:
    uid = f"u-{uuid.uuid4().hex[:8]}"
    fills, orders, _ = evidence()
    seed(platform, tenant, uid, fills, orders)
    platform.client.document(paths.paper_order(tenant, "po0001")).update({"side": "hold"})
    source = PlatformEvidenceSource(FileEvidenceSource(Path("/nonexistent")), platform)
    with pytest.raises(EvidenceDocumentError, match="'side'"):
        source.open(tenant, uid, "s")


def test_the_source_is_chosen_by_settings(tmp_path: Path, firestore_emulator_host: str) -> None:
    env = {"STRATGATE_HOME": str(tmp_path), "FIRESTORE_EMULATOR_HOST": firestore_emulator_host}
    assert isinstance(open_evidence_source(Settings.from_env(env)), FileEvidenceSource)
    chosen = open_evidence_source(
        Settings.from_env({**env, "STRATGATE_EVIDENCE_SOURCE": "firestore"})
    )
    assert isinstance(chosen, PlatformEvidenceSource)
    with pytest.raises(ValueError, match="STRATGATE_EVIDENCE_SOURCE"):
        Settings.from_env({**env, "STRATGATE_EVIDENCE_SOURCE": "mongo"})


def test_rfc3339_timestamps_keep_nanoseconds() -> None:
    assert parse_timestamp("1970-01-01T00:00:01.000000007Z") == 1_000_000_007
    assert parse_timestamp("2026-11-20T16:00:00+01:00") == parse_timestamp("2026-11-20T15:00:00Z")


def test_cited_documents_are_read_exactly_and_an_edited_or_deleted_one_is_named(
    platform: FirestoreDocuments, tenant: str, tmp_path: Path
) -> None:
    from governance.replay import FileStatus

    uid = f"u-{uuid.uuid4().hex[:8]}"
    fills, orders, entered = evidence()
    seed(platform, tenant, uid, fills, orders)
    source = PlatformEvidenceSource(FileEvidenceSource(tmp_path / "none"), platform)
    decided = source.open(tenant, uid, "s")
    then = report(decided, S.LIVE, entered)
    # A document written after the decision is not read by its replay.
    copied = platform.client.document(paths.paper_order(tenant, "po0001")).get().to_dict()
    platform.client.document(paths.paper_order(tenant, "po9999")).set(copied or {})
    again, checks = source.open_cited(tenant, uid, "s", decided.refs)
    assert all(c.status == FileStatus.VERIFIED for c in checks)
    assert len(checks) == len(fills["ts"]) + len(orders["ts"])
    assert report(again, S.LIVE, entered).metrics_hash == then.metrics_hash
    edited, deleted = paths.paper_order(tenant, "po0002"), paths.shadow_trades(uid) + "/st0003"
    platform.client.document(edited).update({"notional": "123456.0"})
    platform.client.document(deleted).delete()
    _, checks = source.open_cited(tenant, uid, "s", decided.refs)
    named = {c.id: c.status for c in checks if c.status != FileStatus.VERIFIED}
    assert named == {edited: FileStatus.ALTERED, deleted: FileStatus.MISSING}
