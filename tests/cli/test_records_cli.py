"""`stratgate records`: listing, and verification that names an altered record."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from governance.policy import default_policy
from governance.records import PromotionRecord
from governance.registration import strategy_registration
from governance.stages import Decision
from governance.stages import LifecycleStage as S
from store.sqlite import SqliteStore
from tests.cli.support import in_store, ok, refused, sg
from tests.store_contract.helpers import NOW, change


def seed_chain(home: Path, steps: int = 3) -> list[PromotionRecord]:
    async def seed(store: SqliteStore) -> list[PromotionRecord]:
        await store.put_policy("demo", default_policy("v1"))  # the version the records cite
        for sid in ("s1", "s2"):
            await store.register_strategy(
                *strategy_registration("demo", "quant", sid, S.OBSERVE, NOW, NOW)
            )
        for _ in range(steps):
            now = await store.get_strategy("demo", "quant", "s1")
            assert now is not None
            up = now.lifecycle_stage == S.OBSERVE
            to, decision = (S.SHADOW, Decision.PROMOTE) if up else (S.OBSERVE, Decision.DEMOTE)
            await store.commit_stage_change(change(now, to, decision))
        return await store.list_records("demo", "quant", "s1")

    records: list[PromotionRecord] = in_store(home, seed)
    return records


def tamper(home: Path, sql: str, *params: str, trigger: str = "no_update") -> None:
    conn = sqlite3.connect(home / "stratgate.db")
    conn.execute(f"DROP TRIGGER promotion_records_{trigger}")  # an attacker with file access
    conn.execute(sql, params)
    conn.commit()
    conn.close()


def test_records_list_and_verify(tmp_path: Path) -> None:
    records = seed_chain(tmp_path)
    listed = ok(sg(tmp_path, "records", "list", "--tenant", "demo", "--json"))
    assert [r["record_id"] for r in listed] == [r.record_id for r in records]
    assert "quant/s1" in sg(tmp_path, "records", "list", "--tenant", "demo").stdout
    verified = sg(tmp_path, "records", "verify", "--tenant", "demo")
    assert verified.returncode == 0 and "quant/s1: 3 records, ok" in verified.stdout
    assert "quant/s2: 0 records, ok" in verified.stdout
    one = ok(
        sg(
            tmp_path,
            "records",
            "verify",
            "--tenant",
            "demo",
            "--uid",
            "quant",
            "--strategy",
            "s1",
            "--json",
        )
    )
    assert one["chains"] == {
        "quant/s1": {"ok": True, "checked": 3, "first_broken_record_id": None, "reason": None}
    }
    assert one["ok"] is True and one["audit"]["checked"] == 5 and one["findings"] == []
    refused(
        sg(tmp_path, "records", "verify", "--tenant", "demo", "--uid", "x", "--strategy", "y"),
        "x/y",
        "not registered",
    )


def test_records_verify_names_an_altered_record(tmp_path: Path) -> None:
    victim = seed_chain(tmp_path)[1].record_id
    tamper(
        tmp_path,
        "UPDATE promotion_records SET data = replace(data, '\"contract\"', '\"innocent\"') "
        "WHERE record_id = ?",
        victim,
    )
    verify = sg(tmp_path, "records", "verify", "--tenant", "demo")
    assert verify.returncode == 1, verify.stdout
    assert f"quant/s1: 2 records, BROKEN at record {victim}: record_hash" in verify.stdout
    assert "quant/s1" in verify.stderr and "quant/s2: 0 records, ok" in verify.stdout
    as_json = sg(tmp_path, "records", "verify", "--tenant", "demo", "--json")
    assert json.loads(as_json.stdout)["chains"]["quant/s1"]["first_broken_record_id"] == victim
    assert as_json.returncode == 1


def test_records_verify_names_a_record_that_no_longer_parses(tmp_path: Path) -> None:
    victim = seed_chain(tmp_path)[0].record_id
    tamper(
        tmp_path,
        'UPDATE promotion_records SET data = replace(data, \'"to_stage":"SHADOW"\', '
        '\'"to_stage":"MOON"\') WHERE record_id = ?',
        victim,
    )
    verify = sg(tmp_path, "records", "verify", "--tenant", "demo")
    assert verify.returncode == 1 and f"BROKEN at record {victim}" in verify.stdout
    assert "no longer parses" in verify.stdout
    listing = sg(tmp_path, "records", "list", "--tenant", "demo")
    refused(listing, victim, "record_corrupt")


def test_records_verify_finds_a_chain_cut_short(tmp_path: Path) -> None:
    records = seed_chain(tmp_path)
    tamper(
        tmp_path,
        "DELETE FROM promotion_records WHERE record_id = ?",
        records[-1].record_id,
        trigger="no_delete",
    )
    verify = sg(tmp_path, "records", "verify", "--tenant", "demo")
    assert verify.returncode == 1 and "chain head" in verify.stdout
    assert records[-1].record_id in verify.stdout


def test_records_verify_finds_records_of_a_strategy_removed_from_the_registry(
    tmp_path: Path,
) -> None:
    records = seed_chain(tmp_path)
    conn = sqlite3.connect(tmp_path / "stratgate.db")
    conn.execute("DELETE FROM documents WHERE path LIKE '%/strategies/s1'")  # not append-only
    conn.commit()
    conn.close()
    verify = sg(tmp_path, "records", "verify", "--tenant", "demo")
    assert verify.returncode == 1 and "not in the registry" in verify.stdout
    assert records[-1].record_id in verify.stdout
