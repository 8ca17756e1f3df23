"""Policy what-if benchmark: `stratgate policy what-if` on 1,000 strategies with stored evidence.

Built once under `$STRATGATE_HOME/bench/what_if/n{N}/` (a SQLite store and evidence files, as
the embedded stack keeps them): N strategies with synthetic evidence (8 sessions, 20 symbols,
4,000 signal evaluations, 80 fills, 48 orders each), written in two parts: the first five
sessions, on which every other strategy eligible then is promoted to SHADOW with a record citing
them (its report kept in the report store, as the workflow keeps it), then three more.
Then, each in a fresh process (wall time, CPU time and peak RSS from wait4):

- `stratgate policy what-if --tenant bench candidate.yaml --json` (ic_mean_min raised): per
  strategy its next transition under the current policy and the candidate, plus each past
  promotion re-evaluated on its cited evidence;
- the baseline: the current policy's evaluation of every strategy's next transition in one
  process (what re-evaluating the tenant costs: one report per strategy);
- one `stratgate evidence report` (one strategy, one process), times N: the same answers
  asked one command at a time.

    .venv/bin/python -m bench what_if [--strategies 1000]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

TENANT = "bench"


def run(args: list[str], env: dict[str, str]) -> tuple[float, float, float, str]:
    """(wall seconds, CPU seconds, peak RSS in MiB, stdout) of one fresh process."""
    start = time.perf_counter()
    process = subprocess.Popen(args, stdout=subprocess.PIPE, env=env)
    assert process.stdout is not None
    out = process.stdout.read().decode()
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{' '.join(args[:4])} ... failed")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="bench what_if")
    parser.add_argument("--strategies", type=int, default=1000)
    args = parser.parse_args(argv)
    from settings import Settings

    home = Settings.from_env().home / "bench" / "what_if" / f"n{args.strategies}"
    env = {
        **os.environ,
        "STRATGATE_HOME": str(home),
        "STRATGATE_STORE": "sqlite",
        "STRATGATE_EVIDENCE_SOURCE": "files",
    }
    for name in ("STRATGATE_DB", "STRATGATE_EVIDENCE_DIR"):
        env.pop(name, None)
    me = [sys.executable, "-m", "bench.what_if"]
    if not (home / "built").exists():
        wall, _, _, out = run([*me, "build", str(home), str(args.strategies)], env)
        print(out.strip())
        print(f"built {args.strategies} strategies with evidence in {wall:.1f} s under {home}")
    candidate = home / "candidate.yaml"
    stratgate = str(Path(sys.executable).with_name("stratgate"))
    report_cmd = [stratgate, "evidence", "report", "--tenant", TENANT, "--uid", "quant"]

    base_wall, base_cpu, base_rss, base_out = run([*me, "current", str(home)], env)
    baseline = json.loads(base_out.strip().splitlines()[-1])
    one_wall, one_cpu, one_rss, _ = run(
        [*report_cmd, "--strategy", "s0001", "--to", "SHADOW", "--json"],
        env,
    )
    wall, cpu, rss, out = run(
        [stratgate, "policy", "what-if", "--tenant", TENANT, str(candidate), "--json"], env
    )
    result = json.loads(out)
    flips = sum(1 for s in result["strategies"] if s["flips"])
    fails = sum(1 for r in result["records"] if not r["would_pass"])
    n, records = len(result["strategies"]), len(result["records"])
    print(f"what-if on {n} strategies and {records} past promotions (machine shared):")
    print(f"  {'':<58}{'wall s':>9}{'CPU s':>9}{'peak RSS':>11}")
    rows = [
        ("stratgate policy what-if (fresh process)", wall, cpu, rss),
        ("baseline: current-policy evaluation of all, one process", base_wall, base_cpu, base_rss),
        ("one stratgate evidence report (fresh process)", one_wall, one_cpu, one_rss),
    ]
    for name, w, c, r in rows:
        print(f"  {name:<58}{w:>9.2f}{c:>9.2f}{r:>7.0f} MiB")
    print(
        f"  answers: {flips} strategies change verdict, {fails} past promotions would not "
        f"have passed; the baseline made {baseline['evaluations']} evaluations"
    )
    print(
        f"  what-if / baseline: {wall / base_wall:.2f}x wall, {cpu / base_cpu:.2f}x CPU (it "
        f"builds {2 * n + records} reports to the baseline's {baseline['evaluations']}); "
        f"what-if / ({n} x one evidence report): {wall / (n * one_wall):.3f}x wall; "
        f"{1000 * wall / n:.1f} ms wall, {1000 * cpu / n:.1f} ms CPU per strategy"
    )


# -- steps, each run in its own process ------------------------------------------------------


def build(home: str, count: str) -> None:
    """N strategies with evidence; every other one promoted to SHADOW midway (when eligible)."""
    import uuid
    import zlib
    from dataclasses import replace

    from activities.contracts import EvaluateInput
    from activities.evidence_evaluator import EvidenceEvaluator
    from evidence.files import FileEvidenceSource
    from evidence.synthetic import Spec, generate, session_days
    from governance.policy import default_policy
    from governance.promotion_builders import evidence_refs, metrics_snapshot
    from governance.records import StrategyDoc
    from governance.stage_change import StageChange
    from governance.stages import Decision
    from governance.stages import LifecycleStage as S
    from store.sqlite import SqliteStore

    root = Path(home)
    root.mkdir(parents=True, exist_ok=True)
    source = FileEvidenceSource(root / "evidence")
    evaluator = EvidenceEvaluator(root / "evidence", source)
    policy = default_policy("bench.v1")
    spec = Spec(
        sessions=8, symbols=20, evals_per_session=500, fills_per_session=10, orders_per_session=6
    )
    entered = datetime.now(UTC) - timedelta(days=60)
    days = session_days(spec)
    # Evidence in two parts: the first five sessions (what a promotion at their end read),
    # then three more (the SHADOW window since); a promotion cites only the first part.
    before = replace(spec, sessions=5, end=days[4].date())
    after = replace(spec, sessions=3)
    midway = days[4].tz_localize("UTC").to_pydatetime() + timedelta(hours=23)

    async def go() -> None:
        store = SqliteStore(root / "stratgate.db")
        try:
            await store.put_policy(TENANT, policy)
            for i in range(int(count)):
                sid = f"s{i:04d}"
                edge = (i % 10) / 20  # 0 .. 0.45: a spread of ICs around any threshold
                seed = zlib.crc32(sid.encode())
                generate(source, TENANT, "quant", sid, replace(before, edge=edge, seed=seed))
                doc = StrategyDoc(
                    tenant_id=TENANT, uid="quant", strategy_id=sid, last_stage_change_at=entered
                )
                await store.register_strategy(doc)
                if i % 2:
                    continue
                inp = EvaluateInput(
                    tenant_id=TENANT,
                    uid="quant",
                    strategy_id=sid,
                    target_stage=S.SHADOW,
                    stage_entered_at=entered,
                    policy=policy,
                    now=midway,
                )
                report = evaluator(inp, [])
                if report.verdict != "ELIGIBLE":
                    continue  # only an eligible report is ever promoted on
                await store.put_evaluation_report(TENANT, report)
                promoted.append(sid)
                await store.commit_stage_change(
                    StageChange(
                        tenant_id=TENANT,
                        uid="quant",
                        strategy_id=sid,
                        record_id=str(uuid.uuid4()),
                        audit_event_id=str(uuid.uuid4()),
                        decision=Decision.PROMOTE,
                        expected_from_stage=S.OBSERVE,
                        expected_last_record_id=None,
                        to_stage=S.SHADOW,
                        reason_code="promotion_ready",
                        policy_version=policy.policy_version,
                        requested_by="quant",
                        requested_at=midway,
                        effective_at=midway,
                        metrics_snapshot=metrics_snapshot(report.summary()),
                        evidence_refs=evidence_refs(report),
                    )
                )
            for i in range(int(count)):
                sid = f"s{i:04d}"
                seed = zlib.crc32(sid.encode()) + 1
                generate(
                    source, TENANT, "quant", sid, replace(after, edge=(i % 10) / 20, seed=seed)
                )
        finally:
            await store.close()

    promoted: list[str] = []
    asyncio.run(go())
    print(f"{len(promoted)} promoted to SHADOW")
    data = policy.model_dump(mode="json")
    data["policy_version"] = "bench.v2"
    data["signal_quality_thresholds"]["observe_to_shadow"]["ic_mean_min"] = 0.2
    import yaml

    (root / "candidate.yaml").write_text(yaml.safe_dump(data))
    (root / "built").write_text("ok")


def current(home: str) -> None:
    """The baseline: each strategy's next transition under the current policy, one process."""
    from activities.contracts import EvaluateInput
    from activities.evidence_evaluator import EvidenceEvaluator
    from governance.policy import effective_policy
    from governance.stages import ORDER
    from store.sqlite import SqliteStore

    root = Path(home)
    evaluator = EvidenceEvaluator(root / "evidence")
    now = datetime.now(UTC)

    async def go() -> int:
        store = SqliteStore(root / "stratgate.db")
        done = 0
        try:
            policy = await store.get_policy(TENANT)
            for doc in await store.list_strategies(TENANT, None):
                at = ORDER.index(doc.lifecycle_stage)
                if at + 1 >= len(ORDER):
                    continue
                risk = await store.list_risk_events(TENANT, doc.uid, doc.strategy_id)
                inp = EvaluateInput(
                    tenant_id=TENANT,
                    uid=doc.uid,
                    strategy_id=doc.strategy_id,
                    target_stage=ORDER[at + 1],
                    stage_entered_at=doc.last_stage_change_at,
                    policy=effective_policy(policy, doc.stage_overrides),
                    now=now,
                )
                evaluator(inp, risk)
                done += 1
        finally:
            await store.close()
        return done

    print(json.dumps({"evaluations": asyncio.run(go())}))


def _step(argv: list[str]) -> None:
    steps: dict[str, Any] = {"build": build, "current": current}
    steps[argv[0]](*argv[1:])


if __name__ == "__main__":
    _step(sys.argv[1:])
    sys.stdout.flush()
    os._exit(0)
