"""A client that stops reading: the answer's waiting events stay within MIX2API_STREAM_BUFFER_BYTES,
the driver is stopped, and the request ends with end_reason client_too_slow (an error chunk if
the client reads again). A client that keeps reading is never cut, however bursty the driver."""

from __future__ import annotations

import json
import socket
import time

from conftest import mock_plugins
from wire import chat, get, user

LONG = 200_000


def request_bytes(body: dict, request_id: str) -> bytes:
    data = json.dumps(body).encode()
    return (f"POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            f"X-Request-Id: {request_id}\r\nConnection: close\r\nContent-Length: {len(data)}\r\n\r\n").encode() + data


def test_a_client_that_stops_reading_is_given_up_within_the_budget(start_server):
    s = start_server(mock_plugins({"long_deltas": LONG}), env={"MIX2API_STREAM_BUFFER_BYTES": "4096"})
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.settimeout(30)
    sock.connect(("127.0.0.1", s.port))
    sock.sendall(request_bytes({"model": "mock-long", "stream": True, "messages": user()}, "slow-1"))
    assert sock.recv(200).startswith(b"HTTP/1.1 200")
    # Not reading: the socket buffers fill, the writer waits, the driver's deltas pile up.
    time.sleep(3)
    got = b""
    while data := sock.recv(1 << 20):
        got += data
    sock.close()
    log = s.access("slow-1", timeout=10)
    assert log["end_reason"] == "client_too_slow", log
    # The client that came back sees why: an error chunk, then [DONE]; never all 200,000 deltas.
    assert b'"code":"client_too_slow"' in got
    assert b"data: [DONE]" in got
    assert got.count(b'"content":"word') < LONG
    # Counted as such, and as a cut stream (the client saw part of the answer, then the error).
    assert log["cut"] is True, log
    metrics = get(s, "/metrics").body.decode()
    assert any(l.startswith("mix2api_requests_total{") and 'end_reason="client_too_slow"' in l and l.endswith(" 1")
               for l in metrics.splitlines()), metrics


def test_a_reading_client_gets_a_burst_whole(start_server):
    # 2,000 deltas at once (about 80 KB of queued events) with the default budget: a client that
    # reads is never the slow one.
    s = start_server(mock_plugins({"long_deltas": 2000}))
    reply = chat(s, {"model": "mock-long", "stream": True, "messages": user()}, headers={"X-Request-Id": "burst-1"})
    assert reply.status == 200
    assert s.access("burst-1")["end_reason"] == "ok"
    assert b"word2000 " in reply.body and b"client_too_slow" not in reply.body
