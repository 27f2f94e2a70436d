"""Checkers for the byte-level client contract (/work/shared/docs/client-contracts.md).

Each checker takes what came over the wire (status, headers, raw body bytes) and raises
ContractViolation, naming the rule, on the first thing a client would choke on. On success it
returns what the answer said, so tests can assert on content without re-parsing.

    check_stream(status, headers, body)             an OpenAI `stream: true` answer
    check_stream(..., expect_error=True)            ... that ends with a mid-stream error chunk
    check_completion(status, headers, body)         an OpenAI `stream: false` answer
    check_error(status, headers, body)              an error envelope sent before any answer byte
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping

TOOL_CALL_ID = re.compile(r"^call_[A-Za-z0-9]{24}$")
FINISH_REASONS = {"stop", "length", "tool_calls", "content_filter"}
ERROR_STATUSES = {400, 401, 404, 413, 429, 500, 502, 503}
NEVER_STATUSES = {504, 524}  # new-api does not retry these


class ContractViolation(AssertionError):
    """A rule of client-contracts.md is broken."""


def _fail(rule: str, detail: str = "") -> None:
    raise ContractViolation(f"{rule}: {detail}" if detail else rule)


def _require(cond: bool, rule: str, detail: str = "") -> None:
    if not cond:
        _fail(rule, detail)


# ---------------------------------------------------------------------------------------------
# Headers


def header_pairs(headers: Any) -> list[tuple[str, str]]:
    """Normalises httpx.Headers, http.client messages, dicts or pair lists to lowercase pairs."""
    if hasattr(headers, "multi_items"):
        items: Iterable = headers.multi_items()
    elif hasattr(headers, "items"):
        items = headers.items()
    else:
        items = headers
    return [(str(k).lower(), str(v)) for k, v in items]


def header(headers: Any, name: str) -> str | None:
    values = [v for k, v in header_pairs(headers) if k == name.lower()]
    return values[0] if values else None


def check_request_id_headers(headers: Any) -> str:
    """X-Request-Id and X-Oneapi-Request-Id, each exactly once, equal and non-empty."""
    pairs = header_pairs(headers)
    rid = [v for k, v in pairs if k == "x-request-id"]
    oneapi = [v for k, v in pairs if k == "x-oneapi-request-id"]
    _require(len(rid) == 1, "X-Request-Id must be sent exactly once", f"got {rid}")
    _require(len(oneapi) == 1, "X-Oneapi-Request-Id must be sent exactly once", f"got {oneapi}")
    _require(rid[0] != "", "X-Request-Id must not be empty")
    _require(rid[0] == oneapi[0], "X-Request-Id and X-Oneapi-Request-Id must be equal", f"{rid[0]!r} != {oneapi[0]!r}")
    return rid[0]


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _check_text(value: Any, what: str) -> str:
    _require(isinstance(value, str), f"{what} must be a string", repr(value))
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as e:  # a lone surrogate escape such as "\ud83d"
        _fail(f"{what} is not valid Unicode (split surrogate pair?)", str(e))
    return value


def _check_usage(usage: Any, where: str) -> dict:
    _require(isinstance(usage, dict), f"{where}: usage must be an object", repr(usage))
    p, c, t = usage.get("prompt_tokens"), usage.get("completion_tokens"), usage.get("total_tokens")
    _require(_is_int(p) and p > 0, f"{where}: usage.prompt_tokens must be an integer > 0", repr(p))
    _require(_is_int(c) and c > 0, f"{where}: usage.completion_tokens must be an integer > 0", repr(c))
    _require(_is_int(t) and t == p + c, f"{where}: usage.total_tokens must be prompt + completion", repr(usage))
    return usage


def _check_error_object(err: Any, where: str, need_param: bool) -> dict:
    _require(isinstance(err, dict), f"{where}: error must be an object", repr(err))
    _require(isinstance(err.get("message"), str) and err["message"] != "", f"{where}: error.message must be a non-empty string", repr(err))
    _require(isinstance(err.get("type"), str) and err["type"] != "", f"{where}: error.type must be a non-empty string", repr(err))
    _require("code" in err and err["code"] is not None, f"{where}: error.code must be present", repr(err))
    if need_param:
        _require("param" in err, f"{where}: error.param must be present (null allowed)", repr(err))
        _require(err["param"] is None or isinstance(err["param"], str), f"{where}: error.param must be a string or null", repr(err))
    return err


# ---------------------------------------------------------------------------------------------
# Streams


@dataclass
class ToolCall:
    index: int
    id: str
    name: str
    arguments: str = ""


@dataclass
class StreamResult:
    request_id: str
    chunks: list[dict] = field(default_factory=list)  # every JSON data chunk, in order
    comments: list[str] = field(default_factory=list)  # ": ping" and friends
    role: str | None = None
    content: str = ""
    content_deltas: list[str] = field(default_factory=list)
    reasoning: str = ""
    tool_calls: list[ToolCall] = field(default_factory=list)
    finish_reason: str | None = None
    usage: dict | None = None
    error: dict | None = None
    events: list[str] = field(default_factory=list)  # "comment", "data", "done": the shape of the stream

    @property
    def id(self) -> str:
        return self.chunks[0].get("id", "") if self.chunks else ""


def split_events(body: bytes) -> list[str]:
    """Splits an SSE body into its one-line events, enforcing the framing rules."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as e:
        _fail("the SSE body must be UTF-8", str(e))
    _require("\r" not in text, "SSE lines must end with \\n only (no \\r)")
    _require(text != "", "the SSE body is empty")
    _require(text.endswith("\n\n"), "the SSE body must end with a blank line after the last event", repr(text[-80:]))
    pieces = text[:-2].split("\n\n")
    for i, piece in enumerate(pieces):
        _require(piece != "", "an SSE event must not be empty (stray blank line)", f"event #{i}")
        lines = piece.split("\n")
        if all(line.startswith(":") for line in lines):
            continue  # comment event(s): allowed on their own
        _require(len(lines) == 1, "each event must be exactly one `data: ` line then a blank line", repr(piece[:200]))
        _require(piece.startswith("data: "), "each event line must start with `data: ` (or `:` for a comment)", repr(piece[:200]))
    return pieces


