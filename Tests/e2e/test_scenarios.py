"""Every MockUpstream scenario, streamed and not, through the real binary: the wire contract,
what the answer says, and the access-log line of the request."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pytest

from conftest import DEFAULT_MOCK_CONFIG, mock_plugins
from contract import check_completion, check_error, check_stream
from wire import chat, user

GREETING = "Hello from the mock upstream."
LONG_DELTAS = DEFAULT_MOCK_CONFIG["long_deltas"]
USAGE_PROMPT = "x" * 400  # the mock reports 400 bytes / 4 = 100 prompt tokens; the host's estimate would be 104
TOOLS = [
    {"type": "function", "function": {"name": "Write", "description": "Write a file", "parameters": {
        "type": "object", "required": ["file_path", "content"],
        "properties": {"file_path": {"type": "string"}, "content": {"type": "string"}}}}},
    {"type": "function", "function": {"name": "Read", "description": "Read a file", "parameters": {
        "type": "object", "required": ["file_path"], "properties": {"file_path": {"type": "string"}}}}},
]


@dataclass
class Expect:
    content: str | None = None
    reasoning: str | None = None
    finish: str = "stop"
    usage: tuple[int, int] | None = None  # (prompt, completion) reported by the mock
    tools: bool = False  # send TOOLS
    calls: list[str] | None = None  # the tool names the answer must call, in order
    http_error: int | None = None  # an error before any byte, stream or not
    end_reason: str = "ok"
    upstream_status: int = 200
    stream_error: bool = False  # streamed: 200 then an error chunk
    non_stream_error: int | None = None  # non-streamed: this HTTP error
    pings: bool = False  # streamed: at least one `: ping`
    retry_after: str | None = None


SCENARIOS: dict[str, Expect] = {
    "mock-short": Expect(content=GREETING, upstream_status=0),
    "mock-usage": Expect(content=GREETING, usage=(100, 5)),
    "mock-long": Expect(content="".join(f"word{i} " for i in range(1, LONG_DELTAS + 1))),
    "mock-chars": Expect(content="Grüße, 世界! 🚀 ok"),
    "mock-reasoning": Expect(reasoning="The user wants a short answer.", content="Here is the answer."),
    "mock-length": Expect(content="This answer was cut off at", finish="length"),
    # The mock writes its calls in the text protocol; the host turns them into real tool calls.
    "mock-tool": Expect(tools=True, finish="tool_calls", calls=["Write"]),
    "mock-tool-json": Expect(tools=True, finish="tool_calls", calls=["Write"]),
    "mock-tool-parallel": Expect(tools=True, finish="tool_calls", calls=["Write", "Read"]),
    "mock-error-early": Expect(http_error=502, end_reason="upstream_error", upstream_status=502),
    "mock-error-mid": Expect(content="".join(f"part{i} " for i in range(1, 6)), stream_error=True, non_stream_error=502, end_reason="upstream_error"),
    "mock-rate-limited": Expect(http_error=429, end_reason="rate_limited", upstream_status=429, retry_after="2"),
    "mock-auth-error": Expect(http_error=503, end_reason="upstream_auth_error", upstream_status=401),
    "mock-stall": Expect(content="Before the stall, and after it.", pings=True),
    "mock-slow-first": Expect(content=GREETING, pings=True),
    "mock-echo": Expect(upstream_status=0),
}


def request_for(model: str, stream: bool, expect: Expect) -> dict:
    body = {"model": model, "stream": stream, "messages": user(USAGE_PROMPT if model == "mock-usage" else "Please create notes/hello.txt")}
    if expect.tools:
        body["tools"] = TOOLS
    return body


@pytest.mark.parametrize("stream", [True, False], ids=["stream", "nonstream"])
@pytest.mark.parametrize("model", list(SCENARIOS))
def test_scenario(server, model, stream):
    expect = SCENARIOS[model]
    reply = chat(server, request_for(model, stream, expect))
    log = server.access(reply.request_id)
    assert (log["model"], log["driver"], log["stream"], log["tools_present"]) == (model, "mock", stream, expect.tools)
    assert log["upstream_status"] == expect.upstream_status, log

    error_status = expect.http_error or (None if stream else expect.non_stream_error)
    if error_status:
        err = check_error(reply.status, reply.headers, reply.body, expected_status=error_status)
        assert (log["end_reason"], log["http_status"]) == (expect.end_reason, error_status), log
        if expect.retry_after:
            assert err.retry_after == expect.retry_after
        assert log["chunks"] == 0
        return

    if stream:
        r = check_stream(reply.status, reply.headers, reply.body, expect_error=expect.stream_error)
        assert log["chunks"] > 0 and log["tool_calls"] == len(r.tool_calls), log
        if expect.stream_error:
            assert r.error["type"] == "upstream_error" and "mid-stream" in r.error["message"]
        else:
            assert r.finish_reason == expect.finish
        if expect.pings:
            assert r.comments, "a silence longer than MIX2API_KEEPALIVE_MS must carry `: ping` comments"
        reasoning, usage, tool_calls = r.reasoning, r.usage, r.tool_calls
    else:
        r = check_completion(reply.status, reply.headers, reply.body)
        assert r.finish_reason == expect.finish
        assert log["tool_calls"] == len(r.tool_calls), log
        reasoning, usage, tool_calls = r.reasoning or "", r.usage, r.tool_calls
    assert (log["end_reason"], log["http_status"]) == (expect.end_reason, 200), log
    assert log.get("ttfb_ms") is not None and log["duration_ms"] >= log["ttfb_ms"], log

    if expect.content is not None:
        assert r.content == expect.content
    if expect.reasoning is not None:
        assert reasoning == expect.reasoning
    if expect.usage:
        assert (usage["prompt_tokens"], usage["completion_tokens"]) == expect.usage, "usage must be what the upstream reported, not an estimate"
    if expect.calls is not None:
        # Streamed calls come back as ToolCall objects, non-streamed ones as the JSON dicts.
        names = [c.name if hasattr(c, "name") else c["function"]["name"] for c in tool_calls]
        arguments = [c.arguments if hasattr(c, "arguments") else c["function"]["arguments"] for c in tool_calls]
        assert names == expect.calls
        assert all(isinstance(json.loads(a), dict) for a in arguments)
        assert "<tool_calls>" not in r.content and "<invoke" not in r.content, "markup never reaches the client"
    if model == "mock-echo":
        digest = json.loads(r.content)
        assert digest["model"] == model and digest["stream"] is stream
        assert digest["request_id"] == reply.request_id
        assert (digest["message_count"], digest["roles"], digest["last_user"]) == (1, ["user"], "Please create notes/hello.txt")


def test_stream_sends_deltas_one_by_one(server):
    """mock-chars sends one Character per delta: each arrives as its own valid-UTF-8 chunk."""
    reply = chat(server, {"model": "mock-chars", "stream": True, "messages": user()})
    r = check_stream(reply.status, reply.headers, reply.body)
    assert r.content_deltas == list("Grüße, 世界! 🚀 ok")


def test_long_stream_has_every_delta(server):
    reply = chat(server, {"model": "mock-long", "stream": True, "messages": user()})
    r = check_stream(reply.status, reply.headers, reply.body)
    assert "".join(r.content_deltas) == "".join(f"word{i} " for i in range(1, LONG_DELTAS + 1))
    assert r.content_deltas[-1] == f"word{LONG_DELTAS} "


def test_reasoning_streams_before_content(server):
    reply = chat(server, {"model": "mock-reasoning", "stream": True, "messages": user()})
    r = check_stream(reply.status, reply.headers, reply.body)
    kinds = []
    for c in r.chunks:
        delta = c["choices"][0]["delta"] if c["choices"] else {}
        if delta.get("reasoning_content"):
            kinds.append("reasoning")
        elif delta.get("content"):
            kinds.append("content")
    assert kinds == ["reasoning"] * 4 + ["content"] * 2


def test_stall_pings_fall_inside_the_silence(server):
    reply = chat(server, {"model": "mock-stall", "stream": True, "messages": user()})
    r = check_stream(reply.status, reply.headers, reply.body)
    shape = "".join({"data": "d", "comment": "c", "done": "D"}[e] for e in r.events)
    # role, "Before", " the stall," — pings — " and after", " it.", finish, usage, [DONE]
    assert shape.startswith("ddd") and shape.endswith("ddddD") and "c" in shape[3:-5], shape
    assert r.comments and all(c == ": ping" for c in r.comments)


def test_mid_stream_error_keeps_the_deltas_sent_before_it(server):
    reply = chat(server, {"model": "mock-error-mid", "stream": True, "messages": user()})
    r = check_stream(reply.status, reply.headers, reply.body, expect_error=True)
    assert r.content_deltas == [f"part{i} " for i in range(1, 6)]
    assert r.finish_reason is None and r.usage is None
    assert r.events[-2:] == ["data", "done"]


@pytest.mark.parametrize("model", ["mix/mock-chars", "openai/mock-length"])
def test_provider_prefix_is_stripped_for_routing(server, model):
    reply = chat(server, {"model": model, "stream": True, "messages": user()})
    r = check_stream(reply.status, reply.headers, reply.body)
    assert r.chunks[0]["model"] == model
    assert r.finish_reason == ("length" if model.endswith("length") else "stop")


def test_concurrent_streams_do_not_mix(server):
    """Three dozen streams at once: each keeps its own id and its own text, byte-clean."""
    from concurrent.futures import ThreadPoolExecutor

    models = ["mock-long", "mock-chars", "mock-stall", "mock-reasoning", "mock-short", "mock-length"] * 6

    def run(model):
        reply = chat(server, {"model": model, "stream": True, "messages": user()})
        return model, check_stream(reply.status, reply.headers, reply.body)

    with ThreadPoolExecutor(max_workers=len(models)) as pool:
        results = list(pool.map(run, models))
    assert len({r.id for _, r in results}) == len(models)
    for model, r in results:
        expect = SCENARIOS[model]
        assert r.content == expect.content and r.finish_reason == expect.finish, model


@pytest.mark.parametrize("model,end_reason,code", [
    ("mock-error-early", "upstream_error", "upstream_error"),
    ("mock-rate-limited", "rate_limited", "rate_limited"),
    ("mock-auth-error", "upstream_auth_error", "upstream_auth_error"),
])
def test_early_error_after_keepalive_is_an_error_chunk(start_server, model, end_reason, code):
    """When the first keep-alive is due before the upstream's first event, the 200 has gone out:
    an 'early' error can then only be an error chunk and [DONE]."""
    s = start_server(mock_plugins({"first_delay_ms": 700}), env={"MIX2API_KEEPALIVE_MS": "300"})
    reply = chat(s, {"model": model, "stream": True, "messages": user()})
    r = check_stream(reply.status, reply.headers, reply.body, expect_error=True)
    assert r.comments and r.chunks == []
    assert r.error["code"] == code
    log = s.access(reply.request_id)
    assert (log["end_reason"], log["http_status"]) == (end_reason, 200), log
