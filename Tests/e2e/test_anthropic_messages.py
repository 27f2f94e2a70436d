"""POST /v1/messages through the real binary: every MockUpstream scenario streamed and not,
checked byte for byte (anthropic_contract) and consumed by the official `anthropic` SDK (its
stream helper and create); error envelopes and statuses; count_tokens; auth by x-api-key or
Bearer; the default model setting; the access log (route, client, tools, end_reason)."""

from __future__ import annotations

import json

import anthropic
import httpx2
import pytest

import anthropic_contract as ac
import wire
from conftest import mock_plugins
from test_scenarios import SCENARIOS as OPENAI_SCENARIOS, USAGE_PROMPT, Expect

TOOLS = [
    {"name": "Write", "description": "Write a file", "input_schema": {
        "type": "object", "required": ["file_path", "content"],
        "properties": {"file_path": {"type": "string"}, "content": {"type": "string"}}}, "cache_control": {"type": "ephemeral"}},
    {"name": "Read", "description": "Read a file", "input_schema": {
        "type": "object", "required": ["file_path"], "properties": {"file_path": {"type": "string"}}}},
]
STOP_REASON = {"stop": "end_turn", "length": "max_tokens", "tool_calls": "tool_use"}
TASK = "Please create notes/hello.txt"

# The OpenAI expectations hold for the same scenarios (same events, other bytes), plus the
# tool scenarios the agents tests drive (one request each here) and mock-hang on its own server.
SCENARIOS: dict[str, Expect] = {
    **OPENAI_SCENARIOS,
    # Its first, broken call is asked again while the client has seen nothing: fine when not
    # streamed; streamed, its text went out first, so the answer ends with a visible error.
    "mock-tool-flaky": Expect(tools=True, finish="tool_calls", calls=["Write"], stream_error=True, end_reason="adapter_error"),
    "mock-tool-chain": Expect(tools=True, finish="tool_calls", calls=["Write"]),
    "mock-write-task": Expect(tools=True, finish="tool_calls", calls=["Write"]),
}
WRITE_TASK = 'Create the file /tmp/notes/hello.txt containing "hi there".'

STREAM_ERROR_TEXT = {"mock-error-mid": "mid-stream", "mock-tool-flaky": "NoSuchTool"}


def messages(server, body, *, headers=None, path="/v1/messages?beta=true") -> wire.Reply:
    return wire.request("POST", f"{server.base_url}{path}", body=body,
                        headers={"anthropic-version": "2023-06-01", **(headers or {})})


def request_for(model: str, stream: bool, expect: Expect) -> dict:
    body = {"model": model, "max_tokens": 256, "stream": stream, "metadata": {"user_id": "u1"},
            "system": [{"type": "text", "text": "You are a test.", "cache_control": {"type": "ephemeral"}}],
            "messages": [{"role": "user", "content": [{"type": "text", "text": {"mock-usage": USAGE_PROMPT, "mock-write-task": WRITE_TASK}.get(model, TASK)}]}]}
    if expect.tools:
        body["tools"] = TOOLS
    if model == "mock-usage":
        del body["system"]  # the mock counts the bytes of every message: the user's 400 alone
    return body


