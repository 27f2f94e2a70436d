"""GET /metrics after scripted traffic that ends in every end_reason: each request is counted
once, under the labels of the metrics contract, and nothing unbounded (model names, request
ids, keys) ever becomes a label."""

from __future__ import annotations

import collections
import signal
import threading
import time

import httpx

from conftest import DEFAULT_MOCK_CONFIG, mock_plugins
from contract import check_stream
from prom import scrape
import wire

KEY = "metrics-e2e-inbound-key-4711"
AUTH = {"Authorization": f"Bearer {KEY}"}
TOOLS = [{"type": "function", "function": {"name": "lookup_order", "description": "Look up an order", "parameters": {
    "type": "object", "required": ["order_id"], "properties": {"order_id": {"type": "string"}}}}}]

REQUEST_LABELS = {"route", "client", "stream", "tools", "end_reason", "status"}
FIXED_LABELS = {
    "mix2api_requests_total": REQUEST_LABELS,
    "mix2api_stream_cuts_total": {"route", "client", "end_reason"},
    "mix2api_streams_unterminated_total": {"route", "client"},
    "mix2api_request_ttfb_seconds_bucket": {"route", "client", "stream", "le"},
    "mix2api_request_duration_seconds_bucket": {"route", "client", "stream", "le"},
    "mix2api_tool_calls_emitted_total": {"route", "client"},
    "mix2api_tool_results_received_total": {"route", "client"},
    "mix2api_driver_events_total": {"driver", "kind"},
    "mix2api_state_operations_total": {"op", "result"},
    "mix2api_streams_in_flight": set(),
    "mix2api_state_degraded": set(),
    "mix2api_build_info": {"version"},
}
CLIENTS = {"opencode", "claude-code", "new-api", "openai-sdk", "other"}
END_REASONS = {"ok", "client_abort", "timeout", "upstream_error", "upstream_auth_error", "rate_limited", "invalid_request",
               "auth_error", "adapter_error", "driver_error", "unavailable", "client_too_slow", "unknown"}


def ua(client: str) -> dict[str, str]:
    return {**AUTH, "User-Agent": {"opencode": "opencode/0.9", "claude-code": "claude-cli/1.0.0 (external, cli)"}[client]}


def body(model: str, stream: bool, **extra) -> dict:
    return {"model": model, "stream": stream, "messages": wire.user("Please look up order A-1"), **extra}


def abort_after_first_content(server, model: str, headers: dict) -> str:
    """Streams `model` and leaves as soon as content arrives; returns the request id."""
    with httpx.Client(trust_env=False, timeout=30) as c:
        with c.stream("POST", f"{server.base_url}/v1/chat/completions", json=body(model, True), headers=headers) as r:
            assert r.status_code == 200
            seen = b""
            for piece in r.iter_raw():
                seen += piece
                if b'"content":"Before' in seen:
                    return r.headers["x-request-id"]
    raise AssertionError(f"no content before the end: {seen[-300:]!r}")


