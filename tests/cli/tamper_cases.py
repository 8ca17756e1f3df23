"""The 36 tamper cases of issue 15: edit, delete, insert, reorder, truncate and rehash each kind
of stored object (records, chain slots, strategy documents, audit events, policies,
checkpoints), written once over a neutral `State` and applied either to a real SQLite file's
rows (the append-only triggers dropped, as a DBA could) or to an export bundle on disk (its
manifest rewritten, as whoever edits the files would)."""

from __future__ import annotations

import base64
import copy
import hashlib
import json
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from governance.audit_chain import event_hash
from governance.bundle import MANIFEST
from governance.hashing import canonical_json
from governance.records import AuditEvent, PromotionRecord
from governance.stage_change import record_hash
from store import paths
from store.sqlite_schema import APPEND_ONLY

T = "demo"
Json = dict[str, Any]


@dataclass
class State:
    records: list[Json] = field(default_factory=list)
    slots: list[Json] = field(default_factory=list)  # uid, strategy_id, sequence, record_id
    docs: list[Json] = field(default_factory=list)
    events: list[Json] = field(default_factory=list)  # in stored order
    head: Json | None = None
    policies: list[Json] = field(default_factory=list)  # position, policy
    current: Json | None = None
    checkpoints: list[Json] = field(default_factory=list)

    def record(self, sid: str, sequence: int) -> Json:
        return next(
            r for r in self.records if r["strategy_id"] == sid and r["sequence"] == sequence
        )

    def chain(self, sid: str) -> list[Json]:
        return sorted(
            (r for r in self.records if r["strategy_id"] == sid), key=lambda r: r["sequence"]
        )

    def doc(self, sid: str) -> Json:
        return next(d for d in self.docs if d["strategy_id"] == sid)

    def slot(self, sid: str, sequence: int) -> Json:
        return next(s for s in self.slots if s["strategy_id"] == sid and s["sequence"] == sequence)

    def event(self, sequence: int) -> Json:
        return next(e for e in self.events if e.get("audit_sequence") == sequence)


# -- helpers a careful forger uses ----------------------------------------------------------
def rehash_record(r: Json) -> None:
    r["record_hash"] = record_hash(PromotionRecord.model_validate({**r, "record_hash": ""}))


def relink_chain(state: State, sid: str, start: int = 1) -> None:
    """Recompute every hash and link of `sid`'s chain from position `start`, and its doc."""
    chain = state.chain(sid)
    prev = chain[start - 2]["record_hash"] if start > 1 else None
    for r in chain[start - 1 :]:
        r["prev_record_hash"] = prev
        rehash_record(r)
        prev = r["record_hash"]
    point_doc_at(state, sid, chain[-1])


def point_doc_at(state: State, sid: str, last: Json) -> None:
    doc = state.doc(sid)
    doc.update(
        chain_length=last["sequence"],
        last_stage_change_record_id=last["record_id"],
        last_record_hash=last["record_hash"],
        lifecycle_stage=last["to_stage"],
        execution_mode="SHADOW_MODE" if last["to_stage"] == "SHADOW" else last["to_stage"],
        freeze=last["freeze"],
    )


def rehash_event(e: Json) -> None:
    e["event_hash"] = event_hash(AuditEvent.model_validate({**e, "event_hash": None}))


def relink_events(state: State, start: int) -> None:
    chained = sorted(
        (e for e in state.events if e.get("audit_sequence")), key=lambda e: e["audit_sequence"]
    )
    prev = chained[start - 2]["event_hash"] if start > 1 else None
    for e in chained[start - 1 :]:
        e["prev_event_hash"] = prev
        rehash_event(e)
        prev = e["event_hash"]
    last = chained[-1]
    state.head = {
        "audit_sequence": last["audit_sequence"],
        "event_hash": last["event_hash"],
        "event_id": last["event_id"],
    }


