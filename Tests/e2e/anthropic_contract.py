"""Checkers for the Anthropic Messages side of the client contract
(/work/shared/docs/client-contracts.md, "Anthropic Messages").

Like contract.py, each checker takes what came over the wire and raises ContractViolation,
naming the rule, on the first thing a client would choke on; on success it returns what the
answer said.

    check_stream(status, headers, body)                 a `stream: true` answer
    check_stream(..., expect_error=True)                ... that ends with `event: error`
    check_message(status, headers, body)                a `stream: false` answer
    check_error(status, headers, body, expected_status) an error envelope sent before any byte
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from contract import ContractViolation, _fail, _is_int, _require, check_request_id_headers, header, json_answer  # noqa: F401

MESSAGE_ID = re.compile(r"^msg_[A-Za-z0-9_]+$")
TOOL_USE_ID = re.compile(r"^toolu_[A-Za-z0-9_]+$")
STOP_REASONS = {"end_turn", "max_tokens", "stop_sequence", "tool_use", "refusal", "pause_turn"}
EVENT_TYPES = {"message_start", "content_block_start", "content_block_delta", "content_block_stop",
               "message_delta", "message_stop", "ping", "error"}
BLOCK_DELTAS = {"text": {"text_delta"}, "thinking": {"thinking_delta", "signature_delta"}, "tool_use": {"input_json_delta"}}
ERROR_TYPES = {400: "invalid_request_error", 401: "authentication_error", 403: "permission_error", 404: "not_found_error",
               413: "request_too_large", 429: "rate_limit_error", 500: "api_error", 502: "api_error", 503: "overloaded_error"}


def _text(value: Any, what: str) -> str:
    _require(isinstance(value, str), f"{what} must be a string", repr(value))
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as e:
        _fail(f"{what} is not valid Unicode (split surrogate pair?)", str(e))
    return value


def _error_object(o: Any, where: str) -> dict:
    _require(isinstance(o, dict) and set(o) == {"type", "error"} and o["type"] == "error",
             f"{where}: an error must be {{\"type\":\"error\",\"error\":{{...}}}}", repr(o)[:300])
    err = o["error"]
    _require(isinstance(err, dict), f"{where}: error must be an object", repr(err))
    _require(isinstance(err.get("type"), str) and err["type"].endswith("_error") or err.get("type") == "request_too_large",
             f"{where}: error.type must be an Anthropic error type", repr(err))
    _require(isinstance(err.get("message"), str) and err["message"] != "", f"{where}: error.message must be a non-empty string", repr(err))
    return err


# ---------------------------------------------------------------------------------------------
# Streams


@dataclass
class Block:
    index: int
    type: str
    id: str | None = None
    name: str | None = None
    text: str = ""
    partial_json: str = ""
    input: dict | None = None
    closed: bool = False


@dataclass
class StreamResult:
    request_id: str
    message: dict | None = None  # the message_start object
    blocks: list[Block] = field(default_factory=list)
    text_deltas: list[str] = field(default_factory=list)
    stop_reason: str | None = None
    usage: dict | None = None  # message_delta usage
    error: dict | None = None
    pings: int = 0
    events: list[str] = field(default_factory=list)  # the event names, in order

    @property
    def text(self) -> str:
        return "".join(b.text for b in self.blocks if b.type == "text")

    @property
    def thinking(self) -> str:
        return "".join(b.text for b in self.blocks if b.type == "thinking")

    @property
    def tool_uses(self) -> list[Block]:
        return [b for b in self.blocks if b.type == "tool_use"]


def split_events(body: bytes) -> list[tuple[str, str]]:
    """(event name, data) pairs; each event is exactly `event: X` then one `data: …` line."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as e:
        _fail("the SSE body must be UTF-8", str(e))
    _require("\r" not in text, "SSE lines must end with \\n only (no \\r)")
    _require(text != "", "the SSE body is empty")
    _require(text.endswith("\n\n"), "the SSE body must end with a blank line after the last event", repr(text[-80:]))
    out = []
    for i, piece in enumerate(text[:-2].split("\n\n")):
        _require(piece != "", "an SSE event must not be empty (stray blank line)", f"event #{i}")
        lines = piece.split("\n")
        _require(len(lines) == 2 and lines[0].startswith("event: ") and lines[1].startswith("data: "),
                 "each event must be an `event: ` line and one `data: ` line (the SDK drops events without `event:`)", repr(piece[:200]))
        out.append((lines[0][len("event: "):], lines[1][len("data: "):]))
    return out