def check_stream(status: int, headers: Any, body: bytes, *, expect_error: bool = False) -> StreamResult:
    """Checks a complete `stream: true` answer. With expect_error, the stream must end with an
    error chunk and `[DONE]` (mid-stream failure); otherwise with finish, usage and `[DONE]`."""
    rid = check_request_id_headers(headers)
    _require(status == 200, "a stream that started must have status 200", f"got {status}")
    ctype = header(headers, "content-type") or ""
    _require(ctype.split(";")[0].strip().lower() == "text/event-stream", "Content-Type must be text/event-stream", repr(ctype))

    result = StreamResult(request_id=rid)
    events = split_events(body)
    stage = "start"  # start → deltas → finished → usage → done ; or → error → done
    first_chunk = True
    args_parsable: dict[int, bool] = {}

    for n, ev in enumerate(events):
        where = f"event #{n}"
        if ev.startswith(":"):
            _require(stage != "done", "nothing may follow `data: [DONE]` (the body must close)", repr(ev))
            result.comments.append(ev)
            result.events.append("comment")
            continue
        payload = ev[len("data: "):]
        if payload == "[DONE]":
            _require(stage != "done", "`data: [DONE]` sent twice")
            if expect_error:
                _require(stage == "error", "a failed stream must send the error chunk before `[DONE]`", f"stage {stage}")
            else:
                _require(stage != "error", "unexpected mid-stream error chunk", json.dumps(result.error))
                _require(stage in ("finished", "usage"), "`[DONE]` before the finish chunk (the stream ended silently)", f"stage {stage}")
                _require(stage == "usage", "the usage chunk is missing before `[DONE]`")
            stage = "done"
            result.events.append("done")
            continue
        _require(stage != "done", "nothing may follow `data: [DONE]` (the body must close)", repr(ev[:200]))
        _require(stage != "error", "after an error chunk only `data: [DONE]` may follow", repr(ev[:200]))
        try:
            chunk = json.loads(payload)
        except json.JSONDecodeError as e:
            _fail("every data line except [DONE] must be one JSON object", f"{where}: {e}: {payload[:200]!r}")
        _require(isinstance(chunk, dict), "every data line except [DONE] must be a JSON object", f"{where}: {payload[:200]!r}")
        result.events.append("data")

        if "error" in chunk:
            _require(stage not in ("finished", "usage"), "an error chunk after the finish chunk", where)
            _require(set(chunk) == {"error"}, "an error chunk must be {\"error\":{...}} only", repr(chunk))
            result.error = _check_error_object(chunk["error"], where, need_param=False)
            first_chunk = False
            stage = "error"
            continue

        result.chunks.append(chunk)
        _require(chunk.get("object") == "chat.completion.chunk", "object must be chat.completion.chunk", f"{where}: {chunk.get('object')!r}")
        _require(isinstance(chunk.get("id"), str) and chunk["id"].startswith("chatcmpl-"), "id must be a string chatcmpl-…", f"{where}: {chunk.get('id')!r}")
        _require(_is_int(chunk.get("created")), "created must be an integer", f"{where}: {chunk.get('created')!r}")
        _require(isinstance(chunk.get("model"), str) and chunk["model"] != "", "model must be a non-empty string", where)
        head = result.chunks[0]
        for key in ("id", "created", "model"):
            _require(chunk[key] == head[key], f"{key} must be the same in every chunk", f"{where}: {chunk[key]!r} != {head[key]!r}")
        choices = chunk.get("choices")
        _require(isinstance(choices, list), "choices must be an array", where)

        if len(choices) == 0:
            # The usage chunk.
            _require(not first_chunk, "the first chunk must carry delta.role, not usage")
            _require(stage == "finished", "the usage chunk must come right after the finish chunk", f"{where}, stage {stage}")
            result.usage = _check_usage(chunk.get("usage"), where)
            stage = "usage"
            continue

        _require(stage in ("start", "deltas"), "no delta or second finish chunk may follow the finish chunk", f"{where}, stage {stage}")
        _require(len(choices) == 1, "exactly one choice per chunk", f"{where}: {len(choices)}")
        choice = choices[0]
        _require(isinstance(choice, dict) and choice.get("index") == 0, "choices[0].index must be 0", where)
        _require("finish_reason" in choice, "choices[0].finish_reason must be present (null while streaming)", where)
        delta = choice.get("delta")
        _require(isinstance(delta, dict), "choices[0].delta must be an object", where)
        if chunk.get("usage") is not None:
            _fail("usage belongs in the final chunk with choices: [] only", where)

        if "role" in delta:
            _require(delta["role"] == "assistant", "delta.role must be \"assistant\" (never \"\")", f"{where}: {delta['role']!r}")
            result.role = result.role or delta["role"]
        if first_chunk:
            _require(delta.get("role") == "assistant", "the first chunk must have delta.role == \"assistant\"", f"{where}: {delta!r}")
            first_chunk = False

        finish = choice["finish_reason"]
        if finish is not None:
            _require(delta == {}, "the finish chunk must have an empty delta", f"{where}: {delta!r}")
            _require(finish in FINISH_REASONS, "finish_reason must be stop, length, tool_calls or content_filter", f"{where}: {finish!r}")
            result.finish_reason = finish
            stage = "finished"
            continue
        stage = "deltas"

        has_content = "content" in delta and delta["content"] is not None
        has_tools = "tool_calls" in delta and delta["tool_calls"] is not None
        _require(not (has_content and has_tools), "never put content and tool_calls in the same chunk", f"{where}: {delta!r}")
        if has_content:
            text = _check_text(delta["content"], f"{where}: delta.content")
            if text:
                result.content += text
                result.content_deltas.append(text)
        if delta.get("reasoning_content") is not None:
            text = _check_text(delta["reasoning_content"], f"{where}: delta.reasoning_content")
            if text:
                _require(result.content == "", "reasoning_content must come before content", where)
                _require(not result.tool_calls, "reasoning_content must come before tool calls", where)
                result.reasoning += text
        if has_tools:
            _check_tool_call_deltas(delta["tool_calls"], result, args_parsable, where)

    _require(stage == "done", "the stream must end with `data: [DONE]` and then close", f"ended at stage {stage}")
    _require(events[-1] == "data: [DONE]", "`data: [DONE]` must be the last event before EOF")
    if expect_error:
        _require(result.error is not None, "expected a mid-stream error chunk")
        msg = result.error["message"]
        _require(msg not in result.content, "the error must not be put into assistant text", msg)
    else:
        data_chunks = sum(1 for e in result.events if e == "data")
        _require(data_chunks >= 2, "a stream needs at least two data chunks", str(data_chunks))
        sent_tools = bool(result.tool_calls)
        _require((result.finish_reason == "tool_calls") == sent_tools,
                 "finish_reason must be tool_calls exactly when tool calls were sent",
                 f"finish {result.finish_reason!r}, {len(result.tool_calls)} tool call(s)")
    _require('{"error"' not in result.content, "an error must never be put into assistant text", result.content[:200])
    for call in result.tool_calls:
        try:
            json.loads(call.arguments)
        except json.JSONDecodeError as e:
            _fail("accumulated tool-call arguments must parse as JSON", f"index {call.index}: {e}: {call.arguments[:200]!r}")
    return result