def forged_record(state: State, sid: str) -> Json:
    last = state.chain(sid)[-1]
    r = copy.deepcopy(last)
    r.update(
        record_id="forged-record",
        sequence=last["sequence"] + 1,
        from_stage=last["to_stage"],
        to_stage="PAPER",
        prev_record_hash=last["record_hash"],
        reason_code="forged",
    )
    rehash_record(r)
    return r


def resign(cp: Json, key: Ed25519PrivateKey) -> None:
    cp["signature"] = base64.b64encode(key.sign(canonical_json(cp["body"]))).decode()


# -- the 36 cases ----------------------------------------------------------------------------
Tamper = Callable[[State], None]


def _rec_edit(s: State) -> None:
    s.record("s1", 2)["reason_code"] = "innocent"


def _rec_delete(s: State) -> None:
    s.records.remove(s.record("s1", 2))


def _rec_insert(s: State) -> None:
    s.records.append(forged_record(s, "s1"))


def _rec_reorder(s: State) -> None:
    a, b = s.record("s1", 1), s.record("s1", 2)
    a["sequence"], b["sequence"] = 2, 1


def _rec_truncate(s: State) -> None:
    last = s.chain("s1")[-1]
    s.records.remove(last)
    s.slots.remove(s.slot("s1", last["sequence"]))
    point_doc_at(s, "s1", s.chain("s1")[-1])


def _rec_rehash(s: State) -> None:
    s.record("s1", 1)["requested_by"] = "someone-else"
    relink_chain(s, "s1")


def _slot_edit(s: State) -> None:
    s.slot("s1", 2)["record_id"] = s.record("s1", 1)["record_id"]


def _slot_delete(s: State) -> None:
    s.slots.remove(s.slot("s1", 2))


def _slot_insert(s: State) -> None:
    s.slots.append({"uid": "quant", "strategy_id": "s1", "sequence": 9, "record_id": "ghost"})


def _slot_reorder(s: State) -> None:
    a, b = s.slot("s1", 1), s.slot("s1", 2)
    a["record_id"], b["record_id"] = b["record_id"], a["record_id"]


def _slot_truncate(s: State) -> None:
    s.slots.remove(s.slot("s1", len(s.chain("s1"))))


def _slot_rehash(s: State) -> None:
    for slot in s.slots:
        if slot["strategy_id"] == "s1":
            slot["record_id"] = hashlib.sha256(slot["record_id"].encode()).hexdigest()[:36]


def _doc_edit(s: State) -> None:
    s.doc("s1").update(lifecycle_stage="PAPER", execution_mode="PAPER")


def _doc_delete(s: State) -> None:
    s.docs.remove(s.doc("s3"))


def _doc_insert(s: State) -> None:
    forged = {**copy.deepcopy(s.doc("s3")), "strategy_id": "s9", "lifecycle_stage": "PAPER"}
    forged["execution_mode"] = "PAPER"
    s.docs.append(forged)


def _doc_reorder(s: State) -> None:
    a, b = s.doc("s1"), s.doc("s2")
    moved = (
        "lifecycle_stage",
        "execution_mode",
        "chain_length",
        "last_stage_change_record_id",
        "last_record_hash",
        "freeze",
    )
    for name in moved:
        a[name], b[name] = b.get(name), a.get(name)


def _doc_truncate(s: State) -> None:
    point_doc_at(s, "s1", s.chain("s1")[-2])


def _doc_rehash(s: State) -> None:
    """A whole forged stage change to PAPER, consistent everywhere but the audit trail."""
    r = forged_record(s, "s1")
    s.records.append(r)
    s.slots.append(
        {
            "uid": "quant",
            "strategy_id": "s1",
            "sequence": r["sequence"],
            "record_id": r["record_id"],
        }
    )
    point_doc_at(s, "s1", r)


def _ev_edit(s: State) -> None:
    s.event(2)["details"]["lifecycle_stage"] = "LIVE"


