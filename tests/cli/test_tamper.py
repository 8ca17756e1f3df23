"""Issue 15's 36 tamper cases, every one detected: by `records verify` on a real SQLite store
whose rows were rewritten behind stratgate's back, and by `records verify-export` on an exported
bundle edited on disk (manifest rewritten too). Also: checkpoint signatures refuse a wrong key,
an edited root and an edited count."""

from __future__ import annotations

import asyncio
import base64
import json
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from app import ledger
from app.ports import Ports
from app.signing import checkpoint_key
from governance.bundle import verify_bundle
from governance.checkpoint import Checkpoint, key_id, public_key_b64, signature_problem
from governance.identity import Principal
from governance.ledger import LedgerVerification
from governance.policy import default_policy
from governance.records import AuditEvent
from governance.registration import strategy_registration
from governance.stages import Decision
from governance.stages import LifecycleStage as S
from settings import Settings
from store.sqlite import SqliteStore
from tests.cli import tamper_cases as tc
from tests.cli.support import sg
from tests.store_contract.helpers import change

T = tc.T
NOW = datetime(2026, 11, 25, 15, tzinfo=UTC)
WHO = Principal.local_operator(T, "auditor")


def _key(home: Path) -> Ed25519PrivateKey:
    return checkpoint_key(Settings.from_env({"STRATGATE_HOME": str(home)}))


def _ports(home: Path, store: SqliteStore) -> Ports:
    key = _key(home)
    return Ports(
        store=store,
        client=None,
        task_queue="unused",
        checkpoint_signer=lambda: key,
        checkpoint_keys=lambda: [key.public_key()],
        now=lambda: NOW,
    )


async def _seed(home: Path) -> None:
    store = SqliteStore(home / "stratgate.db")
    ports = _ports(home, store)
    try:
        for version in ("v1", "v2", "v3"):
            await store.put_policy(T, default_policy(version))
        for sid in ("s1", "s2", "s3"):
            doc, event = strategy_registration(T, "quant", sid, S.OBSERVE, NOW - timedelta(1), NOW)
            await store.register_strategy(doc, event)

        async def step(sid: str, to: S, decision: Decision = Decision.PROMOTE) -> None:
            doc = await store.get_strategy(T, "quant", sid)
            assert doc is not None
            await store.commit_stage_change(change(doc, to, decision))

        await step("s1", S.SHADOW)
        await step("s1", S.OBSERVE, Decision.DEMOTE)
        await step("s1", S.SHADOW)
        await step("s2", S.SHADOW)
        for n in range(2):
            await store.append_audit_event(
                AuditEvent(event_id=f"note-{n}", event_type="note", ts=NOW, tenant_id=T)
            )
        await ledger.checkpoint(ports, WHO, tenant_id=T)
        await step("s2", S.OBSERVE, Decision.DEMOTE)
        await ledger.checkpoint(ports, WHO, tenant_id=T)
        await store.append_audit_event(
            AuditEvent(event_id="after", event_type="note", ts=NOW, tenant_id=T)
        )
    finally:
        await store.close()


async def _export(home: Path, out: Path) -> None:
    store = SqliteStore(home / "stratgate.db")
    try:
        files = await ledger.export_bundle(_ports(home, store), WHO, tenant_id=T)
    finally:
        await store.close()
    out.mkdir()
    for name, data in files.items():
        (out / name).write_bytes(data)


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("tamper-template")
    asyncio.run(_seed(home))
    asyncio.run(_export(home, home / "bundle"))
    return home


def _copy(template: Path, dest: Path) -> Path:
    shutil.copytree(template, dest)
    return dest


def _verify_store(home: Path) -> LedgerVerification:
    async def go() -> LedgerVerification:
        store = SqliteStore(home / "stratgate.db")
        try:
            return await ledger.verify_tenant(
                _ports(home, store), WHO, tenant_id=T, uid=None, strategy_id=None
            )
        finally:
            await store.close()

    return asyncio.run(go())


def _verify_bundle(home: Path) -> LedgerVerification:
    bundle = home / "bundle"
    files = {p.name: p.read_bytes() for p in bundle.iterdir()}
    key = _key(home).public_key()
    return verify_bundle(files, {key_id(key): key})


def _why(result: LedgerVerification) -> str:
    broken = [f"{n}: {v.reason}" for n, v in result.chains.items() if not v.ok]
    return "; ".join([*broken, *(f"{f.kind} {f.subject}: {f.reason}" for f in result.findings)])


