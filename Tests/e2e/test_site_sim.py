"""site-sim: the simulated chat site behaves as docs/upstream-site-protocol.md says, and every
fault mode produces what it promises. Streams are parsed here by hand (sim.parse_sse)."""

from __future__ import annotations

import base64
import json
import re
import socket
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from sim import SiteSim, chat_body, frames, parse_sse, post

CHAT = "/v2/chats"
NORMAL_TYPES = ["start", "start-step", "text-start", "text-delta", "text-end", "finish-step", "finish", "data-usage"]
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


@pytest.fixture(scope="module")
def site_sim(tmp_path_factory):
    """The default simulator (no delays), shared by the module; tests reset it when they count."""
    s = SiteSim(tmp_path_factory.mktemp("site-sim"), "--static-token", "static-abc").wait_listening()
    yield s
    s.stop()


@pytest.fixture
def token(site_sim) -> str:
    """A fresh login per test: other tests expire or reset the shared simulator's tokens."""
    return site_sim.token()


def ask(sim, token, query, **kw):
    return post(sim, CHAT, chat_body(query, **kw), token)


def collapse(order: list[str]) -> list[str]:
    """Frame types with runs of the same type folded (deltas count varies with the answer)."""
    out: list[str] = []
    for t in order:
        if not out or out[-1] != t:
            out.append(t)
    return out


def expected_answer(turn: int, session: str, query: str) -> str:
    return f"Turn {turn} of session {session[:8]}: you said: {' '.join(query[:300].split())}"


# -- start-up --------------------------------------------------------------------------------------

def test_prints_exactly_one_listening_line(site_sim):
    lines = site_sim.stdout().splitlines()
    assert lines == [f"site-sim listening on 127.0.0.1:{site_sim.port}"]


def test_sigterm_stops_it_promptly(start_sim):
    s = start_sim()
    t0 = time.monotonic()
    assert s.stop() == 0
    assert time.monotonic() - t0 < 2


# -- login -----------------------------------------------------------------------------------------

def test_login_accepts_configured_credentials_and_extra_fields(site_sim):
    site_sim.reset()
    r = site_sim.login(client_id="web", remember=True)
    assert r.status_code == 200
    body = r.json()
    assert isinstance(body["access_token"], str) and len(body["access_token"]) >= 16
    assert body["expires_in"] == 3600
    assert site_sim.stats()["logins"] == 1


def test_login_rejects_wrong_credentials(site_sim):
    site_sim.reset()
    for user, password in [("admin", "nope"), ("root", "secret")]:
        r = site_sim.login(user, password)
        assert r.status_code == 401
        assert r.json() == {"error": {"message": "invalid credentials"}}
    assert site_sim.stats()["logins"] == 2  # attempts, failed ones included


def test_custom_credentials_and_paths(start_sim):
    s = start_sim("--username", "bob", "--password", "pw", "--chat-path", "/api/chat", "--token-path", "/auth/login")
    assert s.login(path="/auth/login").status_code == 401
    r = s.login("bob", "pw", path="/auth/login")
    assert r.status_code == 200
    reply = post(s, "/api/chat", chat_body("hi"), r.json()["access_token"])
    assert reply.status == 200 and reply.types[-1] == "data-usage"
    assert post(s, CHAT, chat_body("hi"), r.json()["access_token"]).status == 404


def _jwt_exp(token: str) -> int:
    header, claims, sig = token.split(".")
    pad = lambda s: s + "=" * (-len(s) % 4)  # noqa: E731
    assert json.loads(base64.urlsafe_b64decode(pad(header)))["alg"]
    assert sig
    return json.loads(base64.urlsafe_b64decode(pad(claims)))["exp"]