@pytest.mark.parametrize("stream", [True, False], ids=["stream", "nonstream"])
@pytest.mark.parametrize("model", list(SCENARIOS))
def test_scenario(server, model, stream):
    expect = SCENARIOS[model]
    reply = messages(server, request_for(model, stream, expect))
    log = server.access(reply.request_id)
    assert (log["route"], log["model"], log["driver"], log["stream"], log["tools_present"]) == ("messages", model, "mock", stream, expect.tools)

    error_status = expect.http_error or (None if stream else expect.non_stream_error)
    if error_status:
        err = ac.check_error(reply.status, reply.headers, reply.body, expected_status=error_status)
        assert (log["end_reason"], log["http_status"]) == (expect.end_reason, error_status), log
        if expect.retry_after:
            assert err.retry_after == expect.retry_after
        return

    if stream:
        r = ac.check_stream(reply.status, reply.headers, reply.body, expect_error=expect.stream_error)
        assert log["tool_calls"] == len(r.tool_uses), log
        assert r.message["model"] == model
        if expect.stream_error:
            assert r.error["type"] == "api_error" and STREAM_ERROR_TEXT[model] in r.error["message"]
            assert (log["end_reason"], log["http_status"]) == (expect.end_reason, 200), log
            return
        if expect.pings:
            assert r.pings > 0, "a silence longer than MIX2API_KEEPALIVE_MS must carry ping events"
        text, thinking, usage = r.text, r.thinking, r.usage
        calls = [(b.name, b.input) for b in r.tool_uses]
    else:
        r = ac.check_message(reply.status, reply.headers, reply.body)
        assert log["tool_calls"] == len(r.tool_uses), log
        text, thinking, usage = r.text, r.thinking, r.usage
        calls = [(b["name"], b["input"]) for b in r.tool_uses]
    assert r.stop_reason == STOP_REASON[expect.finish]
    assert (log["end_reason"], log["http_status"]) == ("ok", 200), log
    if expect.content is not None:
        assert text == expect.content
    if expect.reasoning is not None:
        assert thinking == expect.reasoning
    if expect.usage:
        assert usage["output_tokens"] == expect.usage[1]
        assert usage.get("input_tokens") == expect.usage[0], "the upstream's count, not an estimate"
    if expect.calls is not None:
        assert [name for name, _ in calls] == expect.calls
        assert all(isinstance(arguments, dict) and arguments for _, arguments in calls)
        if model == "mock-write-task":
            assert calls == [("Write", {"file_path": "/tmp/notes/hello.txt", "content": "hi there"})]
        assert log["tool_call_ids"] and all(i.startswith("toolu_") for i in log["tool_call_ids"]), log
    if model == "mock-echo":
        digest = json.loads(text)
        assert (digest["model"], digest["stream"], digest["request_id"]) == (model, stream, reply.request_id)
        assert (digest["roles"], digest["last_user"], digest["max_tokens"]) == (["system", "user"], TASK, 256)


def test_hang_times_out_with_an_anthropic_error(start_server):
    server = start_server(env={"UPSTREAM_TIMEOUT_MS": "800", "MIX2API_KEEPALIVE_MS": "300"})
    streamed = messages(server, {"model": "mock-hang", "max_tokens": 5, "stream": True, "messages": [{"role": "user", "content": "x"}]})
    r = ac.check_stream(streamed.status, streamed.headers, streamed.body, expect_error=True)
    assert r.pings > 0 and r.blocks == [] and r.error["type"] == "overloaded_error"
    plain = messages(server, {"model": "mock-hang", "max_tokens": 5, "messages": [{"role": "user", "content": "x"}]})
    ac.check_error(plain.status, plain.headers, plain.body, expected_status=503)
    for reply in (streamed, plain):
        assert server.access(reply.request_id)["end_reason"] == "timeout"


# -- the official SDK -------------------------------------------------------------------------------

@pytest.fixture
def sdk(server):
    client = anthropic.Anthropic(base_url=server.base_url, api_key="any-key", max_retries=0, timeout=30,
                                 http_client=httpx2.Client(trust_env=False))
    yield client
    client.close()


def sdk_kwargs(model: str, expect: Expect) -> dict:
    body = request_for(model, False, expect)
    return {k: v for k, v in body.items() if k != "stream"}


SDK_ERRORS = {429: anthropic.RateLimitError, 502: anthropic.InternalServerError, 503: anthropic.InternalServerError}


@pytest.mark.parametrize("model", list(SCENARIOS))
def test_sdk_stream_helper_and_create(sdk, model):
    expect = SCENARIOS[model]
    if expect.http_error:
        with pytest.raises(SDK_ERRORS[expect.http_error]) as caught:
            with sdk.messages.stream(**sdk_kwargs(model, expect)) as s:
                s.get_final_message()
        assert caught.value.status_code == expect.http_error
        with pytest.raises(SDK_ERRORS[expect.http_error]):
            sdk.messages.create(**sdk_kwargs(model, expect))
        return
    if expect.stream_error:
        events = []
        with pytest.raises(anthropic.APIStatusError, match=STREAM_ERROR_TEXT[model]):
            with sdk.messages.stream(**sdk_kwargs(model, expect)) as s:
                events.extend(e.type for e in s)
        assert "text" in events, "the deltas before the error reached the helper"
        if expect.non_stream_error:
            with pytest.raises(anthropic.InternalServerError):
                sdk.messages.create(**sdk_kwargs(model, expect))
            return

    finals = []
    events = ["message_stop"]
    if not expect.stream_error:
        with sdk.messages.stream(**sdk_kwargs(model, expect)) as s:
            events = [e.type for e in s]
            finals.append(s.get_final_message())
    finals.append(sdk.messages.create(**sdk_kwargs(model, expect)))
    for message in finals:
        assert message.stop_reason == STOP_REASON[expect.finish]
        assert message.usage.output_tokens > 0 and message.usage.input_tokens > 0
        text = "".join(b.text for b in message.content if b.type == "text")
        if expect.content is not None and model != "mock-echo":
            assert text == expect.content
        if expect.reasoning is not None:
            assert "".join(b.thinking for b in message.content if b.type == "thinking") == expect.reasoning
        if expect.calls is not None:
            uses = [b for b in message.content if b.type == "tool_use"]
            assert [u.name for u in uses] == expect.calls and all(isinstance(u.input, dict) and u.input for u in uses)
    assert events[-1] == "message_stop"
    if expect.calls and not expect.stream_error:
        assert "input_json" in events


