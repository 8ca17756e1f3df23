"""SQLite plumbing shared by the store's parts: one connection, WAL, write transactions."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from store.sqlite_schema import SCHEMA, append_only_triggers

T = TypeVar("T")


def _now() -> str:
    return datetime.now(UTC).isoformat()


def _collection(path: str) -> str:
    return path.rsplit("/", 1)[0]


class SqliteBase:
    def __init__(self, db_path: Path | str, busy_timeout_ms: int = 30_000):
        self.db_path = Path(db_path)
        self.db_path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._conn = sqlite3.connect(
            self.db_path,
            timeout=busy_timeout_ms / 1000,
            isolation_level=None,
            check_same_thread=False,
        )
        self._conn.execute(f"PRAGMA busy_timeout = {busy_timeout_ms}")
        self._conn.execute("PRAGMA journal_mode = WAL")
        # REPLACE deletes the old row; only with recursive triggers does that fire the
        # append-only DELETE triggers, so INSERT OR REPLACE cannot rewrite history either.
        self._conn.execute("PRAGMA recursive_triggers = ON")
        # FULL: a commit reported to Temporal is on disk even if the host loses power next
        # (NORMAL in WAL mode may roll back the last transactions). Governance writes are few.
        self._conn.execute("PRAGMA synchronous = FULL")
        self._conn.executescript(SCHEMA + append_only_triggers())

    # -- plumbing -------------------------------------------------------------------------
    async def _run(self, fn: Callable[[sqlite3.Connection], T], write: bool = False) -> T:
        return await asyncio.to_thread(self._locked, fn, write)

    def _locked(self, fn: Callable[[sqlite3.Connection], T], write: bool) -> T:
        with self._lock:
            if not write:
                return fn(self._conn)
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                result = fn(self._conn)
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")
            return result

    @staticmethod
    def _get(conn: sqlite3.Connection, path: str) -> dict[str, Any] | None:
        row = conn.execute("SELECT data FROM documents WHERE path = ?", (path,)).fetchone()
        return json.loads(row[0]) if row else None

    @staticmethod
    def _set(conn: sqlite3.Connection, path: str, data: dict[str, Any]) -> None:
        conn.execute(
            "INSERT INTO documents (path, collection, data, updated_at) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (path) DO UPDATE SET "
            "data = excluded.data, updated_at = excluded.updated_at",
            (path, _collection(path), json.dumps(data, sort_keys=True), _now()),
        )

    @staticmethod
    def _set_many(conn: sqlite3.Connection, docs: list[tuple[str, dict[str, Any]]]) -> None:
        """`_set` of each (path, data), in one statement (the same rows `_set` writes)."""
        now = _now()
        conn.executemany(
            "INSERT INTO documents (path, collection, data, updated_at) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (path) DO UPDATE SET "
            "data = excluded.data, updated_at = excluded.updated_at",
            [
                (path, _collection(path), json.dumps(data, sort_keys=True), now)
                for path, data in docs
            ],
        )

    @staticmethod
    def _list(conn: sqlite3.Connection, collection: str) -> list[dict[str, Any]]:
        rows = conn.execute(
            "SELECT data FROM documents WHERE collection = ? ORDER BY path", (collection,)
        ).fetchall()
        return [json.loads(r[0]) for r in rows]