@pytest.mark.parametrize("shape", ["expires_in", "expiresAt", "exp", "jwt", "none"])
def test_token_shapes(start_sim, shape):
    s = start_sim("--token-shape", shape, "--token-ttl-seconds", "600")
    now = time.time()
    body = s.login().json()
    token = body["access_token"]
    lifetime_fields = {k for k in body if k != "access_token"}
    if shape == "expires_in":
        assert body["expires_in"] == 600 and lifetime_fields == {"expires_in"}
    elif shape == "expiresAt":
        assert abs(body["expiresAt"] - (now + 600) * 1000) < 5000 and lifetime_fields == {"expiresAt"}
    elif shape == "exp":
        assert abs(body["exp"] - (now + 600)) < 5 and lifetime_fields == {"exp"}
    elif shape == "jwt":
        assert lifetime_fields == set()
        assert abs(_jwt_exp(token) - (now + 600)) < 5
    else:
        assert lifetime_fields == set()
        assert token.count(".") != 2  # not a JWT either: nothing tells the lifetime
    assert ask(s, token, "hi").status == 200


def test_token_ttl_expires(start_sim):
    s = start_sim("--token-ttl-seconds", "1")
    token = s.token()
    assert ask(s, token, "hi").status == 200
    time.sleep(1.3)
    r = ask(s, token, "hi")
    assert r.status == 401 and r.json() == {"error": {"message": "token expired or invalid"}}


def test_login_delay_and_concurrent_logins(start_sim):
    s = start_sim("--login-delay-ms", "400")
    t0 = time.monotonic()
    with ThreadPoolExecutor(8) as pool:
        codes = list(pool.map(lambda _: s.login().status_code, range(8)))
    elapsed = time.monotonic() - t0
    assert codes == [200] * 8
    # Slow, but served concurrently: one after another would take 8 × 0.4 = 3.2 s.
    assert 0.4 <= elapsed < 3.0
    assert s.stats()["logins"] == 8


# -- auth on the chat endpoint ---------------------------------------------------------------------

def test_chat_needs_a_valid_token(site_sim):
    for token in [None, "made-up"]:
        r = ask(site_sim, token, "hi")
        assert r.status == 401
        assert r.json() == {"error": {"message": "token expired or invalid"}}
    r = post(site_sim, CHAT, chat_body("hi"), headers={"Authorization": "Basic abc"})
    assert r.status == 401


def test_expire_tokens_invalidates_issued_but_not_static(site_sim):
    token = site_sim.token()
    assert ask(site_sim, token, "hi").status == 200
    site_sim.expire_tokens()
    assert ask(site_sim, token, "hi").status == 401
    assert ask(site_sim, "static-abc", "hi").status == 200
    assert ask(site_sim, site_sim.token(), "hi").status == 200  # a fresh login works again


def test_no_auth_mode(start_sim):
    s = start_sim("--no-auth")
    r = ask(s, None, "hi")
    assert r.status == 200 and r.types[-1] == "data-usage"


# -- the normal stream -----------------------------------------------------------------------------

