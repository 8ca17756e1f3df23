"""`stratgate strategy register --from FILE`: a fleet from CSV or JSON lines, all or nothing."""

from __future__ import annotations

import json
from pathlib import Path

from governance.audit_chain import verify_audit_chain
from governance.onboarding import FILE_MAX_BYTES
from store.sqlite import SqliteStore
from tests.cli.support import in_store, ok, refused, sg

REGISTER = ("strategy", "register", "--tenant", "desk")


def csv_file(path: Path, n: int, bad: dict[int, str] | None = None) -> Path:
    """`n` rows; `bad` replaces a row's line (1-based data row) with the text given."""
    stages = ["OBSERVE", "shadow", "PAPER", "live"]
    lines = ["uid,strategy_id,stage,since"]
    for i in range(1, n + 1):
        line = f"quant{i % 7},s{i},{stages[i % 4]},2026-10-0{1 + i % 9}T09:30:00Z"
        lines.append((bad or {}).get(i, line))
    path.write_text("\n".join(lines) + "\n")
    return path


def stored(home: Path) -> tuple[int, list[str], bool]:
    async def read(store: SqliteStore) -> tuple[int, list[str], bool]:
        events = await store.list_audit_events("desk")
        ok_chain = verify_audit_chain(events, await store.get_audit_head("desk")).ok
        return len(await store.list_strategies("desk")), [e.event_type for e in events], ok_chain

    return in_store(home, read)


def test_a_csv_file_of_a_few_hundred_lands_each_with_its_event(tmp_path: Path) -> None:
    path = csv_file(tmp_path / "fleet.csv", 300)
    answer = ok(sg(tmp_path, *REGISTER, "--from", str(path), "--json"))
    assert answer["registered"] == 300 and answer["tenant_id"] == "desk"
    count, events, chain = stored(tmp_path)
    assert count == 300 and events == ["strategy.registered"] * 300 and chain
    shown = ok(
        sg(
            tmp_path,
            "strategy",
            "show",
            *REGISTER[2:],
            "--uid",
            "quant3",
            "--strategy",
            "s3",
            "--json",
        )
    )
    assert (
        shown["lifecycle_stage"] == "LIVE"
        and shown["last_stage_change_at"] == "2026-10-04T09:30:00Z"
    )

    async def first_event(store: SqliteStore) -> dict[str, object]:
        (event,) = await store.list_audit_events("desk", "quant3", "s3")
        return event.details

    details = in_store(tmp_path, first_event)
    assert details["batch"] == answer["batch"] and details["lifecycle_stage"] == "LIVE"
    # The same file again: recognised by its digest, nothing new written.
    again = ok(sg(tmp_path, *REGISTER, "--from", str(path), "--json"))
    assert again["batch"] == answer["batch"]
    assert stored(tmp_path)[:2] == (300, ["strategy.registered"] * 300)
    # A text answer says how many.
    other = csv_file(tmp_path / "other.csv", 2)
    text = sg(tmp_path, "strategy", "register", "--tenant", "other", "--from", str(other))
    assert text.returncode == 0 and "registered 2 strategies" in text.stdout, text.stderr


def test_a_jsonl_file_lands_too(tmp_path: Path) -> None:
    path = tmp_path / "fleet.jsonl"
    rows = [{"uid": "quant", "strategy_id": f"j{i}", "stage": "PAPER"} for i in range(20)]
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n\n")
    assert ok(sg(tmp_path, *REGISTER, "--from", str(path), "--json"))["registered"] == 20
    assert stored(tmp_path)[0] == 20


def test_a_bad_row_in_the_middle_refuses_the_whole_file(tmp_path: Path) -> None:
    cases = {
        "since": ("quant,s150,PAPER,yesterday", "rows[150].since"),
        "stage": ("quant,s150,MOON,", "rows[150].stage"),
        "uid": ("bad uid,s150,PAPER,", "rows[150].uid"),
        "future": ("quant,s150,PAPER,2999-01-01T00:00:00Z", "rows[150].since"),
        "cells": ("quant,s150,PAPER,,extra", "rows[150].row"),
        "twice": ("quant3,s3,PAPER,", "rows[150].strategy_id"),
    }
    for name, (line, field) in cases.items():
        path = csv_file(tmp_path / f"{name}.csv", 300, {150: line})
        refused(sg(tmp_path, *REGISTER, "--from", str(path)), field, "row 150")
        assert stored(tmp_path) == (0, [], True), name  # nothing written, not even an event
    # A strategy already registered (a single registration) refuses the file naming its row.
    sg(tmp_path, *REGISTER, "--uid", "quant5", "--strategy", "s12", "--stage", "PAPER")
    path = csv_file(tmp_path / "fleet.csv", 300)
    refused(
        sg(tmp_path, *REGISTER, "--from", str(path)), "rows[12].strategy_id", "already registered"
    )
    assert stored(tmp_path) == (1, ["strategy.registered"], True)


def test_files_that_are_not_a_fleet_are_refused(tmp_path: Path) -> None:
    header = tmp_path / "header.csv"
    header.write_text("uid,strategy,stage\nq,s,PAPER\n")
    refused(sg(tmp_path, *REGISTER, "--from", str(header)), "header", "strategy_id")
    refused(sg(tmp_path, *REGISTER, "--from", str(tmp_path / "none.csv")), "file")
    wrong = tmp_path / "fleet.xlsx"
    wrong.write_text("x")
    refused(sg(tmp_path, *REGISTER, "--from", str(wrong)), "file", ".csv or .jsonl")
    big = tmp_path / "big.csv"
    big.write_bytes(b"uid,strategy_id,stage,since\n" + b"#" * FILE_MAX_BYTES)
    refused(sg(tmp_path, *REGISTER, "--from", str(big)), "file", "limit")
    jsonl = tmp_path / "bad.jsonl"
    jsonl.write_text('{"uid": "q", "strategy_id": "a", "stage": "PAPER"}\n[1, 2]\n')
    refused(sg(tmp_path, *REGISTER, "--from", str(jsonl)), "rows[2].row")
    both = sg(tmp_path, *REGISTER, "--uid", "q", "--from", str(jsonl))
    refused(both, "--from")
    assert stored(tmp_path) == (0, [], True)