def test_sdk_tool_loop_closes_every_call(server, sdk):
    """mock-tool-chain needs both tools in turn: the SDK sends each tool_use back as a
    tool_result, and the access log links every result to the call that asked for it."""
    history = [{"role": "user", "content": TASK}]
    ids, request_ids = [], []
    for step in range(3):
        with sdk.messages.stream(model="mock-tool-chain", max_tokens=100, messages=history, tools=TOOLS) as s:
            final = s.get_final_message()
            request_ids.append(s.response.headers["x-request-id"])
        uses = [b for b in final.content if b.type == "tool_use"]
        if step < 2:
            assert final.stop_reason == "tool_use" and len(uses) == 1
            history.append({"role": "assistant", "content": [b.model_dump(exclude_none=True) for b in final.content]})
            history.append({"role": "user", "content": [{"type": "tool_result", "tool_use_id": uses[0].id,
                                                          "content": [{"type": "text", "text": f"result-{step}"}]}]})
            ids.append(uses[0].id)
        else:
            assert final.stop_reason == "end_turn" and not uses
            assert final.content[0].text == "All 2 steps are done. Results: result-0 | result-1"
    # By request id, waiting for each line: the access line is written just after the last byte,
    # so it can trail the SDK's return by a moment.
    logs = [server.access(rid) for rid in request_ids]
    assert [l.get("tool_result_ids") for l in logs] == [None, ids[:1], ids], logs


# -- errors, auth, count_tokens, routing -------------------------------------------------------------

@pytest.mark.parametrize("body,status,field", [
    (b"{not json", 400, "JSON"),
    ({"model": "mock-short", "messages": [{"role": "user", "content": "x"}]}, 400, "max_tokens"),
    ({"model": "mock-short", "max_tokens": 5, "messages": [{"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_x", "content": "r"}]}]},
     400, "messages[0].content[0].tool_use_id"),
    ({"model": "mock-short", "max_tokens": 5, "messages": [{"role": "user", "content": "x"}], "tool_choice": {"type": "tool", "name": "Nope"}, "tools": TOOLS},
     400, "tool_choice.name"),
])
def test_bad_requests_name_the_field(server, body, status, field):
    reply = messages(server, body)
    err = ac.check_error(reply.status, reply.headers, reply.body, expected_status=status)
    assert field in err.error["message"]
    assert server.access(reply.request_id)["end_reason"] == "invalid_request"


def test_auth_by_x_api_key_or_bearer(start_server):
    server = start_server(env={"INBOUND_BEARER_TOKEN": "k-inbound"})
    body = {"model": "mock-short", "max_tokens": 5, "messages": [{"role": "user", "content": "x"}]}
    for headers in ({"x-api-key": "k-inbound"}, {"Authorization": "Bearer k-inbound"}):
        reply = messages(server, body, headers=headers)
        assert ac.check_message(reply.status, reply.headers, reply.body).text == "Hello from the mock upstream."
    for headers in ({}, {"x-api-key": "wrong"}):
        reply = messages(server, body, headers=headers)
        ac.check_error(reply.status, reply.headers, reply.body, expected_status=401)
        assert server.access(reply.request_id)["end_reason"] == "auth_error"
    counted = messages(server, body, path="/v1/messages/count_tokens")
    ac.check_error(counted.status, counted.headers, counted.body, expected_status=401)


def test_body_limit_and_unrouted_model(start_server):
    server = start_server(mock_plugins(default_driver=None), env={"BODY_SIZE_LIMIT": "2kb"})
    big = messages(server, {"model": "mock-short", "max_tokens": 5, "messages": [{"role": "user", "content": "x" * 4096}]})
    ac.check_error(big.status, big.headers, big.body, expected_status=413)
    unknown = messages(server, {"model": "claude-haiku-4-5", "max_tokens": 5, "messages": [{"role": "user", "content": "x"}]})
    err = ac.check_error(unknown.status, unknown.headers, unknown.body, expected_status=404)
    assert "claude-haiku-4-5" in err.error["message"]


