"""What the front door accepts and refuses: bad input, every accepted request shape (checked
through mock-echo's digest), inbound auth, request ids and the status routes."""

from __future__ import annotations

import json
import re

import httpx
import pytest

from conftest import mock_plugins
from contract import check_completion, check_error, check_request_id_headers, check_stream
from wire import chat, get, request, user

TOOL = {"type": "function", "function": {"name": "Read", "parameters": {"type": "object", "properties": {"file_path": {"type": "string"}}}}}


def echo(server, body: dict, headers: dict | None = None) -> dict:
    """Sends `body` to mock-echo (streamed or not, as the body says) and returns the digest."""
    body = {"model": "mock-echo", **body}
    reply = chat(server, body, headers)
    if body.get("stream"):
        r = check_stream(reply.status, reply.headers, reply.body)
    else:
        r = check_completion(reply.status, reply.headers, reply.body)
    log = server.access(reply.request_id)
    assert (log["end_reason"], log["http_status"]) == ("ok", 200), log
    return json.loads(r.content)


# ---------------------------------------------------------------------------------------------
# Bad input → 400 naming the field

BAD_REQUESTS = {
    "malformed JSON": (b'{"model": "mock-short", "messages": [', None),
    "body is an array": ([{"model": "mock-short"}], None),
    "body is a string": ('"hello"', None),
    "missing model": ({"messages": user()}, "model"),
    "model is a number": ({"model": 42, "messages": user()}, "model"),
    "model is empty": ({"model": "", "messages": user()}, "model"),
    "messages missing": ({"model": "mock-short"}, "messages"),
    "messages empty": ({"model": "mock-short", "messages": []}, "messages"),
    "messages not an array": ({"model": "mock-short", "messages": {"role": "user", "content": "hi"}}, "messages"),
    "message not an object": ({"model": "mock-short", "messages": ["hi"]}, "messages[0]"),
    "message role unknown": ({"model": "mock-short", "messages": [{"role": "wizard", "content": "hi"}]}, "messages[0].role"),
    "message role missing": ({"model": "mock-short", "messages": [{"content": "hi"}]}, "messages[0].role"),
    "content is a number": ({"model": "mock-short", "messages": [{"role": "user", "content": 42}]}, "messages[0].content"),
    "content is an object": ({"model": "mock-short", "messages": user() + [{"role": "user", "content": {"text": "x"}}]}, "messages[1].content"),
    "tool message without tool_call_id": ({"model": "mock-short", "messages": user() + [{"role": "tool", "content": "x"}]}, "messages[1].tool_call_id"),
    "n = 2": ({"model": "mock-short", "messages": user(), "n": 2}, "n"),
    "tools not an array": ({"model": "mock-short", "messages": user(), "tools": {"type": "function"}}, "tools"),
    "tool without function": ({"model": "mock-short", "messages": user(), "tools": [{"type": "function"}]}, "tools[0].function"),
    "tool_choice names a missing function": ({"model": "mock-short", "messages": user(), "tools": [TOOL], "tool_choice": {"type": "function", "function": {"name": "Nope"}}}, "tool_choice"),
    "tool_choice unknown string": ({"model": "mock-short", "messages": user(), "tools": [TOOL], "tool_choice": "sometimes"}, "tool_choice"),
    "temperature is a string": ({"model": "mock-short", "messages": user(), "temperature": "hot"}, "temperature"),
    "max_tokens is zero": ({"model": "mock-short", "messages": user(), "max_tokens": 0}, "max_tokens"),
    "stream is a string": ({"model": "mock-short", "messages": user(), "stream": "yes"}, "stream"),
    "stream_options not an object": ({"model": "mock-short", "messages": user(), "stream": True, "stream_options": True}, "stream_options"),
}


@pytest.mark.parametrize("name", list(BAD_REQUESTS))
def test_bad_request_is_400_naming_the_field(server, name):
    body, param = BAD_REQUESTS[name]
    reply = chat(server, body)
    err = check_error(reply.status, reply.headers, reply.body, expected_status=400).error
    assert err["type"] == "invalid_request_error"
    assert err["param"] == param, err
    if param:
        assert param.split(".")[-1].split("[")[0] in err["message"], err
    log = server.access(reply.request_id)
    assert (log["end_reason"], log["http_status"]) == ("invalid_request", 400), log