def check_stream(status: int, headers: Any, body: bytes, *, expect_error: bool = False) -> StreamResult:
    rid = check_request_id_headers(headers)
    _require(status == 200, "a stream that started must have status 200", f"got {status}")
    ctype = header(headers, "content-type") or ""
    _require(ctype.split(";")[0].strip().lower() == "text/event-stream", "Content-Type must be text/event-stream", repr(ctype))
    result = StreamResult(request_id=rid)
    stage = "start"  # start → message → (blocks) → delta → stop ; or → error
    open_block: Block | None = None

    for n, (name, payload) in enumerate(split_events(body)):
        where = f"event #{n} ({name})"
        _require(stage not in ("stop", "error"), "nothing may follow message_stop or an error event (the body must close)", where)
        try:
            data = json.loads(payload)
        except json.JSONDecodeError as e:
            _fail("every data line must be one JSON object", f"{where}: {e}: {payload[:200]!r}")
        _require(isinstance(data, dict), "every data line must be a JSON object", where)
        _require(name in EVENT_TYPES, "unknown event name", where)
        _require(data.get("type") == name, "the `event:` name must equal the data's type", f"{where}: type {data.get('type')!r}")
        result.events.append(name)

        if name == "error":
            result.error = _error_object(data, where)
            stage = "error"
            continue
        if name == "ping":
            _require(stage != "start", "message_start must come first (a ping may follow it)", where)
            result.pings += 1
            continue
        if stage == "start":
            _require(name == "message_start", "the first event must be message_start", where)
            m = data.get("message")
            _require(isinstance(m, dict), "message_start.message must be an object", where)
            _require(isinstance(m.get("id"), str) and MESSAGE_ID.match(m["id"]) is not None, "message.id must be msg_…", repr(m.get("id")))
            _require(m.get("type") == "message" and m.get("role") == "assistant", "message type/role must be message/assistant", repr(m)[:200])
            _require(isinstance(m.get("model"), str) and m["model"] != "", "message.model must be a non-empty string", where)
            _require(m.get("content") == [], "message_start content must be []", repr(m.get("content")))
            _require("stop_reason" in m and m["stop_reason"] is None, "message_start stop_reason must be null", where)
            u = m.get("usage")
            _require(isinstance(u, dict) and _is_int(u.get("input_tokens")) and u["input_tokens"] > 0,
                     "message_start usage.input_tokens must be an integer > 0", repr(u))
            _require(_is_int(u.get("output_tokens")), "message_start usage.output_tokens must be an integer", repr(u))
            result.message = m
            stage = "message"
            continue
        _require(name != "message_start", "message_start must be sent once", where)

        if name == "content_block_start":
            _require(stage == "message", "no content block after message_delta", where)
            _require(open_block is None, "a block must stop before the next one starts", where)
            idx = data.get("index")
            _require(idx == len(result.blocks), "block indices must be 0, 1, 2… without gaps", f"{where}: got {idx!r}, expected {len(result.blocks)}")
            cb = data.get("content_block")
            _require(isinstance(cb, dict) and cb.get("type") in BLOCK_DELTAS, "content_block.type must be text, thinking or tool_use", repr(cb))
            block = Block(index=idx, type=cb["type"])
            if cb["type"] == "text":
                _require(cb.get("text") == "", "a text block starts with text \"\"", repr(cb))
            elif cb["type"] == "thinking":
                _require(cb.get("thinking") == "", "a thinking block starts with thinking \"\"", repr(cb))
            else:
                _require(isinstance(cb.get("id"), str) and TOOL_USE_ID.match(cb["id"]) is not None, "a tool_use id must start with toolu_", repr(cb.get("id")))
                _require(all(b.id != cb["id"] for b in result.tool_uses), "tool_use ids must be unique", cb["id"])
                _require(isinstance(cb.get("name"), str) and cb["name"] != "", "a tool_use block needs a name", repr(cb))
                _require(cb.get("input") == {}, "a tool_use block starts with input {}", repr(cb.get("input")))
                block.id, block.name = cb["id"], cb["name"]
            result.blocks.append(block)
            open_block = block
        elif name == "content_block_delta":
            _require(open_block is not None and data.get("index") == open_block.index, "a delta must name the open block's index", f"{where}: {data.get('index')!r}")
            d = data.get("delta")
            _require(isinstance(d, dict) and d.get("type") in BLOCK_DELTAS[open_block.type],
                     f"a {open_block.type} block takes only {sorted(BLOCK_DELTAS[open_block.type])}", f"{where}: {d!r}"[:300])
            if d["type"] == "text_delta":
                piece = _text(d.get("text"), f"{where}: delta.text")
                open_block.text += piece
                result.text_deltas.append(piece)
            elif d["type"] == "thinking_delta":
                open_block.text += _text(d.get("thinking"), f"{where}: delta.thinking")
            elif d["type"] == "signature_delta":
                _text(d.get("signature"), f"{where}: delta.signature")
            else:
                open_block.partial_json += _text(d.get("partial_json"), f"{where}: delta.partial_json")
        elif name == "content_block_stop":
            _require(open_block is not None and data.get("index") == open_block.index, "content_block_stop must name the open block", f"{where}: {data.get('index')!r}")
            if open_block.type == "tool_use":
                try:
                    value = json.loads(open_block.partial_json) if open_block.partial_json else {}
                except json.JSONDecodeError as e:
                    _fail("a tool_use block's input_json_delta pieces must join to JSON", f"{e}: {open_block.partial_json[:200]!r}")
                _require(isinstance(value, dict), "a tool_use input must be a JSON object", repr(value)[:200])
                open_block.input = value
            open_block.closed = True
            open_block = None
        elif name == "message_delta":
            _require(stage == "message", "message_delta must be sent once", where)
            _require(open_block is None, "every block must stop before message_delta", where)
            d = data.get("delta")
            _require(isinstance(d, dict) and d.get("stop_reason") in STOP_REASONS, "delta.stop_reason must be an Anthropic stop reason", repr(d))
            u = data.get("usage")
            _require(isinstance(u, dict) and _is_int(u.get("output_tokens")) and u["output_tokens"] > 0,
                     "message_delta usage.output_tokens must be an integer > 0 (always)", repr(u))
            if "input_tokens" in u:
                _require(_is_int(u["input_tokens"]) and u["input_tokens"] > 0, "message_delta usage.input_tokens must be an integer > 0", repr(u))
            result.stop_reason, result.usage = d["stop_reason"], u
            stage = "delta"
        elif name == "message_stop":
            _require(stage == "delta", "message_stop must follow message_delta", where)
            stage = "stop"

    if expect_error:
        _require(stage == "error", "expected the stream to end with an error event", f"ended at stage {stage}")
        _require(result.error["message"] not in result.text, "the error must not be put into assistant text")
    else:
        _require(stage != "error", "unexpected error event", json.dumps(result.error))
        _require(stage == "stop", "the stream must end with message_delta and message_stop, then close", f"ended at stage {stage}")
        _require((result.stop_reason == "tool_use") == bool(result.tool_uses),
                 "stop_reason must be tool_use exactly when tool_use blocks were sent",
                 f"stop_reason {result.stop_reason!r}, {len(result.tool_uses)} tool_use block(s)")
    _require("<tool_calls>" not in result.text and "<invoke" not in result.text, "tool-protocol markup never reaches the client", result.text[:200])
    return result