def _check_tool_call_deltas(items: Any, result: StreamResult, args_parsable: dict[int, bool], where: str) -> None:
    _require(isinstance(items, list) and items, "delta.tool_calls must be a non-empty array", where)
    for item in items:
        _require(isinstance(item, dict), "a tool-call delta must be an object", where)
        idx = item.get("index")
        _require(_is_int(idx), "a tool-call delta needs an integer index", f"{where}: {item!r}")
        fn = item.get("function")
        _require(isinstance(fn, dict), "every tool-call delta must have a function object", f"{where}: {item!r}")
        known = {c.index: c for c in result.tool_calls}
        if idx not in known:
            _require(idx == len(result.tool_calls), "tool-call index must start at 0 and have no gaps", f"{where}: got {idx}, expected {len(result.tool_calls)}")
            _require(isinstance(item.get("id"), str) and TOOL_CALL_ID.match(item["id"]) is not None,
                     "the first delta of a tool call needs id call_<24 alnum>", f"{where}: {item.get('id')!r}")
            _require(item.get("type") == "function", "the first delta of a tool call needs type function", f"{where}: {item!r}")
            _require(isinstance(fn.get("name"), str) and fn["name"] != "", "the first delta of a tool call needs a non-empty function.name", f"{where}: {item!r}")
            _require(fn.get("arguments") == "", "the first delta of a tool call must have function.arguments == \"\"", f"{where}: {fn.get('arguments')!r}")
            _require(all(c.id != item["id"] for c in result.tool_calls), "tool-call ids must be unique", item["id"])
            result.tool_calls.append(ToolCall(index=idx, id=item["id"], name=fn["name"]))
            args_parsable[idx] = False
            continue
        call = known[idx]
        _require(not item.get("id"), "a later delta of a tool call must not repeat its id", f"{where}: {item!r}")
        _require(not fn.get("name"), "a later delta of a tool call must not repeat its name", f"{where}: {item!r}")
        frag = fn.get("arguments", "")
        _require(isinstance(frag, str), "function.arguments deltas must be strings", f"{where}: {frag!r}")
        if frag:
            _require(not args_parsable[idx], "no arguments may follow once they parse as JSON (AI SDK stops there: no placeholder)",
                     f"{where}: index {idx} already had {call.arguments!r}")
            call.arguments += frag
            try:
                json.loads(call.arguments)
                args_parsable[idx] = True
            except json.JSONDecodeError:
                pass