def test_the_untouched_ledger_verifies_in_the_store_and_in_the_bundle(template: Path) -> None:
    for result in (_verify_store(template), _verify_bundle(template)):
        assert result.ok, _why(result)
        assert result.checkpoints == 2
        # 3 registrations, 5 stage changes, 3 notes, 2 checkpoints
        assert result.audit.checked == 13 and result.audit.legacy_unchained == 0


def _run_cases(template: Path, tmp_path: Path, backend: str) -> None:
    detected: dict[str, str] = {}
    missed: list[str] = []
    for n, (name, tamper) in enumerate(tc.CASES.items()):
        home = _copy(template, tmp_path / f"case-{n}")
        if backend == "store":
            state = tc.load_sqlite(home / "stratgate.db")
            tamper(state)
            tc.save_sqlite(home / "stratgate.db", state)
            result = _verify_store(home)
        else:
            state = tc.load_bundle(home / "bundle")
            tamper(state)
            tc.save_bundle(home / "bundle", state)
            result = _verify_bundle(home)
        if result.ok:
            missed.append(name)
        else:
            detected[name] = _why(result)
    total = len(tc.CASES)
    print(f"\n{backend}: {len(detected)} of {total} tamper cases detected")
    for name, why in detected.items():
        print(f"  {name}: {why[:160]}")
    assert total == 36
    assert not missed, f"{backend}: undetected: {missed}"


def test_records_verify_detects_all_36_tamper_cases(template: Path, tmp_path: Path) -> None:
    _run_cases(template, tmp_path, "store")


def test_verify_export_detects_all_36_tamper_cases(template: Path, tmp_path: Path) -> None:
    _run_cases(template, tmp_path, "bundle")


def _only_checkpoint_catches(state: tc.State, forge_events: bool) -> None:
    """Also rewrite the audit trail to agree, so nothing but a signed checkpoint disagrees."""
    if forge_events:
        for e in state.events:
            rid = e["details"].get("promotion_record_id")
            match = [r for r in state.records if r["record_id"] == rid]
            if match:
                e["details"]["record_hash"] = match[0]["record_hash"]
            elif rid is not None and e["event_type"].startswith("strategy."):
                state.events.remove(e)
        for n, e in enumerate(state.events, start=1):
            e["audit_sequence"] = n
        tc.relink_events(state, 1)


@pytest.mark.parametrize("cut", ["truncate", "rehash"])
def test_a_chain_cut_short_or_rehashed_whole_fails_against_an_earlier_checkpoint(
    template: Path, tmp_path: Path, cut: str
) -> None:
    for backend in ("store", "bundle"):
        home = _copy(template, tmp_path / f"{cut}-{backend}")
        db, bundle = home / "stratgate.db", home / "bundle"
        state = tc.load_sqlite(db) if backend == "store" else tc.load_bundle(bundle)
        (tc._rec_truncate if cut == "truncate" else tc._rec_rehash)(state)
        _only_checkpoint_catches(state, forge_events=True)
        if backend == "store":
            tc.save_sqlite(db, state)
            result = _verify_store(home)
        else:
            tc.save_bundle(bundle, state)
            result = _verify_bundle(home)
        assert not result.ok
        kinds = {f.kind for f in result.findings}
        assert kinds == {"checkpoint"}, _why(result)
        assert all(v.ok for v in result.chains.values()), _why(result)
        expected = "cut short" if cut == "truncate" else "rehashed"
        assert any("quant/s1" in f.reason and expected in f.reason for f in result.findings)


def test_checkpoint_signatures_refuse_a_wrong_key_an_edited_root_and_an_edited_count(
    template: Path,
) -> None:
    cp = Checkpoint.model_validate_json(
        (template / "bundle" / "checkpoints.jsonl").read_text().splitlines()[-1]
    )
    key = _key(template).public_key()
    keys = {key_id(key): key}
    assert signature_problem(cp, keys) is None
    other = Ed25519PrivateKey.generate().public_key()
    assert "not among the published" in (signature_problem(cp, {key_id(other): other}) or "")
    impostor = {cp.body.key_id: other}  # a wrong key published under the right id
    assert "does not verify" in (signature_problem(cp, impostor) or "")
    edited_root = cp.model_copy(update={"body": cp.body.model_copy(update={"merkle_root": "00"})})
    assert "does not verify" in (signature_problem(edited_root, keys) or "")
    edited_count = cp.model_copy(
        update={"body": cp.body.model_copy(update={"records": cp.body.records + 1})}
    )
    assert "does not verify" in (signature_problem(edited_count, keys) or "")
    dropped_leaf = cp.model_copy(update={"leaves": cp.leaves[1:]})
    assert "merkle_root" in (signature_problem(dropped_leaf, keys) or "")