# ---------------------------------------------------------------------------------------------
# Non-stream answers


@dataclass
class MessageResult:
    request_id: str
    body: dict
    text: str
    thinking: str
    tool_uses: list[dict]
    stop_reason: str
    usage: dict


def check_message(status: int, headers: Any, body: bytes) -> MessageResult:
    rid, o = json_answer(status, headers, body)
    _require(isinstance(o, dict) and o.get("type") == "message", "the body must be a message object", repr(o)[:300])
    _require(isinstance(o.get("id"), str) and MESSAGE_ID.match(o["id"]) is not None, "id must be msg_…", repr(o.get("id")))
    _require(o.get("role") == "assistant", "role must be assistant")
    _require(isinstance(o.get("model"), str) and o["model"] != "", "model must be a non-empty string")
    content = o.get("content")
    _require(isinstance(content, list), "content must be an array of blocks")
    text, thinking, tools = "", "", []
    for i, b in enumerate(content):
        _require(isinstance(b, dict) and b.get("type") in BLOCK_DELTAS, f"content[{i}].type must be text, thinking or tool_use", repr(b)[:200])
        if b["type"] == "text":
            text += _text(b.get("text"), f"content[{i}].text")
        elif b["type"] == "thinking":
            thinking += _text(b.get("thinking"), f"content[{i}].thinking")
        else:
            _require(isinstance(b.get("id"), str) and TOOL_USE_ID.match(b["id"]) is not None, f"content[{i}].id must start with toolu_", repr(b.get("id")))
            _require(isinstance(b.get("name"), str) and b["name"] != "", f"content[{i}].name must be a non-empty string")
            _require(isinstance(b.get("input"), dict), f"content[{i}].input must be an object (not a JSON string)", repr(b.get("input")))
            tools.append(b)
    stop = o.get("stop_reason")
    _require(stop in STOP_REASONS, "stop_reason must be an Anthropic stop reason", repr(stop))
    _require((stop == "tool_use") == bool(tools), "stop_reason must be tool_use exactly when tool_use blocks are present",
             f"stop_reason {stop!r}, {len(tools)} tool_use block(s)")
    _require("stop_sequence" in o, "stop_sequence must be present (null allowed)")
    u = o.get("usage")
    _require(isinstance(u, dict) and _is_int(u.get("input_tokens")) and u["input_tokens"] > 0, "usage.input_tokens must be an integer > 0", repr(u))
    _require(_is_int(u.get("output_tokens")) and u["output_tokens"] > 0, "usage.output_tokens must be an integer > 0", repr(u))
    _require("<tool_calls>" not in text and "<invoke" not in text, "tool-protocol markup never reaches the client", text[:200])
    return MessageResult(rid, o, text, thinking, tools, stop, u)