# ---------------------------------------------------------------------------------------------
# Non-stream answers


@dataclass
class CompletionResult:
    request_id: str
    body: dict
    content: str | None
    reasoning: str | None
    tool_calls: list[dict]
    finish_reason: str
    usage: dict


def json_answer(status: int, headers: Any, body: bytes) -> tuple[str, Any]:
    """What every non-streamed answer must be, whatever the dialect: the request-id headers,
    status 200, JSON content type, one parseable body. Returns (request id, parsed body)."""
    rid = check_request_id_headers(headers)
    _require(status == 200, "a completed answer must have status 200", f"got {status}: {body[:300]!r}")
    ctype = header(headers, "content-type") or ""
    _require(ctype.split(";")[0].strip().lower() == "application/json", "Content-Type must be application/json", repr(ctype))
    try:
        return rid, json.loads(body)
    except json.JSONDecodeError as e:
        _fail("the body must be one JSON object", str(e))


def check_completion(status: int, headers: Any, body: bytes) -> CompletionResult:
    rid, o = json_answer(status, headers, body)
    _require(isinstance(o, dict), "the body must be a JSON object")
    _require("error" not in o, "a 200 answer must not contain a top-level error (new-api fails the channel)", repr(o.get("error")))
    _require(o.get("object") == "chat.completion", "object must be chat.completion", repr(o.get("object")))
    _require(isinstance(o.get("id"), str) and o["id"].startswith("chatcmpl-"), "id must be a string chatcmpl-…", repr(o.get("id")))
    _require(_is_int(o.get("created")), "created must be an integer")
    _require(isinstance(o.get("model"), str) and o["model"] != "", "model must be a non-empty string")
    choices = o.get("choices")
    _require(isinstance(choices, list) and len(choices) == 1, "choices must hold exactly one choice", repr(choices)[:200])
    choice = choices[0]
    _require(choice.get("index") == 0, "choices[0].index must be 0")
    msg = choice.get("message")
    _require(isinstance(msg, dict), "choices[0].message must be an object")
    _require(msg.get("role") == "assistant", "message.role must be assistant", repr(msg.get("role")))
    _require("content" in msg, "message.content must be present (string or null)")
    content = msg["content"]
    tool_calls = msg.get("tool_calls") or []
    _require(isinstance(tool_calls, list), "message.tool_calls must be an array")
    if content is None:
        _require(bool(tool_calls), "message.content may be null only with tool_calls")
    else:
        _check_text(content, "message.content")
    reasoning = msg.get("reasoning_content")
    if reasoning is not None:
        _check_text(reasoning, "message.reasoning_content")
    for i, call in enumerate(tool_calls):
        _require(isinstance(call, dict), f"tool_calls[{i}] must be an object")
        _require(isinstance(call.get("id"), str) and TOOL_CALL_ID.match(call["id"]) is not None, f"tool_calls[{i}].id must be call_<24 alnum>", repr(call.get("id")))
        _require(call.get("type") == "function", f"tool_calls[{i}].type must be function")
        fn = call.get("function")
        _require(isinstance(fn, dict) and isinstance(fn.get("name"), str) and fn["name"] != "", f"tool_calls[{i}].function.name must be a non-empty string")
        args = fn.get("arguments")
        _require(isinstance(args, str), f"tool_calls[{i}].function.arguments must be a JSON string", repr(args))
        try:
            json.loads(args)
        except json.JSONDecodeError as e:
            _fail(f"tool_calls[{i}].function.arguments must hold JSON", f"{e}: {args[:200]!r}")
    finish = choice.get("finish_reason")
    _require(finish in FINISH_REASONS, "finish_reason must be stop, length, tool_calls or content_filter", repr(finish))
    _require((finish == "tool_calls") == bool(tool_calls), "finish_reason must be tool_calls exactly when tool_calls is present",
             f"finish {finish!r}, {len(tool_calls)} tool call(s)")
    usage = _check_usage(o.get("usage"), "non-stream")
    return CompletionResult(rid, o, content, reasoning, tool_calls, finish, usage)


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
    _require(status not in NEVER_STATUSES, "never answer 504 or 524 (new-api will not retry them)", str(status))
    _require(status in ERROR_STATUSES, f"an error status must be one of {sorted(ERROR_STATUSES)}", f"got {status}: {body[:300]!r}")
    if expected_status is not None:
        _require(status == expected_status, f"expected HTTP {expected_status}", f"got {status}: {body[:300]!r}")
    ctype = header(headers, "content-type") or ""
    _require(ctype.split(";")[0].strip().lower() == "application/json", "an error envelope must be application/json", repr(ctype))
    try:
        o = json.loads(body)
    except json.JSONDecodeError as e:
        _fail("an error body must be one JSON object", f"{e}: {body[:200]!r}")
    _require(isinstance(o, dict) and set(o) == {"error"}, "an error body must be {\"error\":{...}}", repr(o)[:300])
    err = _check_error_object(o["error"], "envelope", need_param=True)
    retry_after = header(headers, "retry-after")
    if status == 429:
        _require(retry_after is not None and retry_after.strip().isdigit(), "a 429 needs Retry-After in whole seconds", repr(retry_after))
    return ErrorResult(rid, status, err, retry_after)