def _ev_delete(s: State) -> None:
    s.events.remove(s.event(3))


def _ev_insert(s: State) -> None:
    forged = copy.deepcopy(s.event(3))
    forged.update(event_id="forged-event", event_type="strategy.approved_by_nobody")
    rehash_event(forged)
    s.events.insert(s.events.index(s.event(3)), forged)


def _ev_reorder(s: State) -> None:
    a, b = s.event(2), s.event(3)
    a["audit_sequence"], b["audit_sequence"] = 3, 2


def _ev_truncate(s: State) -> None:
    del s.events[-2:]
    relink_events(s, len([e for e in s.events if e.get("audit_sequence")]))


def _ev_rehash(s: State) -> None:
    s.event(2)["details"]["lifecycle_stage"] = "LIVE"
    relink_events(s, 2)


def _pol_edit(s: State) -> None:
    s.policies[0]["policy"]["calendar"] = "XLON"


def _pol_delete(s: State) -> None:
    del s.policies[1]


def _pol_insert(s: State) -> None:
    forged = copy.deepcopy(s.policies[1])
    forged["policy"]["policy_version"] = "v1.5"
    s.policies.insert(1, forged)
    for n, p in enumerate(s.policies, start=1):
        p["position"] = n


def _pol_reorder(s: State) -> None:
    s.policies[0]["position"], s.policies[1]["position"] = 2, 1
    s.policies.reverse()


def _pol_truncate(s: State) -> None:
    s.policies.pop()
    s.current = copy.deepcopy(s.policies[-1]["policy"])


def _pol_rehash(s: State) -> None:
    s.policies[-1]["policy"]["calendar"] = "XLON"
    s.current = copy.deepcopy(s.policies[-1]["policy"])


def _cp_edit(s: State) -> None:
    s.checkpoints[0]["body"]["merkle_root"] = "0" * 64


def _cp_delete(s: State) -> None:
    del s.checkpoints[0]


def _cp_insert(s: State) -> None:
    forged = copy.deepcopy(s.checkpoints[-1])
    forged["body"].update(sequence=len(s.checkpoints) + 1, checkpoint_id="forged")
    resign(forged, Ed25519PrivateKey.generate())
    s.checkpoints.append(forged)


def _cp_reorder(s: State) -> None:
    a, b = s.checkpoints[0]["body"], s.checkpoints[1]["body"]
    a["sequence"], b["sequence"] = b["sequence"], a["sequence"]


def _cp_truncate(s: State) -> None:
    s.checkpoints.pop()


def _cp_rehash(s: State) -> None:
    """Rehash s1 from its first record and re-sign every checkpoint to match, under the real
    key id but with the forger's key."""
    _rec_rehash(s)
    head = s.chain("s1")[-1]
    forger = Ed25519PrivateKey.generate()
    for cp in s.checkpoints:
        for leaf in cp["leaves"]:
            if leaf.get("strategy_id") == "s1" and leaf["kind"] == "strategy":
                leaf["head_hash"] = head["record_hash"]
        resign(cp, forger)


CASES: dict[str, Tamper] = {
    "records/edit": _rec_edit,
    "records/delete": _rec_delete,
    "records/insert": _rec_insert,
    "records/reorder": _rec_reorder,
    "records/truncate": _rec_truncate,
    "records/rehash": _rec_rehash,
    "chain_slots/edit": _slot_edit,
    "chain_slots/delete": _slot_delete,
    "chain_slots/insert": _slot_insert,
    "chain_slots/reorder": _slot_reorder,
    "chain_slots/truncate": _slot_truncate,
    "chain_slots/rehash": _slot_rehash,
    "strategy_docs/edit": _doc_edit,
    "strategy_docs/delete": _doc_delete,
    "strategy_docs/insert": _doc_insert,
    "strategy_docs/reorder": _doc_reorder,
    "strategy_docs/truncate": _doc_truncate,
    "strategy_docs/rehash": _doc_rehash,
    "audit_events/edit": _ev_edit,
    "audit_events/delete": _ev_delete,
    "audit_events/insert": _ev_insert,
    "audit_events/reorder": _ev_reorder,
    "audit_events/truncate": _ev_truncate,
    "audit_events/rehash": _ev_rehash,
    "policies/edit": _pol_edit,
    "policies/delete": _pol_delete,
    "policies/insert": _pol_insert,
    "policies/reorder": _pol_reorder,
    "policies/truncate": _pol_truncate,
    "policies/rehash": _pol_rehash,
    "checkpoints/edit": _cp_edit,
    "checkpoints/delete": _cp_delete,
    "checkpoints/insert": _cp_insert,
    "checkpoints/reorder": _cp_reorder,
    "checkpoints/truncate": _cp_truncate,
    "checkpoints/rehash": _cp_rehash,
}


