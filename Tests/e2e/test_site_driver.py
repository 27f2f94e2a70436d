"""mix2api + the SelfHostedSite driver against site-sim, all real processes on loopback.

Covers the site driver issue's end-to-end list: sessions across turns (only the new text goes
upstream), isolation of parallel conversations, managed login under load (exactly one login, also
after the tokens expire mid-traffic), every fault mode ending with the right end_reason and a
visible error, and the static / pass-through identities.
"""

from __future__ import annotations

import concurrent.futures as futures
import glob
import uuid
from pathlib import Path

import pytest

import contract
import wire
from conftest import BUILD_DIR
from sim import SiteSim

SITE_SO = BUILD_DIR / "libSelfHostedSite.so"


def site_plugins(sim: SiteSim, **config) -> dict:
    base = {"base_url": sim.base_url, "auth_mode": "managed", "token_body_json": '{"username":"admin","password":"secret"}',
            "retry_count": 0, "timeout_ms": 5000, "idle_timeout_ms": 5000}
    base.update(config)
    return {"drivers": {"site": {"path": str(SITE_SO), "config": base}}, "default_driver": "site"}


def ask(server, messages, *, stream=True, headers=None, model="mix/qwen-3-235b-instruct"):
    return wire.chat(server, {"model": model, "stream": stream, "messages": messages}, headers=headers)


def text_of(reply) -> str:
    return contract.check_stream(reply.status, reply.headers, reply.body).content


def chat_requests(sim: SiteSim) -> list[dict]:
    return [r for r in sim.stats()["requests"] if "request" in r]


def test_three_turns_continue_one_site_session_with_only_the_new_text(start_sim, start_server):
    s = start_sim()
    server = start_server(site_plugins(s))
    history = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "first question"}]
    a1 = text_of(ask(server, history))
    assert "Turn 1 of session" in a1
    history += [{"role": "assistant", "content": a1}, {"role": "user", "content": "second question"}]
    a2 = text_of(ask(server, history))
    assert "Turn 2 of session" in a2
    history += [{"role": "assistant", "content": a2}, {"role": "user", "content": "third question"}]
    a3 = text_of(ask(server, history))
    assert "Turn 3 of session" in a3

    sent = chat_requests(s)
    assert len(sent) == 3
    assert "session_id" not in sent[0], "a first turn never sends a session id"
    assert "first question" in sent[0]["request"]["query"] and "Be brief." in sent[0]["request"]["query"]
    session = sent[1]["session_id"]
    assert session and sent[2]["session_id"] == session
    assert sent[1]["request"]["query"].strip() == "second question"
    assert sent[2]["request"]["query"].strip() == "third question"
    assert sent[0]["request"]["model_slug"] == "qwen-3-235b-instruct"


def test_parallel_conversations_of_one_key_get_their_own_site_sessions(start_sim, start_server):
    s = start_sim()
    server = start_server(site_plugins(s))
    convs = {name: [{"role": "user", "content": f"conversation {name} starts"}] for name in ("a", "b")}
    for name, msgs in convs.items():
        msgs.append({"role": "assistant", "content": text_of(ask(server, msgs))})
        msgs.append({"role": "user", "content": f"conversation {name} continues"})
    with futures.ThreadPoolExecutor(2) as pool:
        answers = dict(zip(convs, pool.map(lambda m: text_of(ask(server, m)), convs.values())))
    assert all("Turn 2 of session" in a for a in answers.values())
    second_turns = [r for r in chat_requests(s) if "session_id" in r]
    assert len(second_turns) == 2
    assert second_turns[0]["session_id"] != second_turns[1]["session_id"]
    by_query = {r["request"]["query"].strip(): r["session_id"] for r in second_turns}
    assert set(by_query) == {"conversation a continues", "conversation b continues"}


def test_forcing_a_new_session(start_sim, start_server):
    s = start_sim()
    server = start_server(site_plugins(s))
    msgs = [{"role": "user", "content": "hello"}]
    msgs += [{"role": "assistant", "content": text_of(ask(server, msgs))}, {"role": "user", "content": "again"}]
    assert "Turn 1 of session" in text_of(ask(server, msgs, headers={"x-session-id": "new"}))
    assert "session_id" not in chat_requests(s)[-1]