def test_oversized_body_is_413(start_server):
    s = start_server(env={"BODY_SIZE_LIMIT": "1kb"})
    small = chat(s, {"model": "mock-short", "messages": user("x" * 500)})
    check_completion(small.status, small.headers, small.body)
    big = chat(s, {"model": "mock-short", "messages": user("x" * 2000)})
    err = check_error(big.status, big.headers, big.body, expected_status=413).error
    assert err["code"] == "request_too_large"
    # Without Content-Length (chunked upload) the limit holds too.
    body = b'{"model":"mock-short","messages":[{"role":"user","content":"' + b"x" * 4000 + b'"}]}'
    with httpx.Client(trust_env=False) as c:
        r = c.post(f"{s.base_url}/v1/chat/completions", content=iter([body[:100], body[100:]]), headers={"Content-Type": "application/json"})
    assert r.request.headers.get("transfer-encoding") == "chunked"
    check_error(r.status_code, r.headers, r.content, expected_status=413)


def test_unknown_model_without_default_driver_is_404(start_server):
    plugins = mock_plugins(routes=[{"model": "mock-short", "driver": "mock"}, {"prefix": "mock-", "driver": "mock"}], default_driver=None)
    s = start_server(plugins, env={"MODEL_LIST": "extra-model-a, extra-model-b,mock-short"})
    for stream in (False, True):
        reply = chat(s, {"model": "gpt-unknown", "stream": stream, "messages": user()})
        err = check_error(reply.status, reply.headers, reply.body, expected_status=404).error
        assert (err["code"], err["param"]) == ("model_not_found", "model")
        assert "gpt-unknown" in err["message"]
    ok = chat(s, {"model": "mock-length", "messages": user()})
    assert check_completion(ok.status, ok.headers, ok.body).finish_reason == "length"
    models = get(s, "/v1/models")
    assert models.status == 200
    check_request_id_headers(models.headers)
    listing = models.json()
    assert listing["object"] == "list"
    assert [m["id"] for m in listing["data"]] == ["mock-short", "extra-model-a", "extra-model-b"]
    assert all(m["object"] == "model" and isinstance(m["created"], int) and m["owned_by"] for m in listing["data"])


# ---------------------------------------------------------------------------------------------
# Accepted shapes (client-contracts.md, "Requests mix2api must accept") → 200