def test_the_cli_verifies_an_export_with_no_database(template: Path, tmp_path: Path) -> None:
    home = _copy(template, tmp_path / "cli")
    public = public_key_b64(_key(home).public_key())
    (home / "public.key").write_text(public)
    nowhere = tmp_path / "no-database-here"
    clean = sg(nowhere, "records", "verify-export", str(home / "bundle"), "--public-key", public)
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert "audit chain: 13 events, ok" in clean.stdout and "checkpoints: 2" in clean.stdout
    assert not (nowhere / "stratgate.db").exists()
    state = tc.load_bundle(home / "bundle")
    tc._doc_edit(state)
    tc.save_bundle(home / "bundle", state)
    broken = sg(
        nowhere,
        "records",
        "verify-export",
        str(home / "bundle"),
        "--public-key",
        str(home / "public.key"),
    )
    assert broken.returncode == 1
    assert "the strategy document says PAPER" in broken.stdout
    as_json = json.loads(
        sg(
            nowhere,
            "records",
            "verify-export",
            str(home / "bundle"),
            "--public-key",
            public,
            "--json",
        ).stdout
    )
    assert as_json["ok"] is False and not as_json["chains"]["quant/s1"]["ok"]
    bad_key = sg(nowhere, "records", "verify-export", str(home / "bundle"), "--public-key", "x")
    assert bad_key.returncode == 2 and "--public-key" in bad_key.stderr


def test_records_verify_names_a_document_edited_to_paper(template: Path, tmp_path: Path) -> None:
    home = _copy(template, tmp_path / "doc")
    assert sg(home, "records", "verify", "--tenant", T).returncode == 0
    state = tc.load_sqlite(home / "stratgate.db")
    tc._doc_edit(state)
    tc.save_sqlite(home / "stratgate.db", state)
    verify = sg(home, "records", "verify", "--tenant", T)
    assert verify.returncode == 1
    assert "quant/s1: 3 records, BROKEN" in verify.stdout
    assert "the strategy document says PAPER, its last record" in verify.stdout
    assert "quant/s1" in verify.stderr


def test_export_and_checkpoint_commands(template: Path, tmp_path: Path) -> None:
    home = _copy(template, tmp_path / "export")
    made = sg(home, "records", "checkpoint", "--tenant", T)
    assert made.returncode == 0 and "checkpoint #3" in made.stdout
    out = tmp_path / "bundle-out"
    exported = sg(home, "records", "export", "--tenant", T, "--out", str(out))
    assert exported.returncode == 0, exported.stderr
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["tenant_id"] == T and "records.jsonl" in manifest["files"]
    keys = json.loads((out / "public_keys.json").read_text())
    assert keys == [
        {
            "key_id": key_id(_key(home).public_key()),
            "public_key": public_key_b64(_key(home).public_key()),
        }
    ]
    assert len((out / "checkpoints.jsonl").read_text().splitlines()) == 4  # export signs one
    again = sg(home, "records", "export", "--tenant", T, "--out", str(out))
    assert again.returncode == 2 and "not empty" in again.stderr
    public = keys[0]["public_key"]
    assert (
        sg(tmp_path, "records", "verify-export", str(out), "--public-key", public).returncode == 0
    )
    # A rotated key: old checkpoints keep verifying when the old public key is still trusted.
    rotated = Ed25519PrivateKey.generate()
    raw = base64.b64encode(rotated.private_bytes_raw()).decode()
    env = {"STRATGATE_CHECKPOINT_KEY": raw, "STRATGATE_CHECKPOINT_PUBLIC_KEYS": public}
    assert sg(home, "records", "checkpoint", "--tenant", T, **env).returncode == 0
    assert sg(home, "records", "verify", "--tenant", T, **env).returncode == 0
    only_new = {"STRATGATE_CHECKPOINT_KEY": raw}
    refused = sg(home, "records", "verify", "--tenant", T, **only_new)
    assert refused.returncode == 1 and "not among the published public keys" in refused.stdout