def test_one_login_for_two_hundred_concurrent_streams_and_one_more_after_expiry(start_sim, start_server):
    s = start_sim("--login-delay-ms", "300")
    server = start_server(site_plugins(s))

    def one(i):
        r = ask(server, [{"role": "user", "content": f"load {i} {uuid.uuid4()}"}])
        return r.status, r.body

    with futures.ThreadPoolExecutor(50) as pool:
        results = list(pool.map(one, range(200)))
    assert all(status == 200 and b"data: [DONE]" in body and b'"error"' not in body for status, body in results)
    assert s.stats()["logins"] == 1

    s.expire_tokens()  # every token the site issued is refused from now on
    with futures.ThreadPoolExecutor(50) as pool:
        results = list(pool.map(one, range(200)))
    assert all(status == 200 and b'"error"' not in body for status, body in results)
    assert s.stats()["logins"] == 2, "the 401s must lead to exactly one re-login"


FAULTS = [
    # marker, streamed: (status, end_reason, error code or None)
    ("http-401", 503, "upstream_auth_error"),
    ("http-403", 503, "upstream_auth_error"),
    ("http-429", 429, "rate_limited"),
    ("http-500", 502, "upstream_error"),
    ("http-502-html", 502, "upstream_error"),
    ("non-sse-200", 502, "upstream_error"),
    ("unknown-session", 502, "upstream_error"),
]


@pytest.mark.parametrize("marker,status,end_reason", FAULTS)
def test_faults_before_the_answer_are_http_errors(start_sim, start_server, marker, status, end_reason):
    s = start_sim()
    server = start_server(site_plugins(s, auth_recovery_retry=0))
    r = ask(server, [{"role": "user", "content": f"please [[fault:{marker}]]"}])
    err = contract.check_error(r.status, r.headers, r.body, expected_status=status)
    line = server.access(r.request_id)
    assert line["end_reason"] == end_reason
    assert "<html" not in r.body.decode().lower(), "an HTML error page never reaches the client"
    if status == 429:
        assert r.headers.get("retry-after")


@pytest.mark.parametrize("marker", ["error-chunk", "no-finish", "disconnect"])
def test_faults_mid_stream_end_with_an_error_chunk(start_sim, start_server, marker):
    # Paced deltas: the first one reaches the client before the failure (otherwise the host
    # rightly answers with a plain HTTP error, as nothing had been sent yet).
    s = start_sim("--delta-delay-ms", "30")
    server = start_server(site_plugins(s))
    r = ask(server, [{"role": "user", "content": f"please [[fault:{marker}]] now"}])
    result = contract.check_stream(r.status, r.headers, r.body, expect_error=True)
    assert result.error and result.finish_reason is None
    assert server.access(r.request_id)["end_reason"] == "upstream_error"


@pytest.mark.parametrize("marker", ["garbage", "crlf", "comments", "session-ids-snake", "messageid-only", "no-usage", "no-finish-reason", "reasoning"])
def test_tolerated_variants_still_answer(start_sim, start_server, marker):
    s = start_sim("--split-writes")
    server = start_server(site_plugins(s))
    r = ask(server, [{"role": "user", "content": f"variant [[fault:{marker}]]"}])
    result = contract.check_stream(r.status, r.headers, r.body)
    assert "Turn 1 of session" in result.content
    assert server.access(r.request_id)["end_reason"] == "ok"
    if marker == "reasoning":
        assert result.reasoning


def test_slow_first_byte_times_out_as_503(start_sim, start_server):
    s = start_sim()
    server = start_server(site_plugins(s, timeout_ms=300), env={"MIX2API_KEEPALIVE_MS": "60000"})
    r = ask(server, [{"role": "user", "content": "[[fault:slow-first:3000]]"}])
    # slow-first sends its headers at once but no body: nothing of the answer came in time
    contract.check_error(r.status, r.headers, r.body, expected_status=503)
    assert server.access(r.request_id)["end_reason"] == "timeout"


