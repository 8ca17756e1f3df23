"""`stratgate policy`: the spec defaults, the show/set (bootstrap) round trip, refusals naming
the field."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from tests.cli.support import in_store, ok, refused, sg


def test_policy_show_defaults_prints_the_spec_thresholds(tmp_path: Path) -> None:
    p = ok(sg(tmp_path, "policy", "show", "--defaults", "--json"))
    w, q = p["stability_windows"], p["signal_quality_thresholds"]
    assert (w["observe_to_shadow"]["min_sessions"], w["observe_to_shadow"]["min_evaluations"]) == (
        5,
        500,
    )
    assert (w["shadow_to_paper"]["min_sessions"], w["shadow_to_paper"]["min_fills"]) == (10, 50)
    assert (w["paper_to_live"]["min_sessions"], w["paper_to_live"]["min_orders"]) == (20, 100)
    assert q["observe_to_shadow"]["hit_rate_min"] == 0.52
    assert q["observe_to_shadow"]["coverage_min"] == 0.9
    assert q["observe_to_shadow"]["ic_mean_min"] == 0.02
    assert q["shadow_to_paper"]["sharpe_daily_min"] == 0.2
    assert q["shadow_to_paper"]["max_drawdown_max"] == 0.03
    assert q["paper_to_live"]["max_drawdown_max"] == 0.02
    assert p["risk_thresholds"]["daily_loss_limit"] == 0.02
    assert p["approval_matrix"]["shadow_to_paper"]["roles"] == ["risk_approver", "ops_approver"]
    text = sg(tmp_path, "policy", "show", "--defaults")  # YAML for people, the same content
    assert yaml.safe_load(text.stdout) == p
    refused(sg(tmp_path, "policy", "show"), "--tenant")


def test_policy_set_show_round_trip_and_history(tmp_path: Path) -> None:
    policy = ok(sg(tmp_path, "policy", "show", "--defaults", "--json"))
    policy["policy_version"] = "demo.v1"
    policy["risk_thresholds"]["daily_loss_limit"] = 0.015
    (tmp_path / "p.yaml").write_text(yaml.safe_dump(policy))  # YAML in, JSON out
    assert (
        sg(tmp_path, "policy", "set", "--tenant", "demo", str(tmp_path / "p.yaml")).returncode == 0
    )
    shown = sg(tmp_path, "policy", "show", "--tenant", "demo", "--json")
    stored = ok(shown)
    assert (
        stored["policy_version"] == "demo.v1" and stored["updated_by"] == "local_operator:cli"
    )  # direct access, recorded as such
    assert stored["risk_thresholds"]["daily_loss_limit"] == 0.015
    # What `show` prints, `set` accepts: the same document again changes nothing ...
    (tmp_path / "shown.json").write_text(shown.stdout)
    again = ok(
        sg(tmp_path, "policy", "set", "--tenant", "demo", str(tmp_path / "shown.json"), "--json")
    )
    assert again == {
        "tenant": "demo",
        "policy_version": "demo.v1",
        "policy_hash": stored["policy_hash"],
        "changed": False,
    }
    # ... but `set` only bootstraps: a tenant with a policy changes it by proposal, whoever
    # `--by` names, and nothing is written.
    stored["policy_version"] = "demo.v2"
    stored["approval_matrix"]["paper_to_live"]["roles"] = ["ops_approver"]
    (tmp_path / "v2.json").write_text(json.dumps(stored))
    refused(
        sg(tmp_path, "policy", "set", "--tenant", "demo", str(tmp_path / "v2.json"), "--as", "x"),
        "policy propose",
        "policy_approval_required",
    )
    current = ok(sg(tmp_path, "policy", "show", "--tenant", "demo", "--json"))
    assert current["policy_version"] == "demo.v1"
    assert current["approval_matrix"]["paper_to_live"]["roles"][-1] == "final_authorizer"
    history = ok(sg(tmp_path, "policy", "history", "--tenant", "demo", "--json"))
    assert [v["policy_version"] for v in history["versions"]] == ["demo.v1"]
    assert history["verification"]["ok"] and history["versions"][0]["policy_hash"]
    events = in_store(tmp_path, lambda st: st.list_audit_events("demo"))
    assert [(e.event_type, e.details["by"]) for e in events] == [
        ("policy.bootstrapped", "local_operator:cli")
    ]
    # Proposing goes through the API as a person: without a stack there is none to act through.
    refused(
        sg(
            tmp_path,
            "policy",
            "propose",
            "--tenant",
            "demo",
            str(tmp_path / "v2.json"),
            "--reason",
            "drop LIVE approvers",
            "--as",
            "quant",
        ),
        "api",
    )
    refused(sg(tmp_path, "policy", "show", "--tenant", "nobody"), "nobody", "no promotion policy")


def test_policy_validation_names_each_bad_field(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "policy_version: x\n"
        "risk_thresholds:\n  concentration_limit: 3\n"
        "stability_windows:\n  observe_to_shadow:\n    min_sessions: -1\n"
        "approval_matrix:\n  observe_to_paper:\n    roles: [risk_approver]\n"
    )
    line = refused(sg(tmp_path, "policy", "validate", str(bad)))
    for field in (
        "risk_thresholds.concentration_limit",
        "stability_windows.observe_to_shadow.min_sessions",
        "approval_matrix",
    ):
        assert field in line
    as_json = sg(tmp_path, "policy", "validate", str(bad), "--json")
    assert as_json.returncode == 2
    errors = json.loads(as_json.stdout)["errors"]
    assert {e["field"] for e in errors} >= {"risk_thresholds.concentration_limit"}
    assert all(e["reason"] for e in errors)
    refused(sg(tmp_path, "policy", "set", "--tenant", "demo", str(bad)), "concentration_limit")
    nothing = ok(sg(tmp_path, "policy", "history", "--tenant", "demo", "--json"))
    assert nothing["versions"] == [] and nothing["verification"]["ok"]
    (tmp_path / "list.json").write_text("[1, 2]")
    refused(sg(tmp_path, "policy", "validate", str(tmp_path / "list.json")), "FILE", "mapping")
    (tmp_path / "broken.json").write_text("{")
    refused(sg(tmp_path, "policy", "validate", str(tmp_path / "broken.json")), "FILE", "JSON")
    refused(sg(tmp_path, "policy", "validate", str(tmp_path / "missing.json")), "FILE")
    good = tmp_path / "good.yaml"
    good.write_text("policy_version: minimal\n")  # every other field takes the spec default
    assert "ok: policy_version minimal" in sg(tmp_path, "policy", "validate", str(good)).stdout