def test_stream_frame_order_and_content(site_sim, token):
    query = "Hello   there,\n\tsite!"
    r = ask(site_sim, token, query)
    assert r.status == 200
    assert r.headers["content-type"].startswith("text/event-stream")
    assert r.headers["x-vercel-ai-ui-message-stream"] == "v1"
    assert r.broken is None
    assert collapse(r.types) == NORMAL_TYPES
    assert r.events[-1] == "[DONE]"
    assert r.raw.endswith(b"data: [DONE]\n\n")
    assert all(line.startswith("data: ") for line in r.raw.decode().split("\n\n") if line)

    start = r.frames[0]
    meta = start["messageMetadata"]
    assert UUID.match(meta["sessionId"]) and UUID.match(meta["exchangeId"])
    assert start["messageId"] == meta["exchangeId"]
    assert r.text() == expected_answer(1, meta["sessionId"], query)
    assert r.text() == f"Turn 1 of session {meta['sessionId'][:8]}: you said: Hello there, site!"

    deltas = [f for f in r.frames if f["type"] == "text-delta"]
    assert all(f["id"] == "t1" for f in deltas)
    assert [f["delta"] for f in deltas][:3] == ["Turn ", "1 ", "of "]  # word-sized
    assert r.frames[-2] == {"type": "finish", "finishReason": "stop"}
    assert r.frames[-1] == {"type": "data-usage", "data": {"inputTokens": len(query) // 4 + 1, "outputTokens": len(deltas)}}


def test_stream_is_default_when_absent(site_sim, token):
    r = ask(site_sim, token, "hi", stream=None)
    assert r.headers["content-type"].startswith("text/event-stream")
    assert collapse(r.types) == NORMAL_TYPES


def test_session_continuation(site_sim, token):
    site_sim.reset()
    token = site_sim.token()
    first = ask(site_sim, token, "one")
    session = first.frames[0]["messageMetadata"]["sessionId"]
    second = ask(site_sim, token, "two", session_id=session, exchange_id=first.frames[0]["messageId"])
    meta2 = second.frames[0]["messageMetadata"]
    assert meta2["sessionId"] == session
    assert meta2["exchangeId"] != first.frames[0]["messageId"]
    assert second.text() == f"Turn 2 of session {session[:8]}: you said: two"
    third = ask(site_sim, token, "three", session_id=session)
    assert third.text().startswith("Turn 3 of session")
    other = ask(site_sim, token, "fresh")
    assert other.frames[0]["messageMetadata"]["sessionId"] != session
    stats = site_sim.stats()
    assert stats["sessions"] == {session: 3, other.frames[0]["messageMetadata"]["sessionId"]: 1}
    assert stats["chats"] == 4


def test_unknown_session_is_404(site_sim, token):
    r = ask(site_sim, token, "hi", session_id="00000000-0000-0000-0000-000000000000")
    assert r.status == 404
    assert r.json() == {"error": {"message": "session not found"}}


def test_oldest_session_is_forgotten_past_max_sessions(start_sim):
    sim = start_sim("--static-token", "t", "--max-sessions", "3")
    ids = [ask(sim, "t", f"q{i}").frames[0]["messageMetadata"]["sessionId"] for i in range(4)]
    assert list(sim.stats()["sessions"]) == ids[1:]
    forgotten = ask(sim, "t", "again", session_id=ids[0])
    assert forgotten.status == 404 and forgotten.json()["error"]["message"] == "session not found"
    kept = ask(sim, "t", "again", session_id=ids[1])
    assert kept.status == 200 and kept.text().startswith("Turn 2 of session")
    # Many more than the bound: the order list is compacted along the way and stays right.
    more = [ask(sim, "t", f"m{i}").frames[0]["messageMetadata"]["sessionId"] for i in range(10)]
    assert list(sim.stats()["sessions"]) == more[-3:]


def test_max_sessions_must_be_positive(tmp_path):
    s = SiteSim(tmp_path, "--max-sessions", "0")
    with pytest.raises(RuntimeError) as failed:
        s.wait_listening(timeout=10)
    assert "--max-sessions must be at least 1" in str(failed.value)


def test_markers_are_found_after_non_ascii_text(site_sim, token):
    """Markers are searched as UTF-8 bytes: text before them in any script must not shift them."""
    r = ask(site_sim, token, "héllo ✓ 漢字 🙂 [[fault:http-429:7]]")
    assert r.status == 429 and r.headers["retry-after"] == "7"
    paced = ask(site_sim, token, "Ünïcode prompt 🙂\n[[pace:ttft_ms=0,chunks=3,gap_ms=0,chunk_bytes=0]]")
    assert paced.status == 200
    assert [int(seq) for seq in re.findall(r"~(\d+)@\d+~", paced.text())] == [0, 1, 2]
    bad = ask(site_sim, token, "ü [[pace:chunks=2,speed=9]]")
    assert bad.status == 400 and "unknown field 'speed'" in bad.json()["error"]["message"]


def test_answer_truncates_long_queries_and_answers_tool_results(site_sim, token):
    long = "word " * 200
    r = ask(site_sim, token, long)
    said = r.text().split("you said: ", 1)[1]
    assert said == " ".join(long[:300].split())
    r = ask(site_sim, token, 'Here: <tool_result id="call_1">42</tool_result> what now?')
    assert r.text() == "I received the tool result."


# -- a model that follows the tool protocol --------------------------------------------------------

def tool_prompt(tools: list[tuple[str, list[str]]]) -> str:
    """The tool instructions as the host renders them (Sources/Host/Tools/ToolPromptRenderer.swift),
    trimmed to what matters here, traps included: the protocol's own `<tool_result name="…">` and
    an example call of the first tool must not count as results or calls."""
    lines = ["# Tools", "You can call the tools listed below. Use a tool only when it helps.", "", "## Available tools"]
    for name, params in tools:
        lines += ["", f"### {name}", f"Does {name}.", "Parameters:" if params else "Parameters: none", *params]
    lines += ["", "## How to call tools", "",
              "- After </tool_calls>, stop. Never invent a tool result: the results come back in the next message as "
              '<tool_result name="…" id="…">…</tool_result>. Wait for them, then continue.', "",
              f"Example of a correct answer that calls {tools[0][0]}:", "<example>", "I'll do that now.", "<tool_calls>",
              f'<invoke name="{tools[0][0]}">', '<parameter name="x">example x</parameter>', "</invoke>", "</tool_calls>",
              "</example>", "", "- Do not write anything after </tool_calls>, and never write a <tool_result> yourself."]
    return "\n".join(lines)


CHAIN_TOOLS = [
    ("lookup_code", ["- name (string, required): Whose code.", "- limit (integer, optional)", "- mode (string, one of: fast|slow, required)",
                     "- count (integer|null, required)", "- ratio (number, required)", "- exact (boolean, required)"]),
    ("save_note", ["- text (string, required)", "- tags (array<string>, required)", "  each item: tag (string, required)",
                   "- meta (object, required)", "  fields: a (string, optional)", "- pin (boolean, optional)"]),
]


def tool_result(name: str, call_id: str, text: str) -> str:
    """A result as the host renders it for a text-only model (ToolHistoryRenderer)."""
    return f'<tool_result name="{name}" id="{call_id}">\n{text}\n</tool_result>'


def test_tool_prompt_gets_a_model_that_calls_each_tool_in_turn(site_sim, token):
    first_query = f"[system]\nBe brief.\n\n{tool_prompt(CHAIN_TOOLS)}\n\n[user]\nAlice, please find your code and note it."
    first = ask(site_sim, token, first_query)
    assert first.status == 200 and collapse(first.types) == NORMAL_TYPES
    assert first.text() == ("Step 1: calling lookup_code.\n<tool_calls>\n<invoke name=\"lookup_code\">\n"
                            "<parameter name=\"name\">Alice</parameter>\n<parameter name=\"mode\">fast</parameter>\n"
                            "<parameter name=\"count\">2</parameter>\n<parameter name=\"ratio\">2</parameter>\n"
                            "<parameter name=\"exact\">true</parameter>\n</invoke>\n</tool_calls>")
    deltas = [f["delta"] for f in first.frames if f["type"] == "text-delta"]
    assert len(deltas) > 10 and "".join(deltas) == first.text()  # streamed in word-sized pieces, as any answer
    assert first.frames[-2] == {"type": "finish", "finishReason": "stop"}  # text, not a native tool call

    # The site keeps the history: the continued turn carries only the new result, no tool list.
    session = first.frames[0]["messageMetadata"]["sessionId"]
    second = ask(site_sim, token, tool_result("lookup_code", "call_1", "CODE-Alice"), session_id=session)
    assert second.text() == ("Step 2: calling save_note.\n<tool_calls>\n<invoke name=\"save_note\">\n"
                             "<parameter name=\"text\">Alice</parameter>\n<parameter name=\"tags\">[]</parameter>\n"
                             "<parameter name=\"meta\">{}</parameter>\n</invoke>\n</tool_calls>")
    third = ask(site_sim, token, tool_result("save_note", "call_2", "saved: Alice's code") + "\n\nThanks!", session_id=session, stream=False)
    assert third.json()["parts"] == [{"type": "text", "text": "All 2 steps are done. Results: CODE-Alice | saved: Alice's code"}]

    # The whole conversation in one query (no session) gets the same answers.
    history = f"{first_query}\n\n[assistant]\n{first.text()}\n\n[user]\n{tool_result('lookup_code', 'call_1', 'CODE-Alice')}"
    assert ask(site_sim, token, history).text() == second.text()
    history += f"\n\n[assistant]\n{second.text()}\n\n[user]\n{tool_result('save_note', 'call_2', 'done')}"
    assert ask(site_sim, token, history).text() == "All 2 steps are done. Results: CODE-Alice | done"


def test_tool_prompt_edge_cases(site_sim, token):
    # No user words to quote: strings become "example"; a tool without parameters gets a bare invoke.
    bare = tool_prompt([("ping", []), ("search", ["- query (string, required)"])])
    assert ask(site_sim, token, f"[system]\n{bare}").text() == "Step 1: calling ping.\n<tool_calls>\n<invoke name=\"ping\">\n</invoke>\n</tool_calls>"
    r = ask(site_sim, token, f"[system]\n{bare}\n\n[user]\n{tool_result('ping', 'c1', 'pong')}")
    assert r.text() == ("Step 2: calling search.\n<tool_calls>\n<invoke name=\"search\">\n"
                        "<parameter name=\"query\">example</parameter>\n</invoke>\n</tool_calls>")
    # A result for an undeclared tool is not a step of this task.
    r = ask(site_sim, token, f"[system]\n{bare}\n\n[user]\n?? {tool_result('other', 'c9', 'x')}")
    assert r.text().startswith("Step 1: calling ping.")
    # A session that began without tools keeps the plain answers, results included.
    plain = ask(site_sim, token, "hello")
    session = plain.frames[0]["messageMetadata"]["sessionId"]
    assert ask(site_sim, token, tool_result("ping", "c1", "pong"), session_id=session).text() == "I received the tool result."


def test_non_stream_json(site_sim, token):
    r = ask(site_sim, token, "quiet please", stream=False)
    assert r.status == 200
    assert r.headers["content-type"].startswith("application/json")
    body = r.json()
    meta = body["messageMetadata"]
    assert body["id"] == meta["exchangeId"]
    assert body["parts"] == [{"type": "text", "text": expected_answer(1, meta["sessionId"], "quiet please")}]


@pytest.mark.parametrize("body, message", [
    ({"request": {"model_slug": "m"}}, "request.query"),
    ({"request": {"query": 5, "model_slug": "m"}}, "request.query"),
    ({"request": {"query": "hi"}}, "request.model_slug"),
    ({"query": "hi"}, "request"),
    ({"request": {"query": "hi", "model_slug": "m"}, "session_id": 7}, "session_id"),
    (b"{not json", "JSON"),
])
def test_invalid_bodies_are_400(site_sim, token, body, message):
    r = post(site_sim, CHAT, body, token)
    assert r.status == 400
    assert message in r.json()["error"]["message"]


def test_stats_record_bodies_with_authorization(site_sim, token):
    site_sim.reset()
    body = chat_body("recorded", temperature=0.2)
    post(site_sim, CHAT, body, token, headers={"X-Request-Id": "req-1"})
    post(site_sim, CHAT, chat_body("anonymous"))
    stats = site_sim.stats()
    assert stats["chats"] == 2 and stats["logins"] == 0
    first, second = stats["requests"]
    assert first["_authorization"] == f"Bearer {token}"
    assert first["_headers"]["x-request-id"] == "req-1"
    assert {k: v for k, v in first.items() if not k.startswith("_")} == body
    assert second["_authorization"] is None


def test_stats_keep_the_last_100_requests_and_reset_clears(site_sim, token):
    site_sim.reset()
    for i in range(105):
        post(site_sim, CHAT, chat_body(f"q{i}", stream=False), token)
    stats = site_sim.stats()
    assert stats["chats"] == 105
    assert [r["request"]["query"] for r in stats["requests"]] == [f"q{i}" for i in range(5, 105)]
    site_sim.reset()
    assert site_sim.stats() == {"logins": 0, "chats": 0, "sessions": {}, "requests": []}
    assert ask(site_sim, token, "hi").status == 401  # reset forgets issued tokens too


# -- fault modes -----------------------------------------------------------------------------------

def test_fault_disconnect(site_sim, token):
    r = ask(site_sim, token, "please [[fault:disconnect]] now")
    assert r.status == 200
    assert r.broken is not None  # the chunked body never finished
    assert r.types == ["start", "start-step", "text-start"] + ["text-delta"] * 3
    assert "[DONE]" not in r.events
    r = ask(site_sim, token, "[[fault:disconnect:1]]")
    assert r.broken is not None and r.types.count("text-delta") == 1


def test_fault_disconnect_non_stream(site_sim, token):
    r = ask(site_sim, token, "[[fault:disconnect]]", stream=False)
    assert r.broken is not None
    with pytest.raises(json.JSONDecodeError):
        r.json()


def test_fault_error_chunk(site_sim, token):
    r = ask(site_sim, token, "[[fault:error-chunk]]")
    assert r.broken is None
    assert r.types == ["start", "start-step", "text-start"] + ["text-delta"] * 3 + ["error"]
    assert r.frames[-1] == {"type": "error", "errorText": "simulated upstream failure"}
    assert "[DONE]" not in r.events
    body = ask(site_sim, token, "[[fault:error-chunk]]", stream=False).json()
    assert body["parts"][-1] == {"type": "error", "error_text": "simulated upstream failure"}


def test_fault_no_finish(site_sim, token):
    r = ask(site_sim, token, "[[fault:no-finish]]")
    assert r.broken is None  # a clean end of body, just no finish
    assert "finish" not in r.types and "[DONE]" not in r.events
    assert r.types[-1] == "text-delta"
    assert r.text().endswith("[[fault:no-finish]]")


@pytest.mark.parametrize("marker, status, message", [
    ("[[fault:http-401]]", 401, "token expired or invalid"),
    ("[[fault:http-403]]", 403, None),
    ("[[fault:http-429]]", 429, None),
    ("[[fault:http-500]]", 500, "internal"),
])
def test_fault_http_json_errors(site_sim, token, marker, status, message):
    for stream in (True, False):
        r = ask(site_sim, token, marker, stream=stream)
        assert r.status == status
        assert r.headers["content-type"].startswith("application/json")
        got = r.json()["error"]["message"]
        assert got and (message is None or got == message)
        if status == 429:
            assert r.headers["retry-after"] == "2"


def test_fault_http_429_retry_after_number(site_sim, token):
    r = ask(site_sim, token, "[[fault:http-429:7]]")
    assert r.status == 429 and r.headers["retry-after"] == "7"


def test_fault_http_502_html(site_sim, token):
    r = ask(site_sim, token, "[[fault:http-502-html]]")
    assert r.status == 502
    assert r.headers["content-type"].startswith("text/html")
    assert r.raw.lstrip().startswith(b"<html")


def test_fault_non_sse_200(site_sim, token):
    r = ask(site_sim, token, "[[fault:non-sse-200]]")
    assert r.status == 200
    assert r.headers["content-type"].startswith("text/html")
    assert r.raw == b"<html>oops</html>"


def test_fault_unknown_session_on_first_turn(site_sim, token):
    site_sim.reset()
    token = site_sim.token()
    r = ask(site_sim, token, "[[fault:unknown-session]]")
    assert r.status == 404 and r.json() == {"error": {"message": "session not found"}}
    assert site_sim.stats()["sessions"] == {}  # no session was created


def test_fault_slow_first(site_sim, token):
    r = ask(site_sim, token, "[[fault:slow-first:600]]")
    assert r.status == 200
    assert r.first_byte_s is not None and r.first_byte_s >= 0.6
    assert collapse(r.types) == NORMAL_TYPES


def test_fault_slow_first_default_is_two_seconds(site_sim, token):
    r = ask(site_sim, token, "[[fault:slow-first]]")
    assert r.first_byte_s >= 2.0
    assert collapse(r.types) == NORMAL_TYPES


def test_fault_stall_after_two_deltas(site_sim, token):
    r = ask(site_sim, token, "[[fault:stall:700]]")
    assert collapse(r.types) == NORMAL_TYPES and r.events[-1] == "[DONE]"
    # When did the 2nd and 3rd deltas arrive? Replay the arrivals through the parser.
    seen: list[tuple[float, dict]] = []
    buf = b""
    for t, piece in r.arrivals:
        buf += piece
        for f in _frames_of(buf)[len(seen):]:
            seen.append((t, f))
    deltas = [t for t, f in seen if f.get("type") == "text-delta"]
    assert deltas[2] - deltas[1] >= 0.6  # 0.7 s, less the jitter of when reads return
    assert deltas[1] - deltas[0] < 0.5


def _frames_of(buf: bytes) -> list[dict]:
    return frames(parse_sse(buf))


def test_fault_garbage_keeps_the_answer_complete(site_sim, token):
    r = ask(site_sim, token, "mixed [[fault:garbage]] signals")
    assert any(e.startswith("{not json") for e in r.events)
    assert "x-unknown" in r.types
    known = [t for t in r.types if t != "x-unknown"]
    assert collapse(known) == NORMAL_TYPES
    session = r.frames[0]["messageMetadata"]["sessionId"]
    assert r.text() == expected_answer(1, session, "mixed [[fault:garbage]] signals")
    assert r.events[-1] == "[DONE]"


def test_fault_crlf(site_sim, token):
    r = ask(site_sim, token, "[[fault:crlf]]")
    assert b"\r\n\r\n" in r.raw
    assert re.search(rb"[^\r]\n", r.raw) is None  # no bare LF anywhere
    assert collapse(r.types) == NORMAL_TYPES and r.events[-1] == "[DONE]"


def test_fault_comments(site_sim, token):
    r = ask(site_sim, token, "[[fault:comments]]")
    lines = r.raw.decode().split("\n")
    assert ": keep-alive" in lines and ": ping" in lines
    assert collapse(r.types) == NORMAL_TYPES and r.events[-1] == "[DONE]"


def test_combined_framing_faults(site_sim, token):
    q = "[[fault:crlf]] [[fault:comments]] [[fault:garbage]]"
    r = ask(site_sim, token, q)
    assert b"\r\n: keep-alive\r\n" in r.raw or r.raw.startswith(b": keep-alive")
    assert collapse([t for t in r.types if t != "x-unknown"]) == NORMAL_TYPES
    assert r.text() == expected_answer(1, r.frames[0]["messageMetadata"]["sessionId"], q)


def test_fault_reasoning(site_sim, token):
    r = ask(site_sim, token, "[[fault:reasoning]]")
    assert collapse(r.types) == ["start", "start-step", "reasoning-start", "reasoning-delta", "reasoning-end",
                                 *NORMAL_TYPES[2:]]
    reasoning = [f for f in r.frames if f["type"].startswith("reasoning")]
    assert all(f["id"] == "r1" for f in reasoning)
    assert "".join(f.get("delta", "") for f in reasoning)
    assert r.text().startswith("Turn 1 of session")
    parts = ask(site_sim, token, "[[fault:reasoning]]", stream=False).json()["parts"]
    assert [p["type"] for p in parts] == ["reasoning", "text"]


def test_fault_tool_input(site_sim, token):
    r = ask(site_sim, token, "find [[fault:tool-input]]")
    assert r.types == ["start", "start-step", "tool-input-start", "tool-input-delta", "tool-input-delta",
                       "tool-input-available", "finish-step", "finish", "data-usage"]
    start, d1, d2, available = r.frames[2:6]
    call = start["toolCallId"]
    assert call and start["toolName"]
    assert d1["toolCallId"] == d2["toolCallId"] == available["toolCallId"] == call
    assert available["toolName"] == start["toolName"]
    assert json.loads(d1["inputTextDelta"] + d2["inputTextDelta"]) == available["input"]
    assert r.frames[7] == {"type": "finish", "finishReason": "tool-calls"}
    assert r.text() == ""
    part = ask(site_sim, token, "[[fault:tool-input]]", stream=False).json()["parts"][0]
    assert part["type"] == "tool-input" and part["tool_name"] and isinstance(part["tool_input"], dict)


def test_fault_sse_for_nonstream(site_sim, token):
    r = ask(site_sim, token, "[[fault:sse-for-nonstream]]", stream=False)
    assert r.status == 200
    assert r.headers["content-type"].startswith("text/event-stream")
    assert collapse(r.types) == NORMAL_TYPES


def test_fault_no_usage(site_sim, token):
    r = ask(site_sim, token, "[[fault:no-usage]]")
    assert "data-usage" not in r.types
    assert r.types[-1] == "finish" and r.events[-1] == "[DONE]"


def test_fault_no_finish_reason(site_sim, token):
    r = ask(site_sim, token, "[[fault:no-finish-reason]]")
    assert {"type": "finish"} in r.frames
    assert collapse(r.types) == NORMAL_TYPES


def test_fault_session_ids_snake(site_sim, token):
    r = ask(site_sim, token, "[[fault:session-ids-snake]]")
    meta = r.frames[0]["messageMetadata"]
    assert set(meta) == {"session_id", "exchange_id"}
    assert meta["exchange_id"] == r.frames[0]["messageId"]
    again = ask(site_sim, token, "next", session_id=meta["session_id"])
    assert again.text().startswith(f"Turn 2 of session {meta['session_id'][:8]}")
    body = ask(site_sim, token, "[[fault:session-ids-snake]]", stream=False).json()
    assert set(body["messageMetadata"]) == {"session_id", "exchange_id"}


def test_fault_messageid_only(site_sim, token):
    r = ask(site_sim, token, "[[fault:messageid-only]]")
    assert r.frames[0] == {"type": "start", "messageId": r.frames[0]["messageId"]}
    assert UUID.match(r.frames[0]["messageId"])
    assert collapse(r.types) == NORMAL_TYPES
    body = ask(site_sim, token, "[[fault:messageid-only]]", stream=False).json()
    assert "messageMetadata" not in body and body["id"]


def test_unknown_fault_is_a_400(site_sim, token):
    r = ask(site_sim, token, "[[fault:explode]]")
    assert r.status == 400
    assert "explode" in r.json()["error"]["message"]


# -- transport options -----------------------------------------------------------------------------

def test_split_writes_still_parse(start_sim):
    s = start_sim("--split-writes")
    token = s.token()
    for query in ["split me", "split [[fault:crlf]] [[fault:comments]]"]:
        r = ask(s, token, query)
        assert collapse(r.types) == NORMAL_TYPES and r.events[-1] == "[DONE]"
        assert r.text() == expected_answer(1, r.frames[0]["messageMetadata"]["sessionId"], query)
        # How the bytes left the server: one HTTP chunk per write, so the chunk sizes show it.
        sizes = _chunk_sizes(s, chat_body(query), token)
        assert len(sizes) > 50 and max(sizes) <= 7


def _chunk_sizes(sim, body: dict, token: str) -> list[int]:
    """The chunk sizes of a chunked response, read off a raw socket (httpx hides the framing)."""
    payload = json.dumps(body).encode()
    with socket.create_connection(("127.0.0.1", sim.port), timeout=10) as sock:
        sock.sendall(b"POST /v2/chats HTTP/1.1\r\nHost: sim\r\nConnection: close\r\nContent-Type: application/json\r\n"
                     b"Authorization: Bearer " + token.encode() + b"\r\nContent-Length: " + str(len(payload)).encode()
                     + b"\r\n\r\n" + payload)
        raw = b""
        while chunk := sock.recv(65536):
            raw += chunk
    head, _, rest = raw.partition(b"\r\n\r\n")
    assert b"transfer-encoding: chunked" in head.lower()
    sizes = []
    while True:
        line, _, rest = rest.partition(b"\r\n")
        size = int(line, 16)
        if size == 0:
            return sizes
        sizes.append(size)
        rest = rest[size + 2:]


def test_delta_delay(start_sim):
    s = start_sim("--delta-delay-ms", "50")
    r = ask(s, s.token(), "a b c d e f")
    deltas = r.types.count("text-delta")
    assert deltas >= 10
    assert r.arrivals[-1][0] - r.arrivals[0][0] >= (deltas - 1) * 0.05 * 0.9