def test_access_line_times_the_first_token_phases(start_sim, start_server):
    s = start_sim()
    # No keep-alive before the answer: the SSE head goes out with the first delta.
    server = start_server(site_plugins(s), env={"MIX2API_KEEPALIVE_MS": "60000"})
    # slow-first sends the response head at once and the body 400 ms later.
    r = ask(server, [{"role": "user", "content": "[[fault:slow-first:400]] hello"}])
    contract.check_stream(r.status, r.headers, r.body)
    log = server.access(r.request_id)
    phases = [log[k] for k in ("driver_start_ms", "upstream_head_ms", "first_delta_ms", "ttfb_ms", "duration_ms")]
    assert phases == sorted(phases) and phases[0] > 0, log
    assert log["first_delta_ms"] >= 400, "the site held its first byte for 400 ms: " + str(log)
    assert log["first_delta_ms"] > log["upstream_head_ms"], "the head is reported when it comes, not with the body"

    r = ask(server, [{"role": "user", "content": "hello again"}], stream=False)
    assert r.status == 200
    log = server.access(r.request_id)
    assert log["driver_start_ms"] <= log["upstream_head_ms"] <= log["first_delta_ms"] <= log["ttfb_ms"], log

    r = ask(server, [{"role": "user", "content": "[[fault:http-500]]"}])
    log = server.access(r.request_id)
    # An error answer: its status is in upstream_status; there was no delta and no first byte.
    assert log["upstream_status"] == 500 and log["driver_start_ms"] > 0, log
    assert "first_delta_ms" not in log and "ttfb_ms" not in log, log

    r = ask(server, [{"role": "tool", "tool_call_id": "call_unknown", "content": "x"}])
    log = server.access(r.request_id)
    assert r.status == 400 and "driver_start_ms" not in log, "refused before any driver: no phases " + str(log)


def test_the_engine_thread_is_named_for_top_and_perf(start_sim, start_server):
    s = start_sim()
    server = start_server(site_plugins(s))
    assert text_of(ask(server, [{"role": "user", "content": "hello"}]))
    names = [Path(p).read_text().strip() for p in glob.glob(f"/proc/{server.pid}/task/*/comm")]
    assert names.count("site-curl") == 1, names


def test_stall_longer_than_idle_timeout_is_a_timeout(start_sim, start_server):
    s = start_sim()
    server = start_server(site_plugins(s, idle_timeout_ms=300), env={"MIX2API_KEEPALIVE_MS": "100"})
    r = ask(server, [{"role": "user", "content": "[[fault:stall:3000]]"}])
    contract.check_stream(r.status, r.headers, r.body, expect_error=True)
    assert server.access(r.request_id)["end_reason"] == "timeout"


def test_retries_before_the_first_byte(start_sim, start_server):
    s = start_sim()
    server = start_server(site_plugins(s, retry_count=2, retry_base_ms=10))
    r = ask(server, [{"role": "user", "content": "[[fault:http-500]]"}])
    contract.check_error(r.status, r.headers, r.body, expected_status=502)
    assert len(chat_requests(s)) == 3, "one try and two retries"


def test_unreachable_site_is_503(start_server):
    server = start_server({"drivers": {"site": {"path": str(SITE_SO), "config": {
        "base_url": "http://127.0.0.1:9", "auth_mode": "none", "connect_timeout_ms": 1000}}}, "default_driver": "site"})
    r = ask(server, [{"role": "user", "content": "hi"}])
    contract.check_error(r.status, r.headers, r.body, expected_status=503)
    assert server.access(r.request_id)["end_reason"] == "upstream_error"


def test_non_streamed_answers(start_sim, start_server):
    s = start_sim()
    server = start_server(site_plugins(s))
    r = ask(server, [{"role": "user", "content": "plain"}], stream=False)
    body = contract.check_completion(r.status, r.headers, r.body)
    assert "Turn 1 of session" in r.json()["choices"][0]["message"]["content"]
    r = ask(server, [{"role": "user", "content": "[[fault:sse-for-nonstream]]"}], stream=False)
    contract.check_completion(r.status, r.headers, r.body)


def test_static_and_pass_through_identities(start_sim, start_server):
    s = start_sim("--static-token", "site-static-token-1")
    static = start_server(site_plugins(s, auth_mode="static", token="site-static-token-1"))
    assert "Turn 1" in text_of(ask(static, [{"role": "user", "content": "static"}]))
    assert chat_requests(s)[-1]["_authorization"] == "Bearer site-static-token-1"

    passing = start_server(site_plugins(s, auth_mode="pass_through"), env={"INBOUND_BEARER_TOKEN": "site-static-token-1"})
    r = ask(passing, [{"role": "user", "content": "pass"}], headers={"Authorization": "Bearer site-static-token-1"})
    assert "Turn 1" in text_of(r)
    assert chat_requests(s)[-1]["_authorization"] == "Bearer site-static-token-1"
    assert s.stats()["logins"] == 0


def test_site_tokens_never_reach_the_logs(start_sim, start_server):
    s = start_sim()
    server = start_server(site_plugins(s))
    text_of(ask(server, [{"role": "user", "content": "hi"}]))
    token_seen = chat_requests(s)[-1]["_authorization"].split(" ", 1)[1]
    assert token_seen not in server.stdout() + server.stderr()
    assert "secret" not in server.stdout() + server.stderr()