# -- SQLite rows ----------------------------------------------------------------------------
def _strategies_collection(uid: str = "quant") -> str:
    return paths.strategies(T, uid)


def load_sqlite(db: Path) -> State:
    conn = sqlite3.connect(db)
    try:
        q = conn.execute
        state = State(
            records=[
                json.loads(d)
                for (d,) in q("SELECT data FROM promotion_records WHERE tenant_id = ?", (T,))
            ],
            docs=[
                json.loads(d)
                for (d,) in q(
                    "SELECT data FROM documents WHERE collection = ?", (_strategies_collection(),)
                )
            ],
            events=[
                json.loads(d)
                for (d,) in q(
                    "SELECT data FROM audit_events WHERE tenant_id = ? ORDER BY position", (T,)
                )
            ],
            policies=[
                {"position": n, "policy": json.loads(d)}
                for n, d in q(
                    "SELECT position, data FROM policy_versions WHERE tenant_id = ? "
                    "ORDER BY position",
                    (T,),
                )
            ],
            checkpoints=[
                json.loads(d)
                for (d,) in q(
                    "SELECT data FROM checkpoints WHERE tenant_id = ? ORDER BY sequence", (T,)
                )
            ],
        )
        prefix = f"tenants/{T}/users/"
        for path, record_id in q(
            "SELECT path, record_id FROM chain_slots WHERE path >= ? AND path < ?",
            (prefix, prefix + "\uffff"),
        ):
            parts = path.split("/")
            state.slots.append(
                {
                    "uid": parts[3],
                    "strategy_id": parts[5],
                    "sequence": int(parts[7]),
                    "record_id": record_id,
                }
            )
        for doc_path, attr in ((paths.audit_head(T), "head"), (paths.policy(T), "current")):
            row = q("SELECT data FROM documents WHERE path = ?", (doc_path,)).fetchone()
            setattr(state, attr, json.loads(row[0]) if row else None)
        return state
    finally:
        conn.close()


