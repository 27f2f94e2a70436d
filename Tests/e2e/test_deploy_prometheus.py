"""deploy/prometheus and deploy/grafana: promtool checks and unit tests, and the metric names,
label values and thresholds the rules and the dashboard use against the metrics contract.

promtool comes from the Debian package `prometheus` (.ci/run installs it); without it these
tests fail and say so.
"""

from __future__ import annotations

import json
import re
import subprocess

import yaml

from deploy_files import (DASHBOARD, PROMETHEUS, PROMETHEUS_SYNTHETIC, RULE_FILES, RULE_TESTS, RUNBOOK,
                          alert_rules, bad_label_values, is_contract_metric, markdown_anchors, metric_names,
                          recorded_names, required_tool, rule_groups)

KPIS = {"request_success": 0.99, "tool_loop_success": 0.97, "cut_stream": 0.005, "attribution": 0.99}
ROLLBACK = {"Mix2apiAdapterErrorShareHigh": ("adapter_error", 0.005), "Mix2api5xxShareHigh": ("5xx", 0.01),
            "Mix2apiCutStreamRateHigh": ("cut_stream", 0.01)}


def promtool(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([required_tool("promtool", "prometheus"), *args], capture_output=True, text=True, timeout=120)


# -- promtool ---------------------------------------------------------------------------------------

def test_promtool_checks_the_prometheus_config_and_its_rule_files():
    out = promtool("check", "config", str(PROMETHEUS / "prometheus.yml"))
    assert out.returncode == 0, out.stdout + out.stderr
    # check config also checks every rule file it names: both must be named.
    for path in RULE_FILES:
        assert f"Checking {PROMETHEUS / 'rules' / path.name}" in out.stdout or path.name in out.stdout, out.stdout


def test_promtool_checks_each_rule_file():
    assert {p.name for p in RULE_FILES} == {"mix2api-slo.rules.yml", "mix2api-alerts.rules.yml"}
    for path in RULE_FILES:
        out = promtool("check", "rules", str(path))
        assert out.returncode == 0 and "SUCCESS" in out.stdout, out.stdout + out.stderr


def test_promtool_rule_unit_tests_pass():
    assert {p.name for p in RULE_TESTS} == {"slo.test.yml", "alerts.test.yml"}
    out = promtool("test", "rules", *map(str, RULE_TESTS))
    assert out.returncode == 0, out.stdout + out.stderr
    assert out.stdout.count("SUCCESS") == len(RULE_TESTS), out.stdout


def test_every_alert_has_a_case_that_fires_and_one_that_does_not():
    cases: dict[str, dict[str, int]] = {}
    for path in RULE_TESTS:
        for test in yaml.safe_load(path.read_text())["tests"]:
            for case in test.get("alert_rule_test", []):
                kind = "fires" if case.get("exp_alerts") else "quiet"
                cases.setdefault(case["alertname"], {"fires": 0, "quiet": 0})[kind] += 1
    names = {r["alert"] for r in alert_rules()}
    assert names >= set(ROLLBACK), names
    for name in names:
        assert cases.get(name, {}).get("fires"), f"no promtool case where {name} fires"
        assert cases.get(name, {}).get("quiet"), f"no promtool case where {name} stays quiet"


def test_every_kpi_recording_rule_has_a_value_check():
    checked = set()
    for path in RULE_TESTS:
        for test in yaml.safe_load(path.read_text())["tests"]:
            for case in test.get("promql_expr_test", []):
                checked |= metric_names(case["expr"])
    for kpi in KPIS:
        assert f"track_client:mix2api_{kpi}:ratio_rate5m" in checked, f"no value check of the {kpi} KPI"


# -- the rules against the contract ----------------------------------------------------------------

def test_the_four_kpis_are_recorded_per_track_and_client_over_5m_1h_and_24h():
    recorded = recorded_names()
    for kpi in KPIS:
        for window in ("5m", "1h", "24h"):
            assert f"track_client:mix2api_{kpi}:ratio_rate{window}" in recorded, (kpi, window)
    for group in rule_groups():
        for rule in group["rules"]:
            if rule.get("record", "").startswith("track_client:") and rule["expr"].lstrip().startswith("sum"):
                assert "by (track, client)" in rule["expr"], rule
            if rule.get("record", "").startswith("track:") and rule["expr"].lstrip().startswith("sum"):
                assert "by (track)" in rule["expr"], rule


def test_rules_select_only_contract_metrics_and_recorded_series():
    recorded = recorded_names()
    for group in rule_groups():
        for rule in group["rules"]:
            for name in metric_names(rule["expr"]):
                assert is_contract_metric(name) or name in recorded or name in PROMETHEUS_SYNTHETIC, \
                    f"{rule.get('record') or rule.get('alert')}: {name} is neither in the metrics contract nor recorded"


def test_rules_use_only_contract_label_values():
    for group in rule_groups():
        for rule in group["rules"]:
            assert not bad_label_values(rule["expr"]), (rule.get("record") or rule.get("alert"), bad_label_values(rule["expr"]))


def test_client_abort_is_excluded_from_every_denominator():
    """Every raw request count that feeds a ratio leaves client_abort out (or only counts ok,
    unknown, adapter_error, which client_abort never is)."""
    for group in rule_groups():
        for rule in group["rules"]:
            if "mix2api_requests_total" not in rule["expr"]:
                continue
            matchers = re.findall(r"mix2api_requests_total\{([^}]*)\}", rule["expr"])
            assert matchers, rule
            for m in matchers:
                assert re.search(r'end_reason(!=|!~)"[^"]*client_abort', m) or re.search(r'end_reason="(ok|unknown|adapter_error)"', m), \
                    f"{rule['record']}: {m}"


def test_rollback_alerts_have_the_thresholds_a_for_and_point_to_the_runbook():
    anchors = markdown_anchors(RUNBOOK)
    alerts = {r["alert"]: r for r in alert_rules()}
    for name, (share, threshold) in ROLLBACK.items():
        rule = alerts[name]
        assert re.search(rf"track:mix2api_{share}:ratio_increase10m > {threshold}\b", rule["expr"]), rule["expr"]
        assert rule.get("for") and rule["for"] != "0m", name
        assert rule["labels"]["severity"] == "critical"
        assert "rollback-canary" in rule["labels"]["action"] and "$labels.track" in rule["labels"]["action"]
        assert "weight" in rule["annotations"]["description"] and "0" in rule["annotations"]["description"]
    for rule in alerts.values():
        url = rule["annotations"]["runbook_url"]
        path, _, anchor = url.partition("#")
        assert path == "deploy/RUNBOOK.md" and anchor in anchors, f"{rule['alert']}: {url} (headings: {sorted(anchors)})"


# -- the dashboard ---------------------------------------------------------------------------------

def dashboard_panels() -> list[dict]:
    panels = []
    for p in json.loads(DASHBOARD.read_text())["panels"]:
        panels.append(p)
        panels += p.get("panels", [])
    return panels


def dashboard_exprs() -> list[tuple[str, str]]:
    out = [(p["title"], t["expr"]) for p in dashboard_panels() if p["type"] != "row" for t in p["targets"]]
    for var in json.loads(DASHBOARD.read_text())["templating"]["list"]:
        if var["type"] == "query":
            # Grafana's label_values(selector, label): the selector is PromQL, the label a name.
            m = re.fullmatch(r"label_values\((.*),\s*[a-zA-Z_][a-zA-Z0-9_]*\)", var["query"]["query"])
            assert m, var["query"]["query"]
            out.append((f"variable {var['name']}", m.group(1)))
    return out


def test_dashboard_is_json_with_a_query_on_every_panel():
    doc = json.loads(DASHBOARD.read_text())
    assert doc["uid"] and doc["title"] and doc["schemaVersion"] >= 36
    assert {v["name"] for v in doc["templating"]["list"]} >= {"datasource", "track", "client"}
    ids = [p["id"] for p in dashboard_panels()]
    assert len(ids) == len(set(ids)), "panel ids must be unique"
    for p in dashboard_panels():
        if p["type"] != "row":
            assert p["targets"] and all(t.get("expr") for t in p["targets"]), p["title"]
            assert p["datasource"]["uid"] == "${datasource}", p["title"]


def test_dashboard_queries_use_only_contract_metrics_recorded_series_and_label_values():
    recorded = recorded_names()
    for title, expr in dashboard_exprs():
        names = metric_names(expr)
        assert names, f"{title}: no metric in {expr}"
        for name in names:
            assert is_contract_metric(name) or name in recorded, f"{title}: {name} is neither in the metrics contract nor recorded"
        assert not bad_label_values(expr), (title, bad_label_values(expr))


def test_dashboard_queries_parse_as_promql(tmp_path):
    """promtool parses each query (Grafana's variables replaced by what they expand to)."""
    rules = []
    for i, (title, expr) in enumerate(dashboard_exprs()):
        promql = expr.replace("$__rate_interval", "5m").replace("$track", ".*").replace("$client", ".*")
        assert "$" not in promql, f"{title}: an unknown Grafana variable in {expr}"
        rules.append({"record": f"dashboard:panel_{i}", "expr": promql})
    path = tmp_path / "dashboard.rules.yml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "dashboard", "rules": rules}]}))
    out = promtool("check", "rules", str(path))
    assert out.returncode == 0, out.stdout + out.stderr


def test_dashboard_shows_each_kpi_and_rollback_share_against_its_target():
    panels = [p for p in dashboard_panels() if p["type"] != "row"]

    def threshold_of(panel):
        steps = panel["fieldConfig"]["defaults"]["thresholds"]["steps"]
        return [s["value"] for s in steps if s["value"] is not None]

    for kpi, target in KPIS.items():
        for window in ("5m", "24h"):
            series = f"track_client:mix2api_{kpi}:ratio_rate{window}"
            showing = [p for p in panels if any(series in t["expr"] for t in p["targets"])]
            assert showing, f"no panel shows {series}"
            assert all(threshold_of(p) == [target] for p in showing), (series, [threshold_of(p) for p in showing])
    for share, threshold in ROLLBACK.values():
        series = f"track:mix2api_{share}:ratio_increase10m"
        showing = [p for p in panels if any(series in t["expr"] for t in p["targets"])]
        assert showing and all(threshold_of(p) == [threshold] for p in showing), series
    wanted = ["mix2api_requests_total", "mix2api_request_ttfb_seconds_bucket", "mix2api_request_duration_seconds_bucket",
              "mix2api_streams_in_flight", "mix2api_state_degraded", "mix2api_driver_site_logins_total"]
    shown = set().union(*(metric_names(e) for _, e in dashboard_exprs()))
    assert set(wanted) <= shown, set(wanted) - shown
    assert any('status=~"5.."' in e for _, e in dashboard_exprs()), "no 5xx panel"
    assert any("end_reason)" in e and "mix2api_requests_total" in e for _, e in dashboard_exprs()), "no requests-by-end_reason panel"