def test_every_end_reason_is_counted_once_with_the_contract_labels(start_server):
    server = start_server(
        mock_plugins({**DEFAULT_MOCK_CONFIG, "stall_ms": 3000}),
        env={"INBOUND_BEARER_TOKEN": KEY, "UPSTREAM_TIMEOUT_MS": "1000", "MIX2API_SHUTDOWN_GRACE_MS": "8000"})
    before = scrape(server)
    assert before.value("mix2api_build_info") == 1
    assert before.value("mix2api_streams_unterminated_total") == 0 and before.has("mix2api_streams_unterminated_total", route="messages", client="claude-code")
    assert before.has("mix2api_state_operations_total", op="lock", result="busy")

    ids: list[tuple[str, str]] = []  # (request id, expected end_reason)

    def send(model: str, stream: bool, reason: str, client: str = "opencode", headers: dict | None = None, **extra) -> wire.Reply:
        reply = wire.chat(server, body(model, stream, **extra), headers=headers or ua(client))
        ids.append((reply.request_id, reason))
        return reply

    send("mock-short", True, "ok")
    send("mock-usage", False, "ok", client="claude-code")
    first = send("mock-tool", True, "ok", tools=TOOLS)
    call = check_stream(first.status, first.headers, first.body).tool_calls[0]
    send("mock-tool", True, "ok", tools=TOOLS, messages=[
        {"role": "user", "content": "Please look up order A-1"},
        {"role": "assistant", "content": None, "tool_calls": [{"id": call.id, "type": "function", "function": {"name": call.name, "arguments": call.arguments}}]},
        {"role": "tool", "tool_call_id": call.id, "content": '{"status":"shipped"}'}])
    ids.append((abort_after_first_content(server, "mock-stall", ua("opencode")), "client_abort"))
    hung = send("mock-hang", True, "timeout")
    assert hung.status == 200 and b"upstream_timeout" in hung.body, "headers went out with a keep-alive, then the timeout error chunk"
    send("mock-hang", False, "timeout")
    send("mock-error-early", True, "upstream_error")
    mid = send("mock-error-mid", True, "upstream_error")
    assert mid.status == 200, "a mid-stream failure is a cut stream"
    send("mock-auth-error", True, "upstream_auth_error", client="claude-code")
    send("mock-rate-limited", False, "rate_limited")
    bad = wire.request("POST", f"{server.base_url}/v1/chat/completions", body="{not json", headers=ua("opencode"))
    ids.append((bad.request_id, "invalid_request"))
    denied = wire.chat(server, body("mock-short", True), headers={"Authorization": "Bearer wrong-key-123456", "User-Agent": "opencode/0.9"})
    ids.append((denied.request_id, "auth_error"))
    send("mock-short", True, "adapter_error", tools=TOOLS, tool_choice="required")
    send("mock-driver-error", True, "driver_error")

    # What the access log says happened, request by request.
    lines = [server.access(rid) for rid, _ in ids]
    assert [l["end_reason"] for l in lines] == [reason for _, reason in ids]
    expected = collections.Counter(
        (l["route"], l["client"], str(l["stream"]).lower(), str(l["tools"]).lower(), l["end_reason"], str(l["http_status"])) for l in lines)

    deadline = time.monotonic() + 5
    while (after := scrape(server)).value("mix2api_streams_in_flight") != 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert after.value("mix2api_streams_in_flight") == 0, "every stream released"

    counted = collections.Counter()
    for labels, value in after.samples("mix2api_requests_total"):
        assert set(labels) == REQUEST_LABELS, labels
        key = tuple(labels[k] for k in ("route", "client", "stream", "tools", "end_reason", "status"))
        counted[key] += int(value)
    assert +counted == expected
    reasons_seen = {k[4] for k in counted}
    # unavailable: the draining test below; client_too_slow: test_slow_client.py (it needs a raw
    # socket that stops reading); unknown: never.
    assert reasons_seen == END_REASONS - {"unknown", "unavailable", "client_too_slow"}, "every end_reason but those, never unknown"

    # Cuts: started streams that ended with an error chunk, exactly the access lines' `cut`.
    cuts = collections.Counter((l["route"], l["client"], l["end_reason"]) for l in lines if l["cut"])
    assert ("chat_completions", "opencode", "timeout") in cuts and ("chat_completions", "opencode", "upstream_error") in cuts
    assert +collections.Counter({(l["route"], l["client"], l["end_reason"]): int(v) for l, v in after.samples("mix2api_stream_cuts_total")}) == cuts
    assert after.value("mix2api_streams_unterminated_total") == 0

    # Histograms: every request has a duration; those whose answer began have a time to first byte.
    for client in ("opencode", "claude-code"):
        for stream in ("true", "false"):
            mine = [l for l in lines if l["client"] == client and str(l["stream"]).lower() == stream]
            assert after.value("mix2api_request_duration_seconds_count", client=client, stream=stream) == len(mine)
            assert after.value("mix2api_request_ttfb_seconds_count", client=client, stream=stream) == sum(1 for l in mine if "ttfb_ms" in l)
    assert after.types.get("mix2api_request_duration_seconds") == "histogram"

    assert after.value("mix2api_tool_calls_emitted_total", client="opencode") == sum(l["tool_calls"] for l in lines) >= 1
    assert after.value("mix2api_tool_results_received_total", client="opencode") == 1
    assert after.value("mix2api_driver_events_total", driver="mock", kind="delta") > 0
    assert after.value("mix2api_driver_events_total", driver="mock", kind="error") >= 5
    assert after.value("mix2api_driver_events_total", driver="mock", kind="finish") > 0

    # Fixed label sets, closed values, nothing a caller sent.
    for name, labels, _ in after.rows:
        if not name.startswith("mix2api_"):
            continue
        base = name[:-len("_sum")] if name.endswith("_sum") else name[:-len("_count")] if name.endswith("_count") else name
        fixed = FIXED_LABELS.get(name) or (FIXED_LABELS.get(base + "_bucket", set()) - {"le"})
        if name.startswith("mix2api_driver_") and name not in FIXED_LABELS:
            fixed = {"driver"}
        assert set(labels) == fixed, (name, labels)
        for k, v in labels.items():
            assert "mock-" not in v and KEY not in v and "wrong-key" not in v and len(v) < 40, (name, labels)
        if "client" in labels:
            assert labels["client"] in CLIENTS
        if "end_reason" in labels:
            assert labels["end_reason"] in END_REASONS
    for rid, _ in ids:
        assert rid not in after.text

    # unavailable: a request that arrives while the instance drains for shutdown.
    holder = threading.Thread(target=lambda: wire.chat(server, body("mock-hang", True), headers=ua("opencode")), daemon=True)
    holder.start()
    deadline = time.monotonic() + 5
    while scrape(server).value("mix2api_streams_in_flight") < 1 and time.monotonic() < deadline:
        time.sleep(0.02)
    server.proc.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + 5
    while wire.get(server, "/ready").status != 503 and time.monotonic() < deadline:
        time.sleep(0.02)
    late = wire.chat(server, body("mock-short", True), headers=ua("opencode"))
    assert late.status == 503 and b"shutting_down" in late.body
    draining = scrape(server)
    assert draining.value("mix2api_requests_total", end_reason="unavailable", status="503", client="opencode") == 1
    assert draining.value("mix2api_requests_total", end_reason="unknown") == 0