# ---------------------------------------------------------------------------------------------
# Error envelopes


@dataclass
class ErrorResult:
    request_id: str
    status: int
    error: dict
    retry_after: str | None


def check_error(status: int, headers: Any, body: bytes, expected_status: int | None = None) -> ErrorResult:
    rid = check_request_id_headers(headers)
    _require(status not in (504, 524), "never answer 504 or 524 (new-api will not retry them)", str(status))
    _require(status in ERROR_STATUSES_SET, f"an error status must be one of {sorted(ERROR_STATUSES_SET)}", f"got {status}: {body[:300]!r}")
    if expected_status is not None:
        _require(status == expected_status, f"expected HTTP {expected_status}", f"got {status}: {body[:300]!r}")
    ctype = header(headers, "content-type") or ""
    _require(ctype.split(";")[0].strip().lower() == "application/json", "an error envelope must be application/json", repr(ctype))
    try:
        o = json.loads(body)
    except json.JSONDecodeError as e:
        _fail("an error body must be one JSON object", f"{e}: {body[:200]!r}")
    err = _error_object(o, "envelope")
    _require(err["type"] == ERROR_TYPES[status], f"HTTP {status} must carry error.type {ERROR_TYPES[status]}", repr(err["type"]))
    retry_after = header(headers, "retry-after")
    if status == 429:
        _require(retry_after is not None and retry_after.strip().isdigit(), "a 429 needs Retry-After in whole seconds", repr(retry_after))
    return ErrorResult(rid, status, err, retry_after)


ERROR_STATUSES_SET = set(ERROR_TYPES)
