"""The checker must fail on each broken rule: a checker that cannot fail proves nothing."""

import json

import pytest

from contract import ContractViolation, check_completion, check_error, check_stream

RID = {"X-Request-Id": "req-1", "X-Oneapi-Request-Id": "req-1"}
SSE = {"Content-Type": "text/event-stream", **RID}
JSON = {"Content-Type": "application/json", **RID}
CALL_ID = "call_" + "a1B2c3D4e5F6g7H8i9J0k1L2"


def chunk(delta=None, finish=None, *, choices=None, usage=None, **override):
    c = {"id": "chatcmpl-x1", "object": "chat.completion.chunk", "created": 1700000000, "model": "m"}
    c["choices"] = choices if choices is not None else [{"index": 0, "delta": delta if delta is not None else {}, "finish_reason": finish}]
    if usage is not None:
        c["usage"] = usage
    c.update(override)
    return c


ROLE = chunk({"role": "assistant", "content": ""})
TEXT = chunk({"content": "Hi"})
STOP = chunk({}, "stop")
USAGE = chunk(choices=[], usage={"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4})
TOOL_START = chunk({"tool_calls": [{"index": 0, "id": CALL_ID, "type": "function", "function": {"name": "Write", "arguments": ""}}]})
TOOL_ARGS = chunk({"tool_calls": [{"index": 0, "function": {"arguments": '{"path":"a.txt"}'}}]})
TOOLS_FINISH = chunk({}, "tool_calls")
ERROR = {"error": {"message": "upstream broke", "type": "upstream_error", "code": "upstream_error"}}


def sse(*events) -> bytes:
    out = []
    for e in events:
        if isinstance(e, str):
            out.append(e if e.startswith(":") else f"data: {e}")
        else:
            out.append("data: " + json.dumps(e))
    return "".join(f"{line}\n\n" for line in out).encode()


GOOD_TEXT = [ROLE, TEXT, STOP, USAGE, "[DONE]"]
GOOD_TOOL = [ROLE, TOOL_START, TOOL_ARGS, TOOLS_FINISH, USAGE, "[DONE]"]
GOOD_ERROR = [ROLE, TEXT, ERROR, "[DONE]"]


def test_good_transcripts_pass():
    r = check_stream(200, SSE, sse(*GOOD_TEXT))
    assert (r.content, r.finish_reason, r.usage["total_tokens"]) == ("Hi", "stop", 4)
    r = check_stream(200, SSE, sse(ROLE, ": ping", TEXT, ": ping", STOP, USAGE, "[DONE]"))
    assert len(r.comments) == 2
    r = check_stream(200, SSE, sse(*GOOD_TOOL))
    assert r.tool_calls[0].name == "Write" and json.loads(r.tool_calls[0].arguments) == {"path": "a.txt"}
    r = check_stream(200, SSE, sse(*GOOD_ERROR), expect_error=True)
    assert r.error["message"] == "upstream broke"


BROKEN_STREAMS = {
    "role is empty string": (sse(chunk({"role": "", "content": ""}), TEXT, STOP, USAGE, "[DONE]"), False, 'never ""'),
    "first chunk without role": (sse(TEXT, STOP, USAGE, "[DONE]"), False, "first chunk"),
    "missing usage chunk": (sse(ROLE, TEXT, STOP, "[DONE]"), False, "usage chunk is missing"),
    "usage with zero prompt tokens": (sse(ROLE, TEXT, STOP, chunk(choices=[], usage={"prompt_tokens": 0, "completion_tokens": 1, "total_tokens": 1}), "[DONE]"), False, "prompt_tokens"),
    "usage total is not the sum": (sse(ROLE, TEXT, STOP, chunk(choices=[], usage={"prompt_tokens": 2, "completion_tokens": 1, "total_tokens": 4}), "[DONE]"), False, "total_tokens"),
    "missing [DONE]": (sse(ROLE, TEXT, STOP, USAGE), False, "[DONE]"),
    "bytes after [DONE]": (sse(*GOOD_TEXT, ROLE), False, "follow `data: [DONE]`"),
    "no finish chunk (silent end)": (sse(ROLE, TEXT, "[DONE]"), False, "before the finish chunk"),
    "two finish chunks": (sse(ROLE, TEXT, STOP, STOP, USAGE, "[DONE]"), False, "finish chunk"),
    "finish chunk with content": (sse(ROLE, chunk({"content": "x"}, "stop"), USAGE, "[DONE]"), False, "empty delta"),
    "unknown finish reason": (sse(ROLE, TEXT, chunk({}, "end_turn"), USAGE, "[DONE]"), False, "finish_reason must be"),
    "tool_calls finish without tool calls": (sse(ROLE, TEXT, TOOLS_FINISH, USAGE, "[DONE]"), False, "tool_calls exactly when"),
    "stop finish after tool calls": (sse(ROLE, TOOL_START, TOOL_ARGS, STOP, USAGE, "[DONE]"), False, "tool_calls exactly when"),
    "content and tool_calls in one chunk": (sse(ROLE, chunk({"content": "I'll call it", "tool_calls": TOOL_START["choices"][0]["delta"]["tool_calls"]}), TOOL_ARGS, TOOLS_FINISH, USAGE, "[DONE]"), False, "same chunk"),
    "duplicate tool name delta": (sse(ROLE, TOOL_START, chunk({"tool_calls": [{"index": 0, "function": {"name": "Write", "arguments": '{"path":"a.txt"}'}}]}), TOOLS_FINISH, USAGE, "[DONE]"), False, "repeat its name"),
    "duplicate tool id delta": (sse(ROLE, TOOL_START, chunk({"tool_calls": [{"index": 0, "id": CALL_ID, "function": {"arguments": "{}"}}]}), TOOLS_FINISH, USAGE, "[DONE]"), False, "repeat its id"),
    "tool index starts at 1": (sse(ROLE, chunk({"tool_calls": [{"index": 1, "id": CALL_ID, "type": "function", "function": {"name": "W", "arguments": ""}}]}), TOOLS_FINISH, USAGE, "[DONE]"), False, "no gaps"),
    "tool call id not call_<24>": (sse(ROLE, chunk({"tool_calls": [{"index": 0, "id": "toolu_1", "type": "function", "function": {"name": "W", "arguments": ""}}]}), TOOLS_FINISH, USAGE, "[DONE]"), False, "call_<24 alnum>"),
    "first tool delta with arguments": (sse(ROLE, chunk({"tool_calls": [{"index": 0, "id": CALL_ID, "type": "function", "function": {"name": "W", "arguments": "{}"}}]}), TOOLS_FINISH, USAGE, "[DONE]"), False, 'arguments == ""'),
    "tool delta without function object": (sse(ROLE, TOOL_START, chunk({"tool_calls": [{"index": 0}]}), TOOLS_FINISH, USAGE, "[DONE]"), False, "function object"),
    "parsable placeholder before arguments": (sse(ROLE, TOOL_START, chunk({"tool_calls": [{"index": 0, "function": {"arguments": "{}"}}]}), TOOL_ARGS, TOOLS_FINISH, USAGE, "[DONE]"), False, "placeholder"),
    "arguments never parse": (sse(ROLE, TOOL_START, chunk({"tool_calls": [{"index": 0, "function": {"arguments": '{"path":'}}]}), TOOLS_FINISH, USAGE, "[DONE]"), False, "parse as JSON"),
    "reasoning after content": (sse(ROLE, TEXT, chunk({"reasoning_content": "hmm"}), STOP, USAGE, "[DONE]"), False, "before content"),
    "id changes between chunks": (sse(ROLE, chunk({"content": "x"}, id="chatcmpl-other"), STOP, USAGE, "[DONE]"), False, "same in every chunk"),
    "multi-line data event": (b"data: " + json.dumps(ROLE).encode() + b"\ndata: {}\n\n" + sse(STOP, USAGE, "[DONE]"), False, "exactly one"),
    "data line not JSON": (sse(ROLE, "{not json", STOP, USAGE, "[DONE]"), False, "JSON object"),
    "missing blank line at the end": (sse(*GOOD_TEXT)[:-1], False, "blank line"),
    "error chunk in a stream that should succeed": (sse(*GOOD_ERROR), False, "unexpected mid-stream error"),
    "finish chunk after an error": (sse(ROLE, TEXT, ERROR, STOP, USAGE, "[DONE]"), True, "only `data: [DONE]`"),
    "error after the finish chunk": (sse(ROLE, TEXT, STOP, ERROR, "[DONE]"), True, "after the finish chunk"),
    "error without [DONE]": (sse(ROLE, TEXT, ERROR), True, "[DONE]"),
    "expected error but stream stopped": (sse(*GOOD_TEXT), True, "error chunk before"),
    "error put into assistant text": (sse(ROLE, chunk({"content": "upstream broke"}), ERROR, "[DONE]"), True, "assistant text"),
    "error chunk without code": (sse(ROLE, TEXT, {"error": {"message": "x", "type": "t"}}, "[DONE]"), True, "error.code"),
}


@pytest.mark.parametrize("name", list(BROKEN_STREAMS))
def test_broken_stream_is_rejected(name):
    body, expect_error, match = BROKEN_STREAMS[name]
    with pytest.raises(ContractViolation, match=match.replace("[", r"\[").replace("(", r"\(")):
        check_stream(200, SSE, body, expect_error=expect_error)


def test_stream_transport_rules():
    good = sse(*GOOD_TEXT)
    with pytest.raises(ContractViolation, match="text/event-stream"):
        check_stream(200, {**RID, "Content-Type": "application/json"}, good)
    with pytest.raises(ContractViolation, match="X-Oneapi-Request-Id"):
        check_stream(200, {"Content-Type": "text/event-stream", "X-Request-Id": "a"}, good)
    with pytest.raises(ContractViolation, match="equal"):
        check_stream(200, {"Content-Type": "text/event-stream", "X-Request-Id": "a", "X-Oneapi-Request-Id": "b"}, good)
    with pytest.raises(ContractViolation, match="status 200"):
        check_stream(502, SSE, good)


def completion(message, finish="stop", usage=None):
    return json.dumps({
        "id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": "m",
        "choices": [{"index": 0, "message": message, "finish_reason": finish}],
        "usage": usage or {"prompt_tokens": 2, "completion_tokens": 3, "total_tokens": 5},
    }).encode()


def test_completion_checker():
    r = check_completion(200, JSON, completion({"role": "assistant", "content": "Hi"}))
    assert r.content == "Hi"
    call = {"id": CALL_ID, "type": "function", "function": {"name": "W", "arguments": "{}"}}
    check_completion(200, JSON, completion({"role": "assistant", "content": None, "tool_calls": [call]}, "tool_calls"))
    broken = {
        "content null without tool_calls": completion({"role": "assistant", "content": None}),
        "arguments as an object": completion({"role": "assistant", "content": None, "tool_calls": [{**call, "function": {"name": "W", "arguments": {}}}]}, "tool_calls"),
        "tool_calls with finish stop": completion({"role": "assistant", "content": "", "tool_calls": [call]}, "stop"),
        "finish tool_calls without calls": completion({"role": "assistant", "content": "x"}, "tool_calls"),
        "zero prompt tokens": completion({"role": "assistant", "content": "x"}, usage={"prompt_tokens": 0, "completion_tokens": 1, "total_tokens": 1}),
        "role empty": completion({"role": "", "content": "x"}),
        "top-level error": json.dumps({**json.loads(completion({"role": "assistant", "content": "x"})), "error": {"message": "x"}}).encode(),
    }
    for name, body in broken.items():
        with pytest.raises(ContractViolation):
            check_completion(200, JSON, body)
            pytest.fail(f"accepted: {name}")


def test_error_checker():
    good = json.dumps({"error": {"message": "bad", "type": "invalid_request_error", "code": "invalid_request", "param": "model"}}).encode()
    assert check_error(400, JSON, good).error["param"] == "model"
    with pytest.raises(ContractViolation, match="504"):
        check_error(504, JSON, good)
    with pytest.raises(ContractViolation, match="one of"):
        check_error(418, JSON, good)
    with pytest.raises(ContractViolation, match="Retry-After"):
        check_error(429, JSON, good)
    check_error(429, {**JSON, "Retry-After": "2"}, good)
    with pytest.raises(ContractViolation, match="param"):
        check_error(400, JSON, json.dumps({"error": {"message": "bad", "type": "t", "code": "c"}}).encode())
    with pytest.raises(ContractViolation, match="X-Request-Id"):
        check_error(400, {"Content-Type": "application/json"}, good)
