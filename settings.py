"""Configuration from the environment, shared by the worker, the CLI and the API.

STRATGATE_HOME        data directory (default: the user's data dir) holding everything we keep
STRATGATE_DB          SQLite database path (default: $STRATGATE_HOME/stratgate.db)
STRATGATE_STORE       sqlite | firestore
FIRESTORE_PROJECT     Firestore project id (firestore store; default: the Google client's own
                      resolution, GOOGLE_CLOUD_PROJECT then application default credentials)
FIRESTORE_EMULATOR_HOST  host:port of a Firestore emulator (read by google-cloud-firestore)
TEMPORAL_ADDRESS      host:port of the Temporal frontend (default: the embedded stack's)
TEMPORAL_NAMESPACE    Temporal namespace (default: default)
STRATGATE_TASK_QUEUE  task queue of the worker (default: stratgate)
STRATGATE_EVIDENCE_DIR  evidence root (default: $STRATGATE_HOME/evidence)
STRATGATE_EVIDENCE_SOURCE  files | firestore: where shadow fills and paper orders are read
                      (firestore: the platform's shadowTradeHistory and paper_orders; signal
                      evaluations and risk events are files either way)
STRATGATE_ENV         env name in each record's runtime_fingerprint (default: embedded)
STRATGATE_GIT_SHA     git sha in each record's runtime_fingerprint (default: read from git)
STRATGATE_OIDC_ISSUER, STRATGATE_OIDC_AUDIENCE, STRATGATE_OIDC_JWKS_URL
                      verify OIDC JWT bearer tokens (production) besides stratgate's own tokens
STRATGATE_TEMPORAL_UI_URL  the Temporal Web UI the approver UI links workflows to (default: the
                      running `stratgate up`'s, from stack.json; unset elsewhere: no link)
STRATGATE_CHECKPOINT_KEY  Ed25519 key signing checkpoints (base64 of the raw 32 bytes; default
                      $STRATGATE_HOME/checkpoint.key, made on first use)
STRATGATE_CHECKPOINT_PUBLIC_KEYS  earlier checkpoint public keys still trusted (comma-separated
                      base64), kept after a rotation and published with every export
STRATGATE_CHECKPOINT_INTERVAL_SECONDS  period of the worker's checkpoint schedule (default 3600)
STRATGATE_CHECKPOINT_TENANTS  tenants the schedule checkpoints (comma-separated; none: no schedule)
STRATGATE_MAX_CACHED_WORKFLOWS, STRATGATE_MAX_CONCURRENT_WORKFLOW_TASKS,
STRATGATE_MAX_CONCURRENT_ACTIVITIES  the worker's bounds (see WorkerBounds)
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict

import data_dirs

ENV_NAMES = (
    "STRATGATE_HOME",
    "STRATGATE_DB",
    "STRATGATE_STORE",
    "FIRESTORE_PROJECT",
    "FIRESTORE_EMULATOR_HOST",
    "TEMPORAL_ADDRESS",
    "TEMPORAL_NAMESPACE",
    "STRATGATE_TASK_QUEUE",
    "STRATGATE_EVIDENCE_DIR",
    "STRATGATE_EVIDENCE_SOURCE",
    "STRATGATE_ENV",
    "STRATGATE_GIT_SHA",
    "STRATGATE_OIDC_ISSUER",
    "STRATGATE_OIDC_AUDIENCE",
    "STRATGATE_OIDC_JWKS_URL",
    "STRATGATE_TEMPORAL_UI_URL",
    "STRATGATE_CHECKPOINT_KEY",
    "STRATGATE_CHECKPOINT_PUBLIC_KEYS",
    "STRATGATE_CHECKPOINT_INTERVAL_SECONDS",
    "STRATGATE_CHECKPOINT_TENANTS",
    "STRATGATE_MAX_CACHED_WORKFLOWS",
    "STRATGATE_MAX_CONCURRENT_WORKFLOW_TASKS",
    "STRATGATE_MAX_CONCURRENT_ACTIVITIES",
)


class WorkerBounds(BaseModel):
    """What one worker holds at once, so its memory does not grow with the waiting fleet.

    A promotion waiting out its window (or its approvals) costs nothing while evicted: its
    history is on the Temporal server, and a signal or update replays it into the cache. The
    cache is what grows, so it is bounded (Temporal's default is 1,000). Workflow tasks at once
    are bounded too (Temporal's default is 100): a task replaying an evicted run costs CPU in
    this one process, and 100 of them at once on a small machine took over Temporal's 10 s
    workflow task timeout and were retried. See docs/scale.md for what was measured.
    """

    model_config = ConfigDict(frozen=True)

    max_cached_workflows: int = 250
    max_concurrent_workflow_tasks: int = 20
    max_concurrent_activities: int = 100


# (variable, field, lowest, highest): Temporal needs two workflow task slots once it caches.
_BOUNDS = (
    ("STRATGATE_MAX_CACHED_WORKFLOWS", "max_cached_workflows", 0, 100_000),
    ("STRATGATE_MAX_CONCURRENT_WORKFLOW_TASKS", "max_concurrent_workflow_tasks", 2, 10_000),
    ("STRATGATE_MAX_CONCURRENT_ACTIVITIES", "max_concurrent_activities", 1, 10_000),
)


def worker_bounds(env: Mapping[str, str]) -> WorkerBounds:
    """The bounds the environment sets, each refused naming its variable when it is not a
    whole number in range."""
    values: dict[str, int] = {}
    for name, field, low, high in _BOUNDS:
        raw = env.get(name, "").strip()
        if not raw:
            continue
        try:
            value = int(raw)
        except ValueError:
            raise ValueError(f"{name}: expected a whole number, got {raw!r}") from None
        if not low <= value <= high:
            raise ValueError(f"{name}: expected {low} to {high}, got {value}")
        values[field] = value
    return WorkerBounds(**values)


class Settings(BaseModel):
    model_config = ConfigDict(frozen=True)

    home: Path
    db_path: Path
    store: Literal["sqlite", "firestore"] = "sqlite"
    firestore_project: str | None = None
    firestore_emulator_host: str | None = None
    temporal_address: str | None = None
    temporal_namespace: str = "default"
    task_queue: str = "stratgate"
    evidence_dir: Path
    evidence_source: Literal["files", "firestore"] = "files"
    env: str = "embedded"
    git_sha: str | None = None
    oidc_issuer: str | None = None
    oidc_audience: str = "stratgate"
    oidc_jwks_url: str | None = None
    # Ed25519 keys of approval assertions (base64 of the raw 32 bytes). Unset, the embedded
    # stack keeps one in $STRATGATE_HOME/assertion.key, made on first use.
    assertion_key: str | None = None
    assertion_public_keys: list[str] = []
    temporal_ui_url: str | None = None
    # Ed25519 key of signed checkpoints, same form; the old public keys stay trusted.
    checkpoint_key: str | None = None
    checkpoint_public_keys: list[str] = []
    checkpoint_interval_seconds: int = 3600
    checkpoint_tenants: list[str] = []
    worker_bounds: WorkerBounds = WorkerBounds()

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        home = data_dirs.home(env)
        store = env.get("STRATGATE_STORE", "sqlite").strip().lower()
        if store not in ("sqlite", "firestore"):
            raise ValueError(f"STRATGATE_STORE: expected sqlite or firestore, got {store!r}")
        source = env.get("STRATGATE_EVIDENCE_SOURCE", "files").strip().lower()
        if source not in ("files", "firestore"):
            raise ValueError(
                f"STRATGATE_EVIDENCE_SOURCE: expected files or firestore, got {source!r}"
            )
        return cls(
            home=home,
            db_path=Path(env.get("STRATGATE_DB") or home / "stratgate.db"),
            store=store,
            firestore_project=env.get("FIRESTORE_PROJECT") or None,
            firestore_emulator_host=env.get("FIRESTORE_EMULATOR_HOST") or None,
            temporal_address=env.get("TEMPORAL_ADDRESS") or None,
            temporal_namespace=env.get("TEMPORAL_NAMESPACE", "default"),
            task_queue=env.get("STRATGATE_TASK_QUEUE", "stratgate"),
            evidence_dir=data_dirs.evidence_dir(env),
            evidence_source=source,
            env=env.get("STRATGATE_ENV", "embedded"),
            git_sha=env.get("STRATGATE_GIT_SHA") or None,
            oidc_issuer=env.get("STRATGATE_OIDC_ISSUER") or None,
            oidc_audience=env.get("STRATGATE_OIDC_AUDIENCE", "stratgate"),
            oidc_jwks_url=env.get("STRATGATE_OIDC_JWKS_URL") or None,
            assertion_key=env.get("STRATGATE_ASSERTION_KEY") or None,
            assertion_public_keys=[
                k.strip()
                for k in env.get("STRATGATE_ASSERTION_PUBLIC_KEYS", "").split(",")
                if k.strip()
            ],
            temporal_ui_url=env.get("STRATGATE_TEMPORAL_UI_URL") or None,
            checkpoint_key=env.get("STRATGATE_CHECKPOINT_KEY") or None,
            checkpoint_public_keys=[
                k.strip()
                for k in env.get("STRATGATE_CHECKPOINT_PUBLIC_KEYS", "").split(",")
                if k.strip()
            ],
            checkpoint_interval_seconds=int(
                env.get("STRATGATE_CHECKPOINT_INTERVAL_SECONDS") or 3600
            ),
            checkpoint_tenants=[
                t.strip()
                for t in env.get("STRATGATE_CHECKPOINT_TENANTS", "").split(",")
                if t.strip()
            ],
            worker_bounds=worker_bounds(env),
        )