def test_count_tokens(server, sdk):
    def count(body):
        reply = messages(server, body, path="/v1/messages/count_tokens")
        assert reply.status == 200 and reply.headers["content-type"] == "application/json", reply.body
        o = reply.json()
        assert set(o) == {"input_tokens"} and isinstance(o["input_tokens"], int) and o["input_tokens"] > 0
        log = server.access(reply.request_id)
        assert (log["route"], log["end_reason"], log["http_status"], log["driver"]) == ("count_tokens", "ok", 200, "mock"), log
        return o["input_tokens"]

    short = count({"model": "claude-haiku-4-5", "messages": [{"role": "user", "content": "hi"}]})
    longer = count({"model": "claude-haiku-4-5", "messages": [{"role": "user", "content": "hi " * 400}]})
    with_tools = count({"model": "claude-haiku-4-5", "messages": [{"role": "user", "content": "hi"}], "tools": TOOLS})
    assert short < longer and short < with_tools, (short, longer, with_tools)
    assert sdk.messages.count_tokens(model="mock-short", messages=[{"role": "user", "content": "hi"}]).input_tokens == short
    bad = messages(server, {"model": "m"}, path="/v1/messages/count_tokens")
    assert "messages" in ac.check_error(bad.status, bad.headers, bad.body, expected_status=400).error["message"]


def test_default_model_serves_unrouted_claude_ids(start_server):
    """MIX2API_MESSAGES_DEFAULT_MODEL: a claude-… id that no route names is served as that
    model; the client still sees the id it asked for; routed models are left alone."""
    server = start_server(env={"MIX2API_MESSAGES_DEFAULT_MODEL": "mock-echo"})
    reply = messages(server, {"model": "claude-haiku-4-5-20251001", "max_tokens": 5, "messages": [{"role": "user", "content": "title?"}]})
    r = ac.check_message(reply.status, reply.headers, reply.body)
    assert r.body["model"] == "claude-haiku-4-5-20251001"
    assert json.loads(r.text)["model"] == "mock-echo"
    assert server.access(reply.request_id)["model"] == "mock-echo"
    routed = messages(server, {"model": "mock-chars", "max_tokens": 5, "messages": [{"role": "user", "content": "x"}]})
    assert ac.check_message(routed.status, routed.headers, routed.body).text == "Grüße, 世界! 🚀 ok"


@pytest.mark.parametrize("headers,tools,client", [
    ({"User-Agent": "claude-cli/2.1.327 (external, cli)"}, False, "claude-code"),
    ({"User-Agent": "Go-http-client/1.1", "X-Client-User-Agent": "claude-cli/2.1.327 (external, cli)"}, False, "claude-code"),
    ({"User-Agent": "Go-http-client/1.1"}, True, "claude-code"),  # Claude Code's tool names
    ({"User-Agent": "Go-http-client/1.1"}, False, "new-api"),
])
def test_client_dimension(server, headers, tools, client):
    body = {"model": "mock-short", "max_tokens": 5, "messages": [{"role": "user", "content": "x"}]}
    if tools:
        body["tools"] = [{"name": n, "input_schema": {"type": "object"}} for n in ("Bash", "Edit", "Read", "Write")]
    reply = messages(server, body, headers=headers)
    assert reply.status == 200
    assert server.access(reply.request_id)["client"] == client


@pytest.mark.parametrize("model,error_type,end_reason", [
    ("mock-error-early", "api_error", "upstream_error"),
    ("mock-rate-limited", "rate_limit_error", "rate_limited"),
    ("mock-auth-error", "overloaded_error", "upstream_auth_error"),
])
def test_early_error_after_keepalive_is_an_error_event(start_server, model, error_type, end_reason):
    """When the first keep-alive is due before the upstream's first event, message_start and a
    ping have gone out with the 200: an 'early' error can then only be an error event."""
    s = start_server(mock_plugins({"first_delay_ms": 700}), env={"MIX2API_KEEPALIVE_MS": "300"})
    reply = messages(s, {"model": model, "max_tokens": 5, "stream": True, "messages": [{"role": "user", "content": "x"}]})
    r = ac.check_stream(reply.status, reply.headers, reply.body, expect_error=True)
    assert r.events[0] == "message_start" and r.pings > 0 and r.blocks == []
    assert r.error["type"] == error_type
    log = s.access(reply.request_id)
    assert (log["end_reason"], log["http_status"], log["chunks"]) == (end_reason, 200, 2), log
