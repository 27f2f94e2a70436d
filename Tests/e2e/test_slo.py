"""`mix2api slo` on generated access logs: the KPI table and JSON match what this test computes
from the records it wrote (the metrics contract's definitions, client aborts excluded), lines
outside the window and garbage are skipped and counted, and a missed target exits non-zero."""

from __future__ import annotations

import datetime as dt
import json
import random
import subprocess

import pytest

from conftest import BIN

NEWEST = dt.datetime(2026, 11, 22, 12, 0, 0, tzinfo=dt.timezone.utc)
CLIENTS = ["opencode", "claude-code", "new-api", "openai-sdk", "other"]
FAILURES = ["timeout", "upstream_error", "upstream_auth_error", "rate_limited", "invalid_request", "auth_error", "adapter_error",
            "driver_error", "unavailable"]
TARGETS = {"request_success": 0.99, "tool_loop_success": 0.97, "cut_stream_rate": 0.005, "attribution": 0.99}


def ts(t: dt.datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"


def record(t: dt.datetime, client: str, *, stream: bool, tools: bool, reason: str, cut: bool = False) -> dict:
    # The shape of Sources/Host/Observability/AccessLog.swift's line, as JSONLogHandler writes it.
    return {"ts": ts(t), "level": "info", "msg": "access", "request_id": f"{random.getrandbits(64):016x}", "route": "chat_completions",
            "client": client, "model": "some-model", "driver": "site", "stream": stream, "tools": tools, "tools_present": tools,
            "tool_calls": 0, "tool_results": 0, "end_reason": reason, "http_status": 200 if reason in ("ok", "client_abort") else 502,
            "upstream_status": 200, "duration_ms": 12.5, "chunks": 3, "cut": cut}


def generate(seed: int, rates: dict[str, dict[str, float]], n: int = 600) -> list[dict]:
    """n records per client spread over 30 hours before NEWEST; `rates[client]` gives the chance of
    a failure, an unclassified end, a client abort and a cut (for streamed failures)."""
    rng = random.Random(seed)
    out = []
    for client in CLIENTS:
        r = {"fail": 0.002, "unknown": 0.0, "abort": 0.05, "cut": 0.15, **rates.get(client, {})}
        for i in range(n):
            t = NEWEST - dt.timedelta(seconds=rng.uniform(0, 30 * 3600))
            stream, tools = rng.random() < 0.8, rng.random() < 0.4
            x = rng.random()
            if x < r["abort"]:
                reason = "client_abort"
            elif x < r["abort"] + r["unknown"]:
                reason = "unknown"
            elif x < r["abort"] + r["unknown"] + r["fail"]:
                reason = rng.choice(FAILURES)
            else:
                reason = "ok"
            cut = stream and reason not in ("ok", "client_abort") and rng.random() < r["cut"]
            out.append(record(t, client, stream=stream, tools=tools, reason=reason, cut=cut))
    out.append(record(NEWEST, "opencode", stream=True, tools=False, reason="ok"))  # pins the newest line
    rng.shuffle(out)
    return out


def expected_kpis(records: list[dict]) -> dict:
    """The contract's KPIs, computed independently of the Swift code."""
    def kpis(rs):
        counted = [r for r in rs if r["end_reason"] != "client_abort"]
        tools = [r for r in counted if r["tools"]]
        streams = [r for r in counted if r["stream"]]
        failures = [r for r in counted if r["end_reason"] != "ok"]
        return {
            "requests": len(rs), "client_aborts": len(rs) - len(counted),
            "request_success": sum(r["end_reason"] == "ok" for r in counted) / len(counted) if counted else None,
            "tool_loop_success": sum(r["end_reason"] == "ok" for r in tools) / len(tools) if tools else None,
            "cut_stream_rate": sum(r["cut"] for r in streams) / len(streams) if streams else None,
            "attribution": (1 - sum(r["end_reason"] == "unknown" for r in failures) / len(failures) if failures else 1.0) if counted else None,
        }
    by = {c: kpis([r for r in records if r["client"] == c]) for c in CLIENTS if any(r["client"] == c for r in records)}
    by["all"] = kpis(records)
    return by


def met(kpi: str, value: float | None) -> bool | None:
    if value is None:
        return None
    return value <= TARGETS[kpi] if kpi == "cut_stream_rate" else value >= TARGETS[kpi]


def write_log(tmp_path, records: list[dict], junk: bool = True):
    lines = [json.dumps(r) for r in records]
    if junk:
        lines[5:5] = ["garbage that is not json", '{"ts":"2026-11-22T11:00:00.000Z","level":"info","msg":"starting","listen":"x"}',
                      '{"ts":"2026-11-22T11:00:00.000Z","msg":"access"}', "", "Nov 22 12:00:00 host mix2api[7]: " + json.dumps(record(NEWEST, "other", stream=False, tools=False, reason="ok"))]
        records = records + [record(NEWEST, "other", stream=False, tools=False, reason="ok")]
    path = tmp_path / "mix2api.log"
    path.write_text("\n".join(lines) + "\n")
    return path, records


def slo(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([str(BIN), "slo", *args], input=stdin, capture_output=True, timeout=60)


def in_window(records, hours=24):
    since = NEWEST - dt.timedelta(hours=hours)
    return [r for r in records if dt.datetime.strptime(r["ts"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=dt.timezone.utc) >= since]


def check_json(out: dict, want: dict):
    for row in out["clients"] + [out["total"]]:
        exp = want[row["client"]]
        assert (row["requests"], row["client_aborts"]) == (exp["requests"], exp["client_aborts"]), row["client"]
        for kpi in TARGETS:
            got = row["kpis"][kpi]
            if exp[kpi] is None:
                assert got["value"] is None, (row["client"], kpi)
            else:
                assert got["value"] == pytest.approx(exp[kpi], abs=1e-12), (row["client"], kpi)
            assert got["met"] == met(kpi, exp[kpi]), (row["client"], kpi)
    assert [r["client"] for r in out["clients"]] == [c for c in CLIENTS if c in want]


def check_table(text: str, want: dict):
    rows = {line.split()[0]: line.split() for line in text.splitlines() if line.split() and line.split()[0] in want}
    assert set(rows) == set(want), text
    for client, exp in want.items():
        cells = rows[client]
        assert int(cells[1]) == exp["requests"] and int(cells[2]) == exp["client_aborts"], cells
        shown = [c for c in cells[4:] if c.endswith("%") or c == "-"]
        for kpi, cell in zip(TARGETS, shown):
            assert cell == ("-" if exp[kpi] is None else f"{exp[kpi] * 100:.2f}%"), (client, kpi, cells)


def test_a_healthy_day_meets_every_target(tmp_path):
    records = generate(1, {})
    path, records = write_log(tmp_path, records)
    want = expected_kpis(in_window(records))
    assert all(met(k, v[k]) is not False for v in want.values() for k in TARGETS), "the generator should produce a passing day"

    r = slo(str(path), "--window", "24h", "--json")
    assert r.returncode == 0, r.stderr.decode() + r.stdout.decode()
    out = json.loads(r.stdout)
    check_json(out, want)
    assert out["passed"] is True and out["misses"] == []
    assert out["lines"]["unreadable"] == 2 and out["lines"]["other"] == 1
    assert out["lines"]["access"] == len(records) and out["lines"]["in_window"] == len(in_window(records)) < len(records)
    assert out["window"]["until"] == ts(NEWEST)

    t = slo(str(path), "--window", "24h")
    assert t.returncode == 0, t.stdout.decode()
    text = t.stdout.decode()
    check_table(text, want)
    assert "result: all targets met" in text and "2 skipped as unreadable" in text


def test_a_missed_target_exits_non_zero_and_names_it(tmp_path):
    # claude-code fails 3% of its requests; new-api has unclassified ends and cut streams.
    records = generate(2, {"claude-code": {"fail": 0.03}, "new-api": {"fail": 0.02, "unknown": 0.02, "cut": 1.0}})
    path, records = write_log(tmp_path, records, junk=False)
    want = expected_kpis(in_window(records))
    r = slo(str(path), "--window", "24h", "--json")
    assert r.returncode == 1, r.stdout.decode()
    out = json.loads(r.stdout)
    check_json(out, want)
    missed = {(m["client"], m["kpi"]) for m in out["misses"]}
    expected_misses = {(c, k) for c, v in want.items() for k in TARGETS if met(k, v[k]) is False}
    assert missed == expected_misses
    assert ("claude-code", "request_success") in missed and ("new-api", "attribution") in missed and ("new-api", "cut_stream_rate") in missed

    t = slo(str(path), "--window", "24h")
    assert t.returncode == 1
    check_table(t.stdout.decode(), want)
    assert "result: MISSED" in t.stdout.decode() and "claude-code request success" in t.stdout.decode()

    # Targets are flags: loosened enough, the same log passes.
    loose = slo(str(path), "--window", "24h", "--target-success", "0.5", "--target-tool-loop", "0.5", "--max-cut-rate", "0.5", "--target-attribution", "0.3")
    assert loose.returncode == 0, loose.stdout.decode()


def test_since_until_and_stdin(tmp_path):
    records = generate(3, {})
    path, records = write_log(tmp_path, records, junk=False)
    since, until = NEWEST - dt.timedelta(hours=6), NEWEST - dt.timedelta(hours=1)
    chosen = [r for r in records if since <= dt.datetime.strptime(r["ts"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=dt.timezone.utc) <= until]
    r = slo("-", "--since", ts(since), "--until", ts(until), "--json", stdin=path.read_bytes())
    assert r.returncode in (0, 1), r.stderr.decode()
    out = json.loads(r.stdout)
    check_json(out, expected_kpis(chosen))
    assert out["lines"]["in_window"] == len(chosen)


@pytest.mark.parametrize("args, field", [
    (["--window", "yesterday"], "--window"),
    (["--since", "2026-13-01"], "--since"),
    (["--window", "1h", "--since", "2026-11-22T00:00:00Z"], "--window"),
    (["--target-success", "1.5"], "--target-success"),
])
def test_bad_arguments_name_the_option(tmp_path, args, field):
    path, _ = write_log(tmp_path, generate(4, {}, n=5), junk=False)
    r = slo(str(path), *args)
    assert r.returncode != 0 and field in r.stderr.decode(), r.stderr.decode()


def test_input_without_access_lines_is_an_error(tmp_path):
    path = tmp_path / "other.log"
    path.write_text("hello\nworld\n")
    r = slo(str(path))
    assert r.returncode == 2 and "no access lines" in r.stderr.decode()
    missing = slo(str(tmp_path / "nope.log"))
    assert missing.returncode == 2 and "nope.log" in missing.stderr.decode()
