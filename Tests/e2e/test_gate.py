"""`mix2api gate` against real mix2api processes on loopback: it passes against a healthy instance
(every check it can see, through /metrics and the access log), and fails, naming the pack, against
one whose mock driver is scripted to cut streams or to break tool calls."""

from __future__ import annotations

import json
import subprocess

import pytest

from conftest import BIN, DEFAULT_MOCK_CONFIG, mock_plugins

KEY = "gate-e2e-key-0123456789"


def gate(server, tmp_path, *extra: str, base_url: str | None = None) -> tuple[int, str, dict]:
    report = tmp_path / "gate-report.json"
    args = [str(BIN), "gate", "--base-url", base_url or server.base_url, "--key", KEY, "--report", str(report), "--timeout", "60", *extra]
    r = subprocess.run(args, capture_output=True, timeout=180)
    out = r.stdout.decode()
    assert KEY not in out and KEY not in r.stderr.decode(), "the key is never printed"
    return r.returncode, out, json.loads(report.read_text()) if report.exists() else {}


def start(start_server, **config):
    return start_server(mock_plugins({**DEFAULT_MOCK_CONFIG, **config}), env={"INBOUND_BEARER_TOKEN": KEY})


def test_gate_passes_against_a_healthy_instance_with_everything_visible(start_server, tmp_path):
    server = start(start_server, stall_ms=3000)
    code, out, report = gate(server, tmp_path, "--metrics-url", f"{server.base_url}/metrics")
    assert code == 0, out
    assert report["passed"] is True and report["failed_packs"] == []
    assert [p["id"] for p in report["packs"]] == ["A", "B", "C"]
    results = {(p["id"], c["name"]): c["result"] for p in report["packs"] for c in p["checks"]}
    assert all(r == "pass" for r in results.values()), results
    assert results[("A", "end_reason=ok (metrics)")] == "pass"
    assert results[("C", "streams in flight back to the baseline")] == "pass"
    assert "gate: PASS" in out
    assert report["packs"][0]["request_ids"][0] in server.stdout(), "the gate's request ids reach mix2api's log"

    # The same through the access log, and with an OpenAI-style base URL.
    code, out, report = gate(server, tmp_path, "--access-log", str(server.stdout_path), base_url=f"{server.base_url}/v1")
    assert code == 0, out
    results = {(p["id"], c["name"]): c["result"] for p in report["packs"] for c in p["checks"]}
    assert results[("B", "ids aligned (access log)")] == "pass"
    assert results[("C", "aborts recorded as client_abort, not as failures (access log)")] == "pass"
    assert sum(1 for l in server.access_lines() if l["end_reason"] == "client_abort") >= 2


def test_gate_fails_on_cut_streams_naming_pack_a(start_server, tmp_path):
    server = start(start_server, faults="cut_streams")
    code, out, report = gate(server, tmp_path, "--metrics-url", f"{server.base_url}/metrics")
    assert code == 1, out
    assert "A" in report["failed_packs"]
    a = report["packs"][0]
    assert a["passed"] is False and "cut" in next(c for c in a["checks"] if c["result"] == "fail")["detail"]
    assert "pack A (long streamed answer, no tools): FAIL" in out
    assert "gate: FAIL (pack A" in out


def test_gate_fails_on_broken_tool_calls_naming_pack_b(start_server, tmp_path):
    server = start(start_server, faults="break_tools", stall_ms=3000)
    code, out, report = gate(server, tmp_path, base_url=f"{server.base_url}/v1")
    assert code == 1, out
    assert report["failed_packs"] == ["B"], out
    failed = next(c for c in report["packs"][1]["checks"] if c["result"] == "fail")
    assert "tool_call_invalid" in failed["detail"] or "tool call" in failed["name"], failed
    assert "gate: FAIL (pack B)" in out


@pytest.mark.parametrize("args, field", [
    (["--base-url", "ftp://x"], "--base-url"),
    (["--base-url", "http://127.0.0.1:1", "--key", ""], "--key"),
    (["--base-url", "http://127.0.0.1:1", "--access-log", "/nonexistent/log"], "--access-log"),
])
def test_bad_arguments_name_the_option(args, field):
    full = [str(BIN), "gate", "--key", KEY, *args] if "--key" not in args else [str(BIN), "gate", *args]
    r = subprocess.run(full, capture_output=True, timeout=30)
    assert r.returncode != 0 and field in r.stderr.decode(), r.stderr.decode()


def test_an_unreachable_deployment_fails_every_pack(tmp_path):
    report = tmp_path / "r.json"
    r = subprocess.run([str(BIN), "gate", "--base-url", "http://127.0.0.1:9", "--key", KEY, "--report", str(report), "--timeout", "5"],
                       capture_output=True, timeout=120)
    assert r.returncode == 1
    assert json.loads(report.read_text())["failed_packs"] == ["A", "B", "C"]