def test_messages_and_count_tokens_are_counted_under_their_routes(start_server):
    """The Anthropic routes write the same access record, so they are counted the same way."""
    server = start_server(mock_plugins(), env={"INBOUND_BEARER_TOKEN": KEY})
    headers = {"x-api-key": KEY, "anthropic-version": "2023-06-01", "User-Agent": "claude-cli/2.0.0 (external, cli)"}

    def messages(path: str, model: str, stream: bool | None) -> wire.Reply:
        body = {"model": model, "max_tokens": 64, "messages": [{"role": "user", "content": "hi"}]}
        if stream is not None:
            body["stream"] = stream
        return wire.request("POST", f"{server.base_url}{path}", body=body, headers=headers)

    assert messages("/v1/messages", "mock-short", True).status == 200
    assert messages("/v1/messages", "mock-short", False).status == 200
    cut = messages("/v1/messages?beta=true", "mock-error-mid", True)
    assert cut.status == 200 and b"event: error" in cut.body
    assert messages("/v1/messages/count_tokens", "mock-short", None).status == 200

    m = scrape(server)
    def requests(**labels):
        return m.value("mix2api_requests_total", client="claude-code", **labels)
    assert requests(route="messages", stream="true", end_reason="ok", status="200") == 1
    assert requests(route="messages", stream="false", end_reason="ok", status="200") == 1
    assert requests(route="messages", stream="true", end_reason="upstream_error", status="200") == 1
    assert requests(route="count_tokens", end_reason="ok") == 1
    assert m.value("mix2api_stream_cuts_total", route="messages", client="claude-code", end_reason="upstream_error") == 1
    assert m.value("mix2api_streams_unterminated_total") == 0
    assert m.value("mix2api_requests_total", end_reason="unknown") == 0