CALL = {"id": "call_abc", "type": "function", "function": {"name": "Read", "arguments": '{"file_path":"a.txt"}'}}
ACCEPTED = {
    "content as text and image_url parts": (
        {"messages": [{"role": "user", "content": [{"type": "text", "text": "What is in "}, {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}}, {"type": "text", "text": " this picture?"}]}]},
        lambda d: d["last_user"].startswith("What is in ") and d["last_user"].endswith(" this picture?")),
    "content null with tool_calls, tool role with name": (
        {"tools": [TOOL], "messages": user("read it") + [
            {"role": "assistant", "content": None, "tool_calls": [CALL]},
            {"role": "tool", "tool_call_id": "call_abc", "name": "Read", "content": "file body"},
            {"role": "user", "content": "thanks"}]},
        # A text-only driver sees the rendered protocol: instructions in a system message, the
        # call in the assistant text, the result (with the next user text) as a user turn.
        lambda d: d["roles"] == ["system", "user", "assistant", "user"] and d["last_user"].startswith('<tool_result name="Read" id="call_abc">')
        and d["last_user"].endswith("thanks") and d["tools"] == ["Read"]),
    "content empty string with tool_calls": (
        {"tools": [TOOL], "messages": user("read it") + [
            {"role": "assistant", "content": "", "tool_calls": [CALL]},
            {"role": "tool", "tool_call_id": "call_abc", "content": [{"type": "text", "text": "file body"}]}]},
        lambda d: d["roles"] == ["system", "user", "assistant", "user"] and "file body" in d["last_user"]),
    "legacy functions, function_call and function role": (
        {"functions": [{"name": "get_weather", "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}],
         "function_call": "auto",
         "messages": user("weather?") + [
             {"role": "assistant", "content": None, "function_call": {"name": "get_weather", "arguments": '{"city":"Oslo"}'}},
             {"role": "function", "name": "get_weather", "content": "sunny"}]},
        lambda d: d["roles"] == ["system", "user", "assistant", "user"] and 'name="get_weather"' in d["last_user"] and d["tools"] == ["get_weather"]),
    "developer and system roles": (
        {"messages": [{"role": "system", "content": "be brief"}, {"role": "developer", "content": "be kind"}] + user("hello")},
        lambda d: d["message_count"] == 3 and d["roles"][-1] == "user" and d["last_user"] == "hello"),
    "reasoning_content on assistant": (
        {"messages": user("a") + [{"role": "assistant", "content": "b", "reasoning_content": "thinking"}] + user("c")},
        lambda d: d["roles"] == ["user", "assistant", "user"] and d["last_user"] == "c"),
    "tools with type mcp tolerated": (
        {"tools": [{"type": "mcp", "server_label": "x", "server_url": "https://example.invalid"}, TOOL, {"type": "web_search"}], "messages": user()},
        lambda d: d["tools"] == ["Read"]),
    "tool_choice none": ({"tools": [TOOL], "tool_choice": "none", "messages": user()}, lambda d: d["tool_choice"]["mode"] == "none"),
    "stream_options include_usage": ({"stream": True, "stream_options": {"include_usage": True}, "messages": user()}, lambda d: d["stream"] is True),
    "max_completion_tokens": ({"max_completion_tokens": 77, "messages": user()}, lambda d: d["max_tokens"] == 77),
    "max_tokens and temperature": ({"max_tokens": 16, "temperature": 0.5, "top_p": 0.9, "messages": user()}, lambda d: d["max_tokens"] == 16 and d["temperature"] == 0.5),
    "stop as a string": ({"stop": "END", "messages": user()}, lambda d: d["message_count"] == 1),
    "stop as an array": ({"stop": ["END", "STOP"], "messages": user()}, lambda d: d["message_count"] == 1),
    "unknown and ignorable fields": (
        {"seed": 7, "top_k": 40, "user": "u-1", "metadata": {"k": "v"}, "reasoning_effort": "low", "response_format": {"type": "text"},
         "logprobs": False, "frequency_penalty": 0, "presence_penalty": 0, "some_future_field": {"nested": [1, 2]}, "n": 1, "messages": user("x")},
        lambda d: d["last_user"] == "x"),
    "new-api channel test": ({"messages": [{"role": "user", "content": "hi"}], "max_tokens": 16, "stream": False}, lambda d: d["max_tokens"] == 16 and d["stream"] is False),
}


@pytest.mark.parametrize("name", list(ACCEPTED))
def test_accepted_shape(server, name):
    body, check = ACCEPTED[name]
    digest = echo(server, body)
    assert check(digest), digest


def test_required_tool_choice_is_honoured(server):
    """A demanded call that never comes is retried once, then an adapter error; a model that
    calls the named function gets it through."""
    body = {"model": "mock-echo", "tools": [TOOL], "tool_choice": "required", "messages": user()}
    r = chat(server, body)
    check_error(r.status, r.headers, r.body, expected_status=502)
    assert r.json()["error"]["code"] == "tool_call_invalid"
    assert server.access(r.request_id)["end_reason"] == "adapter_error"

    body = {"model": "mock-tool", "tools": [TOOL], "tool_choice": {"type": "function", "function": {"name": "Read"}},
            "parallel_tool_calls": False, "messages": user("read ./a.txt")}
    r = chat(server, body)
    check_completion(r.status, r.headers, r.body)
    calls = r.json()["choices"][0]["message"]["tool_calls"]
    assert [c["function"]["name"] for c in calls] == ["Read"]


def test_unusable_tool_call_is_retried_once_with_the_reason(server):
    """The model first calls a tool that does not exist. Not streamed, the client has seen
    nothing, so the host asks again, telling it why, and only the good call comes out. Streamed,
    the model's sentence before the call already reached the client (deltas are paced), so a
    second answer would be a second answer: the stream ends with a visible adapter error."""
    body = {"model": "mock-tool-flaky", "tools": [TOOL], "messages": user("read ./a.txt")}
    r = chat(server, body)
    check_completion(r.status, r.headers, r.body)
    assert [c["function"]["name"] for c in r.json()["choices"][0]["message"]["tool_calls"]] == ["Read"]
    assert server.access(r.request_id)["end_reason"] == "ok"

    r = chat(server, {**body, "stream": True})
    result = check_stream(r.status, r.headers, r.body, expect_error=True)
    assert result.error["code"] == "tool_call_invalid" and "NoSuchTool" in result.error["message"]
    assert "<invoke" not in result.content and result.tool_calls == []
    assert server.access(r.request_id)["end_reason"] == "adapter_error"


def test_accepted_shapes_also_stream(server):
    for name in ("content as text and image_url parts", "legacy functions, function_call and function role", "unknown and ignorable fields"):
        body, check = ACCEPTED[name]
        digest = echo(server, {**body, "stream": True})
        assert check(digest) and digest["stream"] is True, (name, digest)


# ---------------------------------------------------------------------------------------------
# Inbound auth


@pytest.fixture
def auth_server(start_server):
    return start_server(env={"INBOUND_BEARER_TOKEN": "k1,k2"})


@pytest.mark.parametrize("headers,code", [
    ({}, "missing_api_key"),
    ({"Authorization": "Bearer wrong"}, "invalid_api_key"),
    ({"Authorization": "Bearer k1x"}, "invalid_api_key"),
    ({"Authorization": "Bearer k"}, "invalid_api_key"),
    ({"x-api-key": "nope"}, "invalid_api_key"),
])
def test_bad_inbound_key_is_401(auth_server, headers, code):
    for stream in (False, True):
        reply = chat(auth_server, {"model": "mock-short", "stream": stream, "messages": user()}, headers)
        err = check_error(reply.status, reply.headers, reply.body, expected_status=401).error
        assert (err["type"], err["code"]) == ("authentication_error", code)
        log = auth_server.access(reply.request_id)
        assert (log["end_reason"], log["http_status"]) == ("auth_error", 401), log
    models = get(auth_server, "/v1/models", headers)
    assert check_error(models.status, models.headers, models.body, expected_status=401).error["code"] == code


@pytest.mark.parametrize("headers", [{"Authorization": "Bearer k2"}, {"Authorization": "Bearer k1"}, {"authorization": "bearer k1"}, {"x-api-key": "k1"}])
def test_good_inbound_key(auth_server, headers):
    reply = chat(auth_server, {"model": "mock-short", "messages": user()}, headers)
    check_completion(reply.status, reply.headers, reply.body)
    reply = chat(auth_server, {"model": "mock-short", "stream": True, "messages": user()}, headers)
    check_stream(reply.status, reply.headers, reply.body)
    models = get(auth_server, "/v1/models", headers)
    assert models.status == 200 and models.json()["object"] == "list"


def test_health_needs_no_key(auth_server):
    assert get(auth_server, "/health").status == 200
    assert get(auth_server, "/ready").status == 200


# ---------------------------------------------------------------------------------------------
# Request ids

SANE_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


def test_sane_request_id_is_echoed(server):
    rid = "client-req_42.abc:XYZ"
    for stream in (False, True):
        reply = chat(server, {"model": "mock-short", "stream": stream, "messages": user()}, {"X-Request-Id": f"{rid}-{stream}"})
        assert check_request_id_headers(reply.headers) == f"{rid}-{stream}"
        assert server.access(f"{rid}-{stream}")["stream"] is stream
    err = chat(server, {"model": "mock-short"}, {"X-Request-Id": "client-bad-1"})
    assert check_error(err.status, err.headers, err.body, 400).request_id == "client-bad-1"
    assert server.access("client-bad-1")["end_reason"] == "invalid_request"


@pytest.mark.parametrize("bad_id", ["has spaces in it", "x" * 300, "semi;colon", "quote\"d", "ünïcode"])
def test_insane_request_id_is_replaced(server, bad_id):
    reply = chat(server, {"model": "mock-echo", "messages": user()}, {"X-Request-Id": bad_id.encode("utf-8")})
    rid = check_request_id_headers(reply.headers)
    assert rid != bad_id and SANE_ID.match(rid), rid
    assert json.loads(check_completion(reply.status, reply.headers, reply.body).content)["request_id"] == rid
    assert server.access(rid)["end_reason"] == "ok"


def test_request_id_length_limit(server):
    ok = "r" * 128
    assert check_request_id_headers(chat(server, {"model": "mock-short", "messages": user()}, {"X-Request-Id": ok}).headers) == ok
    replaced = check_request_id_headers(chat(server, {"model": "mock-short", "messages": user()}, {"X-Request-Id": ok + "r"}).headers)
    assert replaced != ok + "r" and SANE_ID.match(replaced)


def test_request_ids_are_unique(server):
    ids = {chat(server, {"model": "mock-short", "messages": user()}).request_id for _ in range(20)}
    assert len(ids) == 20


# ---------------------------------------------------------------------------------------------
# Status routes


def test_models_lists_routed_models(server):
    reply = get(server, "/v1/models")
    assert reply.status == 200
    check_request_id_headers(reply.headers)
    assert reply.json() == {"object": "list", "data": []}  # the default server routes by prefix only


def test_health_and_ready(server):
    health = get(server, "/health")
    assert health.status == 200 and health.json()["status"] == "ok"
    check_request_id_headers(health.headers)
    ready = get(server, "/ready")
    assert ready.status == 200 and ready.json()["status"] == "ready"
    check_request_id_headers(ready.headers)


@pytest.mark.parametrize("method,path", [("GET", "/v1/nothing-here"), ("POST", "/v1/nothing-here"), ("GET", "/v2/chat/completions")])
def test_unknown_path_is_404_envelope(server, method, path):
    reply = request(method, server.base_url + path, body={} if method == "POST" else None)
    err = check_error(reply.status, reply.headers, reply.body, expected_status=404).error
    assert err["type"] == "not_found_error"


@pytest.mark.parametrize("path", ["/chat/completions", "/"])
def test_alias_chat_paths(server, path):
    reply = request("POST", server.base_url + path, body={"model": "mock-short", "messages": user()})
    assert check_completion(reply.status, reply.headers, reply.body).content == "Hello from the mock upstream."


# ---------------------------------------------------------------------------------------------
# What reaches the driver, and what the access line records


@pytest.mark.parametrize("stream", [False, True], ids=["nonstream", "stream"])
def test_awkward_text_round_trips(server, stream):
    text = 'line1\nline2\r\n\ttab "quoted" \\ back\x00nul \u2028sep </script> Grüße 世界 🚀'
    digest = echo(server, {"stream": stream, "messages": user(text)})
    assert digest["last_user"] == text


def test_access_line_counts_tool_results(server):
    body = {"model": "mock-echo", "tools": [TOOL], "messages": user("read it") + [
        {"role": "assistant", "content": None, "tool_calls": [CALL, {**CALL, "id": "call_def"}]},
        {"role": "tool", "tool_call_id": "call_abc", "content": "one"},
        {"role": "tool", "tool_call_id": "call_def", "content": "two"}]}
    reply = chat(server, body)
    check_completion(reply.status, reply.headers, reply.body)
    log = server.access(reply.request_id)
    assert (log["tools_present"], log["tool_results"], log["tool_calls"]) == (True, 2, 0), log


CLAUDE_TOOLS = [{"type": "function", "function": {"name": n, "parameters": {"type": "object"}}} for n in ("Bash", "Edit", "Read", "Write")]
OPENCODE_TOOLS = [{"type": "function", "function": {"name": n, "parameters": {"type": "object"}}} for n in ("bash", "edit", "read")]


@pytest.mark.parametrize("headers,extra,client", [
    ({"X-Client-User-Agent": "opencode/0.5.1 ai-sdk/openai-compatible"}, {}, "opencode"),
    ({"User-Agent": "claude-cli/1.0.98 (external, cli)"}, {}, "claude-code"),
    ({"User-Agent": "Go-http-client/1.1"}, {"tools": CLAUDE_TOOLS}, "claude-code"),
    ({"User-Agent": "Go-http-client/1.1"}, {"tools": OPENCODE_TOOLS}, "opencode"),
    ({"User-Agent": "Go-http-client/1.1"}, {}, "new-api"),
    ({"User-Agent": "curl/8"}, {}, "other"),
])
def test_client_is_classified(server, headers, extra, client):
    body = {"model": "mock-echo", "messages": user(), **extra}
    reply = chat(server, body, headers)
    r = check_completion(reply.status, reply.headers, reply.body)
    assert server.access(reply.request_id)["client"] == client
    assert json.loads(r.content)["client"] == client
