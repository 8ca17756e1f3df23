"""The SQLite schema. Records, audit events, chain slots and policy versions are append-only,
enforced by the database itself with triggers, so no code path (ours or a stray UPDATE) can
rewrite history."""

from __future__ import annotations

APPEND_ONLY = (
    "promotion_records",
    "audit_events",
    "chain_slots",
    "policy_versions",
    "risk_events",
    "checkpoints",
    "policy_approvals",
)

SCHEMA = """
CREATE TABLE IF NOT EXISTS documents (
    path        TEXT PRIMARY KEY,
    collection  TEXT NOT NULL,
    data        TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS documents_by_collection ON documents (collection);

CREATE TABLE IF NOT EXISTS policy_versions (
    path        TEXT PRIMARY KEY,
    tenant_id   TEXT NOT NULL,
    position    INTEGER NOT NULL,
    data        TEXT NOT NULL,
    UNIQUE (tenant_id, position)
);

CREATE TABLE IF NOT EXISTS chain_slots (
    path        TEXT PRIMARY KEY,
    record_id   TEXT NOT NULL
);

CREATE TABLE IF NOT EXISTS promotion_records (
    path        TEXT PRIMARY KEY,
    tenant_id   TEXT NOT NULL,
    uid         TEXT NOT NULL,
    strategy_id TEXT NOT NULL,
    sequence    INTEGER NOT NULL,
    record_id   TEXT NOT NULL,
    data        TEXT NOT NULL,
    UNIQUE (tenant_id, uid, strategy_id, sequence)
);

CREATE TABLE IF NOT EXISTS audit_events (
    position    INTEGER PRIMARY KEY AUTOINCREMENT,
    path        TEXT NOT NULL UNIQUE,
    tenant_id   TEXT NOT NULL,
    uid         TEXT,
    strategy_id TEXT,
    data        TEXT NOT NULL
);

CREATE TABLE IF NOT EXISTS risk_events (
    position    INTEGER PRIMARY KEY AUTOINCREMENT,
    path        TEXT NOT NULL UNIQUE,
    tenant_id   TEXT NOT NULL,
    uid         TEXT NOT NULL,
    strategy_id TEXT NOT NULL,
    data        TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS checkpoints (
    path        TEXT PRIMARY KEY,
    tenant_id   TEXT NOT NULL,
    sequence    INTEGER NOT NULL,
    data        TEXT NOT NULL,
    UNIQUE (tenant_id, sequence)
);

CREATE INDEX IF NOT EXISTS risk_events_by_strategy ON risk_events (tenant_id, uid, strategy_id);

CREATE TABLE IF NOT EXISTS policy_approvals (
    position    INTEGER PRIMARY KEY AUTOINCREMENT,
    path        TEXT NOT NULL UNIQUE,
    tenant_id   TEXT NOT NULL,
    proposal_id TEXT NOT NULL,
    data        TEXT NOT NULL
);
"""


# INSERT OR REPLACE would delete an old row to make room; refuse it before it happens, on any
# connection (delete triggers fire on REPLACE only when a connection enables recursive_triggers).
_CLASHES = {
    "promotion_records": "path = NEW.path OR (tenant_id = NEW.tenant_id AND uid = NEW.uid "
    "AND strategy_id = NEW.strategy_id AND sequence = NEW.sequence)",
    "audit_events": "path = NEW.path OR position = NEW.position",
    "chain_slots": "path = NEW.path",
    "policy_versions": "path = NEW.path OR (tenant_id = NEW.tenant_id AND position = NEW.position)",
    "risk_events": "path = NEW.path OR position = NEW.position",
    "checkpoints": "path = NEW.path OR (tenant_id = NEW.tenant_id AND sequence = NEW.sequence)",
    "policy_approvals": "path = NEW.path OR position = NEW.position",
}


def append_only_triggers() -> str:
    statements = [
        f"CREATE TRIGGER IF NOT EXISTS {table}_no_overwrite BEFORE INSERT ON {table} "
        f"WHEN EXISTS (SELECT 1 FROM {table} WHERE {clash}) BEGIN "
        f"SELECT RAISE(ABORT, '{table} are append-only: overwrite refused'); END;"
        for table, clash in _CLASHES.items()
    ]
    for table in APPEND_ONLY:
        for action in ("UPDATE", "DELETE"):
            statements.append(
                f"CREATE TRIGGER IF NOT EXISTS {table}_no_{action.lower()} "
                f"BEFORE {action} ON {table} BEGIN "
                f"SELECT RAISE(ABORT, '{table} are append-only: {action} refused'); END;"
            )
    return "\n".join(statements)
