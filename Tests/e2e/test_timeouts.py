"""UPSTREAM_TIMEOUT_MS (first event), MIX2API_IDLE_TIMEOUT_MS and MIX2API_TOTAL_TIMEOUT_MS:
a timeout before the first byte is a 503 (never 504), after it an error chunk and [DONE]."""

from __future__ import annotations

import pytest

from conftest import mock_plugins
from contract import check_error, check_stream
from wire import chat, user


@pytest.fixture(scope="module")
def quiet_server(tmp_path_factory):
    """Short timeouts, keep-alive later than all of them: nothing is sent before a timeout."""
    from conftest import Server
    s = Server(tmp_path_factory.mktemp("timeouts"), mock_plugins({"delta_delay_ms": 2, "stall_ms": 1500, "slow_first_ms": 1500}),
               env={"UPSTREAM_TIMEOUT_MS": "500", "MIX2API_IDLE_TIMEOUT_MS": "700", "MIX2API_KEEPALIVE_MS": "10000"})
    s.wait_listening()
    yield s
    s.stop()


@pytest.mark.parametrize("model", ["mock-hang", "mock-slow-first"])
@pytest.mark.parametrize("stream", [True, False], ids=["stream", "nonstream"])
def test_first_event_timeout_is_503(quiet_server, model, stream):
    reply = chat(quiet_server, {"model": model, "stream": stream, "messages": user()})
    err = check_error(reply.status, reply.headers, reply.body, expected_status=503).error
    assert err["code"] == "upstream_timeout"
    log = quiet_server.access(reply.request_id)
    assert (log["end_reason"], log["http_status"]) == ("timeout", 503), log
    assert log["duration_ms"] < 5000


def test_idle_timeout_mid_stream_is_an_error_chunk(quiet_server):
    reply = chat(quiet_server, {"model": "mock-stall", "stream": True, "messages": user()})
    r = check_stream(reply.status, reply.headers, reply.body, expect_error=True)
    assert r.content == "Before the stall,"
    assert r.error["code"] == "upstream_timeout"
    log = quiet_server.access(reply.request_id)
    assert (log["end_reason"], log["http_status"]) == ("timeout", 200), log


def test_idle_timeout_without_stream_is_503(quiet_server):
    reply = chat(quiet_server, {"model": "mock-stall", "messages": user()})
    check_error(reply.status, reply.headers, reply.body, expected_status=503)
    assert quiet_server.access(reply.request_id)["end_reason"] == "timeout"


def test_first_event_timeout_after_keepalive_is_an_error_chunk(start_server):
    """Keep-alive due before the first event: the 200 went out with `: ping`, so the timeout
    must arrive as an error chunk, never as a silent end."""
    s = start_server(env={"UPSTREAM_TIMEOUT_MS": "800", "MIX2API_KEEPALIVE_MS": "300"})
    reply = chat(s, {"model": "mock-hang", "stream": True, "messages": user()})
    r = check_stream(reply.status, reply.headers, reply.body, expect_error=True)
    assert r.comments and r.chunks == [] and r.error["code"] == "upstream_timeout"
    assert s.access(reply.request_id)["end_reason"] == "timeout"


def test_total_timeout(start_server):
    s = start_server(mock_plugins({"delta_delay_ms": 20, "long_deltas": 200}), env={"MIX2API_TOTAL_TIMEOUT_MS": "600"})
    reply = chat(s, {"model": "mock-long", "stream": True, "messages": user()})
    r = check_stream(reply.status, reply.headers, reply.body, expect_error=True)
    assert r.content.startswith("word1 word2 ") and r.error["type"] == "timeout_error"
    log = s.access(reply.request_id)
    assert log["end_reason"] == "timeout" and log["duration_ms"] < 3000, log
    reply = chat(s, {"model": "mock-long", "messages": user()})
    check_error(reply.status, reply.headers, reply.body, expected_status=503)