def test_history_that_cannot_fit_is_context_length_exceeded(start_sim, start_server):
    s = start_sim()
    server = start_server(site_plugins(s, default_max_input_tokens=60, reserved_output_tokens=10))
    r = ask(server, [{"role": "user", "content": "word " * 400}])
    err = contract.check_error(r.status, r.headers, r.body, expected_status=400)
    assert r.json()["error"]["code"] == "context_length_exceeded"
    assert server.access(r.request_id)["end_reason"] == "invalid_request"
    assert chat_requests(s) == [], "nothing was sent to the site"


def test_old_history_is_trimmed_to_the_budget_without_a_session(start_sim, start_server):
    s = start_sim()
    server = start_server(site_plugins(s, default_max_input_tokens=200, reserved_output_tokens=10))
    history = []
    for i in range(30):
        history += [{"role": "user", "content": f"old question {i} " + "x" * 40}, {"role": "assistant", "content": f"old answer {i}"}]
    history.append({"role": "user", "content": "the newest question"})
    r = ask(server, history, headers={"x-session-id": "new"})
    assert "Turn 1 of session" in text_of(r)
    query = chat_requests(s)[-1]["request"]["query"]
    assert "the newest question" in query and "old question 0 " not in query


def test_lost_site_session_is_retried_once_with_a_fresh_one(start_sim, start_server):
    s = start_sim()
    server = start_server(site_plugins(s))
    msgs = [{"role": "user", "content": "start"}]
    msgs += [{"role": "assistant", "content": text_of(ask(server, msgs))}, {"role": "user", "content": "next [[fault:unknown-session]]"}]
    r = ask(server, msgs)
    contract.check_error(r.status, r.headers, r.body, expected_status=502)  # the marker makes the fresh try fail too
    sent = chat_requests(s)[1:]
    assert len(sent) == 2
    assert "session_id" in sent[0] and "session_id" not in sent[1], "the retry starts a new site session"
    assert "start" in sent[1]["request"]["query"], "without a session the history travels in the query"


def test_dynamic_upstream_base(start_sim, start_server):
    # The other site needs no token: a managed token belongs to the configured site only.
    main, other = start_sim(), start_sim("--no-auth")
    off = start_server(site_plugins(main))
    r = ask(off, [{"role": "user", "content": "hi"}], headers={"x-upstream-base-url": other.base_url})
    assert r.status == 400 and "UPSTREAM_DYNAMIC_BASE_ENABLED" in r.json()["error"]["message"]

    strict = start_server(site_plugins(main, dynamic_base_enabled=True, base_allowlist="127.0.0.1", base_allow_http=True))
    r = ask(strict, [{"role": "user", "content": "hi"}], headers={"x-upstream-base-url": other.base_url})
    assert r.status == 400 and "private or loopback" in r.json()["error"]["message"]
    r = ask(strict, [{"role": "user", "content": "hi"}], headers={"x-upstream-base-url": "http://example.invalid:1"})
    assert r.status == 400 and "not in UPSTREAM_BASE_ALLOWLIST" in r.json()["error"]["message"]

    open_ = start_server(site_plugins(main, dynamic_base_enabled=True, base_allowlist="127.0.0.1", base_allow_http=True, base_allow_private=True))
    r = ask(open_, [{"role": "user", "content": "routed"}], headers={"x-upstream-base-url": other.base_url})
    assert "Turn 1" in text_of(r)
    assert len(chat_requests(other)) == 1 and all("routed" not in q["request"]["query"] for q in chat_requests(main))


def test_client_abort_stops_the_site_transfer(start_sim, start_server):
    import socket

    s = start_sim()
    server = start_server(site_plugins(s), env={"MIX2API_KEEPALIVE_MS": "60000"})
    body = b'{"model":"m","stream":true,"messages":[{"role":"user","content":"[[fault:stall:20000]]"}]}'
    for i in range(20):
        c = socket.create_connection(("127.0.0.1", int(server.base_url.rsplit(":", 1)[1])))
        c.sendall(b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nX-Request-Id: site-abort-%d\r\n"
                  b"Content-Length: %d\r\n\r\n" % (i, len(body)) + body)
        got = b""
        while b'"content":"' not in got.split(b'"content":""', 1)[-1]:
            got += c.recv(4096)
        c.close()
        assert server.access(f"site-abort-{i}", timeout=3)["end_reason"] == "client_abort"
    # The driver let go of every transfer: the next answer still comes at once.
    assert "Turn 1" in text_of(ask(server, [{"role": "user", "content": "after the aborts"}]))
