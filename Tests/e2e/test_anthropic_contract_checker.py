"""The Anthropic stream checker must fail on each broken rule: a checker that cannot fail proves nothing."""

import json

import pytest

from anthropic_contract import ContractViolation, check_error, check_message, check_stream

RID = {"X-Request-Id": "req-1", "X-Oneapi-Request-Id": "req-1"}
SSE = {"Content-Type": "text/event-stream", **RID}
JSON = {"Content-Type": "application/json", **RID}
TOOL_ID = "toolu_a1B2c3D4e5F6g7H8i9J0k1L2"

START = {"type": "message_start", "message": {"id": "msg_1", "type": "message", "role": "assistant", "model": "m", "content": [],
                                               "stop_reason": None, "stop_sequence": None, "usage": {"input_tokens": 3, "output_tokens": 1}}}
PING = {"type": "ping"}


def block_start(index, block):
    return {"type": "content_block_start", "index": index, "content_block": block}


def delta(index, d):
    return {"type": "content_block_delta", "index": index, "delta": d}


def stop(index):
    return {"type": "content_block_stop", "index": index}


def message_delta(reason, output=2):
    return {"type": "message_delta", "delta": {"stop_reason": reason, "stop_sequence": None}, "usage": {"output_tokens": output}}


TEXT_START = block_start(0, {"type": "text", "text": ""})
TEXT = delta(0, {"type": "text_delta", "text": "Hi"})
TOOL_START = block_start(1, {"type": "tool_use", "id": TOOL_ID, "name": "Write", "input": {}})
TOOL_ARGS = delta(1, {"type": "input_json_delta", "partial_json": '{"path":"a.txt"}'})
END_TURN = message_delta("end_turn")
TOOL_USE = message_delta("tool_use")
MESSAGE_STOP = {"type": "message_stop"}
ERROR = {"type": "error", "error": {"type": "api_error", "message": "upstream broke"}}


def sse(*events) -> bytes:
    out = []
    for e in events:
        if isinstance(e, (bytes, str)):
            out.append(e if isinstance(e, str) else e.decode())
        else:
            out.append(f"event: {e['type']}\ndata: {json.dumps(e)}\n\n")
    return "".join(out).encode()


GOOD_TEXT = [START, TEXT_START, TEXT, stop(0), END_TURN, MESSAGE_STOP]
GOOD_TOOL = [START, TEXT_START, TEXT, stop(0), TOOL_START, TOOL_ARGS, stop(1), TOOL_USE, MESSAGE_STOP]


def test_good_transcripts_pass():
    r = check_stream(200, SSE, sse(*GOOD_TEXT))
    assert (r.text, r.stop_reason, r.usage["output_tokens"]) == ("Hi", "end_turn", 2)
    r = check_stream(200, SSE, sse(START, PING, TEXT_START, TEXT, PING, stop(0), END_TURN, MESSAGE_STOP))
    assert r.pings == 2
    r = check_stream(200, SSE, sse(*GOOD_TOOL))
    assert r.tool_uses[0].name == "Write" and r.tool_uses[0].input == {"path": "a.txt"}
    r = check_stream(200, SSE, sse(START, TEXT_START, TEXT, ERROR), expect_error=True)
    assert r.error["message"] == "upstream broke"
    thinking = [START, block_start(0, {"type": "thinking", "thinking": "", "signature": ""}), delta(0, {"type": "thinking_delta", "thinking": "hm"}),
                delta(0, {"type": "signature_delta", "signature": "s"}), stop(0), END_TURN, MESSAGE_STOP]
    assert check_stream(200, SSE, sse(*thinking)).thinking == "hm"