def save_sqlite(db: Path, state: State) -> None:
    """Rewrite the tenant's rows from `state`, as a DBA with file access could."""
    conn = sqlite3.connect(db)
    try:
        for table in APPEND_ONLY:
            for action in ("update", "delete"):
                conn.execute(f"DROP TRIGGER IF EXISTS {table}_no_{action}")
        q = conn.execute
        q("DELETE FROM promotion_records WHERE tenant_id = ?", (T,))
        for r in state.records:
            q(
                "INSERT INTO promotion_records VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    paths.record(T, r["record_id"]),
                    T,
                    r["uid"],
                    r["strategy_id"],
                    r["sequence"],
                    r["record_id"],
                    json.dumps(r),
                ),
            )
        prefix = f"tenants/{T}/users/"
        q("DELETE FROM chain_slots WHERE path >= ? AND path < ?", (prefix, prefix + "\uffff"))
        for s in state.slots:
            q(
                "INSERT INTO chain_slots VALUES (?, ?)",
                (paths.chain_slot(T, s["uid"], s["strategy_id"], s["sequence"]), s["record_id"]),
            )
        q("DELETE FROM documents WHERE collection = ?", (_strategies_collection(),))
        for d in state.docs:
            path = paths.strategy(T, d["uid"], d["strategy_id"])
            q(
                "INSERT INTO documents VALUES (?, ?, ?, '2026-12-02')",
                (path, _strategies_collection(), json.dumps(d)),
            )
        q("DELETE FROM audit_events WHERE tenant_id = ?", (T,))
        for e in state.events:
            q(
                "INSERT INTO audit_events (path, tenant_id, uid, strategy_id, data) "
                "VALUES (?, ?, ?, ?, ?)",
                (
                    paths.audit_event(T, e["event_id"]),
                    T,
                    e.get("uid"),
                    e.get("strategy_id"),
                    json.dumps(e),
                ),
            )
        q("DELETE FROM policy_versions WHERE tenant_id = ?", (T,))
        for p in state.policies:
            q(
                "INSERT INTO policy_versions VALUES (?, ?, ?, ?)",
                (
                    paths.policy_version(T, p["policy"]["policy_version"]),
                    T,
                    p["position"],
                    json.dumps(p["policy"]),
                ),
            )
        q("DELETE FROM checkpoints WHERE tenant_id = ?", (T,))
        for cp in state.checkpoints:
            body = cp["body"]
            q(
                "INSERT INTO checkpoints VALUES (?, ?, ?, ?)",
                (paths.checkpoint(T, body["sequence"]), T, body["sequence"], json.dumps(cp)),
            )
        for doc_path, value in (
            (paths.audit_head(T), state.head),
            (paths.policy(T), state.current),
        ):
            q("DELETE FROM documents WHERE path = ?", (doc_path,))
            if value is not None:
                q(
                    "INSERT INTO documents VALUES (?, ?, ?, '2026-12-02')",
                    (doc_path, doc_path.rsplit("/", 1)[0], json.dumps(value)),
                )
        conn.commit()
    finally:
        conn.close()


# -- bundle files ---------------------------------------------------------------------------
def _read_lines(path: Path) -> list[Json]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def _write_lines(path: Path, items: list[Json]) -> None:
    path.write_text("".join(json.dumps(i, sort_keys=True) + "\n" for i in items))


def load_bundle(bundle: Path) -> State:
    return State(
        records=_read_lines(bundle / "records.jsonl"),
        slots=_read_lines(bundle / "chain_slots.jsonl"),
        docs=_read_lines(bundle / "strategies.jsonl"),
        events=_read_lines(bundle / "audit_events.jsonl"),
        head=json.loads((bundle / "audit_head.json").read_text()),
        policies=_read_lines(bundle / "policies.jsonl"),
        current=json.loads((bundle / "current_policy.json").read_text()),
        checkpoints=_read_lines(bundle / "checkpoints.jsonl"),
    )


def save_bundle(bundle: Path, state: State) -> None:
    """Write the edited files and a manifest that matches them (as a forger would)."""
    _write_lines(bundle / "records.jsonl", state.records)
    _write_lines(bundle / "chain_slots.jsonl", state.slots)
    _write_lines(bundle / "strategies.jsonl", state.docs)
    _write_lines(bundle / "audit_events.jsonl", state.events)
    (bundle / "audit_head.json").write_text(json.dumps(state.head))
    _write_lines(bundle / "policies.jsonl", state.policies)
    (bundle / "current_policy.json").write_text(json.dumps(state.current))
    _write_lines(bundle / "checkpoints.jsonl", state.checkpoints)
    rehash_manifest(bundle)


def rehash_manifest(bundle: Path) -> None:
    manifest = json.loads((bundle / MANIFEST).read_text())
    manifest["files"] = {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(bundle.iterdir())
        if p.name != MANIFEST
    }
    (bundle / MANIFEST).write_text(json.dumps(manifest, sort_keys=True))