BROKEN_STREAMS = {
    "event line missing": (sse(START) + b"data: " + json.dumps(TEXT_START).encode() + b"\n\n" + sse(TEXT, stop(0), END_TURN, MESSAGE_STOP), False, "event: "),
    "event name differs from type": (sse(START, TEXT_START).replace(b"event: content_block_start", b"event: content_block_delta") + sse(TEXT, stop(0), END_TURN, MESSAGE_STOP), False, "must equal"),
    "first event is not message_start": (sse(TEXT_START, TEXT, stop(0), END_TURN, MESSAGE_STOP), False, "first event must be message_start"),
    "ping before message_start": (sse(PING, *GOOD_TEXT), False, "message_start must come first"),
    "message_start twice": (sse(START, *GOOD_TEXT), False, "once"),
    "message_start with content": (sse({**START, "message": {**START["message"], "content": [{"type": "text", "text": "x"}]}}, TEXT_START, TEXT, stop(0), END_TURN, MESSAGE_STOP), False, "content must be []"),
    "message_start without input tokens": (sse({**START, "message": {**START["message"], "usage": {"output_tokens": 1}}}, *GOOD_TEXT[1:]), False, "input_tokens"),
    "block index starts at 1": (sse(START, block_start(1, {"type": "text", "text": ""}), delta(1, TEXT["delta"]), stop(1), END_TURN, MESSAGE_STOP), False, "without gaps"),
    "block index gap": (sse(START, TEXT_START, TEXT, stop(0), block_start(2, TOOL_START["content_block"]), delta(2, TOOL_ARGS["delta"]), stop(2), TOOL_USE, MESSAGE_STOP), False, "without gaps"),
    "second block while one is open": (sse(START, TEXT_START, TEXT, TOOL_START, TOOL_ARGS, stop(1), TOOL_USE, MESSAGE_STOP), False, "must stop before"),
    "delta for another index": (sse(START, TEXT_START, delta(1, TEXT["delta"]), stop(0), END_TURN, MESSAGE_STOP), False, "open block's index"),
    "delta of the wrong kind": (sse(START, TEXT_START, delta(0, {"type": "input_json_delta", "partial_json": "{}"}), stop(0), END_TURN, MESSAGE_STOP), False, "takes only"),
    "block never stopped": (sse(START, TEXT_START, TEXT, END_TURN, MESSAGE_STOP), False, "every block must stop"),
    "tool_use stop_reason without tool blocks": (sse(START, TEXT_START, TEXT, stop(0), TOOL_USE, MESSAGE_STOP), False, "tool_use exactly when"),
    "end_turn after tool blocks": (sse(*GOOD_TOOL[:-2], END_TURN, MESSAGE_STOP), False, "tool_use exactly when"),
    "tool id not toolu_": (sse(START, block_start(0, {**TOOL_START["content_block"], "id": "call_1"}), delta(0, TOOL_ARGS["delta"]), stop(0), TOOL_USE, MESSAGE_STOP), False, "toolu_"),
    "tool block starts with input": (sse(START, block_start(0, {**TOOL_START["content_block"], "input": {"path": "a"}}), stop(0), TOOL_USE, MESSAGE_STOP), False, "input {}"),
    "tool input never parses": (sse(START, block_start(0, TOOL_START["content_block"]), delta(0, {"type": "input_json_delta", "partial_json": '{"path":'}), stop(0), TOOL_USE, MESSAGE_STOP), False, "join to JSON"),
    "tool input not an object": (sse(START, block_start(0, TOOL_START["content_block"]), delta(0, {"type": "input_json_delta", "partial_json": "[1]"}), stop(0), TOOL_USE, MESSAGE_STOP), False, "JSON object"),
    "duplicate tool ids": (sse(START, block_start(0, TOOL_START["content_block"]), stop(0), block_start(1, TOOL_START["content_block"]), stop(1), TOOL_USE, MESSAGE_STOP), False, "unique"),
    "no usage in message_delta": (sse(*GOOD_TEXT[:-2], {"type": "message_delta", "delta": {"stop_reason": "end_turn"}}, MESSAGE_STOP), False, "output_tokens"),
    "zero output tokens": (sse(*GOOD_TEXT[:-2], message_delta("end_turn", 0), MESSAGE_STOP), False, "output_tokens"),
    "unknown stop reason": (sse(*GOOD_TEXT[:-2], message_delta("stop"), MESSAGE_STOP), False, "stop reason"),
    "message_delta twice": (sse(*GOOD_TEXT[:-1], END_TURN, MESSAGE_STOP), False, "once"),
    "no message_stop": (sse(*GOOD_TEXT[:-1]), False, "message_stop"),
    "no message_delta": (sse(*GOOD_TEXT[:-2], MESSAGE_STOP), False, "must follow message_delta"),
    "bytes after message_stop": (sse(*GOOD_TEXT, PING), False, "nothing may follow"),
    "silent end mid-block": (sse(START, TEXT_START, TEXT), False, "must end with"),
    "error in a stream that should succeed": (sse(START, TEXT_START, TEXT, ERROR), False, "unexpected error"),
    "expected error but stream finished": (sse(*GOOD_TEXT), True, "error event"),
    "events after the error": (sse(START, ERROR, END_TURN, MESSAGE_STOP), True, "nothing may follow"),
    "error without envelope": (sse(START, {"type": "error", "message": "x"}), True, "an error must be"),
    "error put into text": (sse(START, TEXT_START, delta(0, {"type": "text_delta", "text": "upstream broke"}), ERROR), True, "assistant text"),
    "markup as text": (sse(START, TEXT_START, delta(0, {"type": "text_delta", "text": "<tool_calls><invoke"}), stop(0), END_TURN, MESSAGE_STOP), False, "markup"),
    "data not JSON": (sse(START) + b"event: ping\ndata: {nope\n\n" + sse(*GOOD_TEXT[1:]), False, "JSON object"),
    "two data lines": (sse(START) + b"event: ping\ndata: {}\ndata: {}\n\n" + sse(*GOOD_TEXT[1:]), False, "one `data: ` line"),
    "missing final blank line": (sse(*GOOD_TEXT)[:-1], False, "blank line"),
    "CRLF line ends": (sse(*GOOD_TEXT).replace(b"\n", b"\r\n"), False, "no \\\\r"),
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
    with pytest.raises(ContractViolation, match="status 200"):
        check_stream(502, SSE, good)


def message(content, stop_reason="end_turn", usage=None):
    return json.dumps({"id": "msg_1", "type": "message", "role": "assistant", "model": "m", "content": content,
                       "stop_reason": stop_reason, "stop_sequence": None, "usage": usage or {"input_tokens": 2, "output_tokens": 3}}).encode()


def test_message_checker():
    assert check_message(200, JSON, message([{"type": "text", "text": "Hi"}])).text == "Hi"
    tool = {"type": "tool_use", "id": TOOL_ID, "name": "W", "input": {"a": 1}}
    assert check_message(200, JSON, message([tool], "tool_use")).tool_uses == [tool]
    broken = {
        "tool_use without stop_reason tool_use": message([tool]),
        "stop_reason tool_use without tools": message([{"type": "text", "text": "x"}], "tool_use"),
        "input as a JSON string": message([{**tool, "input": '{"a":1}'}], "tool_use"),
        "tool id not toolu_": message([{**tool, "id": "call_1"}], "tool_use"),
        "zero input tokens": message([], usage={"input_tokens": 0, "output_tokens": 1}),
        "finish_reason instead of stop_reason": message([], stop_reason="stop"),
        "markup as text": message([{"type": "text", "text": "<tool_calls>"}]),
        "an OpenAI body": json.dumps({"id": "chatcmpl-1", "object": "chat.completion", "choices": []}).encode(),
    }
    for name, body in broken.items():
        with pytest.raises(ContractViolation):
            check_message(200, JSON, body)
            pytest.fail(f"accepted: {name}")


def test_error_checker():
    good = json.dumps({"type": "error", "error": {"type": "invalid_request_error", "message": "messages: bad"}}).encode()
    assert check_error(400, JSON, good).error["message"] == "messages: bad"
    with pytest.raises(ContractViolation, match="504"):
        check_error(504, JSON, good)
    with pytest.raises(ContractViolation, match="must carry error.type"):
        check_error(401, JSON, good)
    with pytest.raises(ContractViolation, match="Retry-After"):
        check_error(429, JSON, json.dumps({"type": "error", "error": {"type": "rate_limit_error", "message": "slow"}}).encode())
    with pytest.raises(ContractViolation, match="an error must be"):
        check_error(400, JSON, json.dumps({"error": {"message": "bad", "type": "invalid_request_error", "code": "x", "param": None}}).encode())
