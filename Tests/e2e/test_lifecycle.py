"""The process around the requests: clients that leave, many of them, SIGTERM with a stream in
flight, and start-up with a broken plugins.json."""

from __future__ import annotations

import glob
import os
import json
import signal
import socket
import struct
import time
from pathlib import Path

import httpx
import pytest

from conftest import BUILD_DIR, mock_plugins
from contract import check_completion, check_error, check_stream
from wire import chat, get, user

ABORT_LOG_TIMEOUT_S = 2.0


# ---------------------------------------------------------------------------------------------
# Raw sockets: the only way to leave at an exact moment


def open_chat(server, model: str, request_id: str, *, stream: bool = True) -> socket.socket:
    body = json.dumps({"model": model, "stream": stream, "messages": user()}).encode()
    head = (f"POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\nContent-Type: application/json\r\n"
            f"X-Request-Id: {request_id}\r\nContent-Length: {len(body)}\r\n\r\n").encode()
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    sock.sendall(head + body)
    return sock


def read_until(sock: socket.socket, marker: bytes, limit: int = 1 << 16) -> bytes:
    got = b""
    while marker not in got:
        data = sock.recv(4096)
        assert data, f"connection closed before {marker!r}; got {got[:500]!r}"
        got += data
        assert len(got) < limit, got[:500]
    return got


def leave(sock: socket.socket, *, reset: bool) -> None:
    """Close (FIN) or reset (RST, SO_LINGER 0) the connection."""
    if reset:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


def abort_once(server, request_id: str, *, model: str = "mock-stall", stream: bool = True,
               marker: bytes | None = b"data: ", reset: bool = False) -> dict:
    """Starts a request, reads up to `marker`, leaves, returns its access line. With no marker
    (nothing comes back before the answer is complete) it gives the request a moment to reach
    the handler first: a reset would otherwise discard it unread."""
    sock = open_chat(server, model, request_id, stream=stream)
    if marker is not None:
        first = read_until(sock, marker)
        assert first.startswith(b"HTTP/1.1 200"), first[:200]
    else:
        time.sleep(0.3)
    leave(sock, reset=reset)
    return server.access(request_id, timeout=ABORT_LOG_TIMEOUT_S)


# ---------------------------------------------------------------------------------------------
# Client abort


@pytest.mark.parametrize("case", [
    dict(model="mock-stall", stream=True, marker=b'"content":"Before"'),  # mid-answer, during the stall
    dict(model="mock-hang", stream=True, marker=b": ping\n\n"),  # headers sent on the first keep-alive
    dict(model="mock-slow-first", stream=True, marker=b": ping\n\n"),
    dict(model="mock-hang", stream=False, marker=None),  # nothing sent back yet
], ids=["stall-after-delta", "hang-after-ping", "slow-first-after-ping", "hang-nonstream"])
@pytest.mark.parametrize("reset", [False, True], ids=["fin", "rst"])
def test_client_abort_is_logged(server, case, reset):
    rid = f"abort-{case['model']}-{case['stream']}-{reset}"
    started = time.monotonic()
    log = abort_once(server, rid, reset=reset, **case)
    assert time.monotonic() - started < 5
    assert log["end_reason"] == "client_abort", log
    assert log["stream"] is case["stream"]


def test_many_aborts_leak_nothing(start_server):
    s = start_server()
    for i in range(30):  # warm-up: allocator pools, thread pools
        abort_once(s, f"warm-{i}", reset=i % 2 == 1)
    before = s.rss_kb()
    for i in range(300):
        log = abort_once(s, f"loop-{i}", reset=i % 2 == 1)
        assert log["end_reason"] == "client_abort", log
    after = s.rss_kb()
    assert after - before < 30 * 1024, f"RSS grew from {before} kB to {after} kB over 300 aborted streams"
    ok = chat(s, {"model": "mock-short", "stream": True, "messages": user()})
    assert check_stream(ok.status, ok.headers, ok.body).content == "Hello from the mock upstream."
    ok = chat(s, {"model": "mock-stall", "messages": user()})
    assert check_completion(ok.status, ok.headers, ok.body).content == "Before the stall, and after it."
    assert all(l["end_reason"] == "client_abort" for l in s.access_lines() if l["request_id"].startswith(("warm-", "loop-")))


def test_pipelined_requests_on_one_connection(server):
    """Two requests written back to back on one keep-alive connection: two answers, in order."""
    def raw_request(body: dict, last: bool) -> bytes:
        data = json.dumps(body).encode()
        close = "Connection: close\r\n" if last else ""
        return (f"POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                f"{close}Content-Length: {len(data)}\r\n\r\n").encode() + data
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    sock.sendall(raw_request({"model": "mock-chars", "stream": True, "messages": user()}, False)
                 + raw_request({"model": "mock-echo", "messages": user("second")}, True))
    got = b""
    while data := sock.recv(65536):
        got += data
    sock.close()
    before, first, second = got.split(b"HTTP/1.1 200 OK")
    assert before == b""
    assert b"data: [DONE]" in first and b"text/event-stream" in first.lower(), got[:500]
    assert b'\\"last_user\\":\\"second\\"' in second, second[-800:]


# ---------------------------------------------------------------------------------------------
# Graceful shutdown


def wait_draining(server, timeout: float) -> bool:
    """True once /ready answers 503 or the server stops accepting connections."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            ready = get(server, "/ready")
        except httpx.TransportError:
            return True
        if ready.status == 503:
            assert ready.json()["status"] == "draining", ready.body
            return True
        time.sleep(0.02)
    return False


def test_sigterm_lets_an_inflight_stream_finish(start_server):
    s = start_server(mock_plugins({"delta_delay_ms": 2, "stall_ms": 2500}), env={"MIX2API_SHUTDOWN_GRACE_MS": "15000"})
    body = {"model": "mock-stall", "stream": True, "messages": user()}
    with httpx.Client(trust_env=False, timeout=30) as c, c.stream("POST", f"{s.base_url}/v1/chat/completions", json=body) as r:
        raw = b""
        parts = r.iter_raw()
        while b'"content":"Before"' not in raw:
            raw += next(parts)
        s.proc.send_signal(signal.SIGTERM)
        sent_at = time.monotonic()
        # Once draining (/ready says 503, or the listener is closed), new work is refused.
        assert wait_draining(s, timeout=3), "/ready still said 200 three seconds after SIGTERM"
        try:
            late = chat(s, {"model": "mock-short", "messages": user()})
            check_error(late.status, late.headers, late.body, expected_status=503)
        except httpx.TransportError:
            pass
        for part in parts:
            raw += part
        status, headers = r.status_code, r.headers
    result = check_stream(status, headers, raw)
    assert result.content == "Before the stall, and after it."
    code = s.wait_exit(timeout=15)
    assert code == 0, f"exit code {code}; stderr: {s.stderr()[-2000:]}"
    assert time.monotonic() - sent_at < 15
    assert s.access(result.request_id)["end_reason"] == "ok"


def test_sigterm_grace_expiry_ends_a_stream_visibly(start_server):
    """A stream still running when the grace period ends must get an error chunk and [DONE]
    (never a cut connection), and the process still exits 0."""
    s = start_server(env={"MIX2API_SHUTDOWN_GRACE_MS": "1500"})
    body = {"model": "mock-hang", "stream": True, "messages": user()}
    raw, cut = b"", None
    with httpx.Client(trust_env=False, timeout=30) as c, c.stream("POST", f"{s.base_url}/v1/chat/completions", json=body) as r:
        parts = r.iter_raw()
        while b": ping" not in raw:
            raw += next(parts)
        s.proc.send_signal(signal.SIGTERM)
        sent_at = time.monotonic()
        try:
            for part in parts:
                raw += part
        except httpx.TransportError as e:
            cut = e
        status, headers = r.status_code, r.headers
    code = s.wait_exit(timeout=15)
    assert cut is None, f"the stream was cut at shutdown ({cut!r}) after {raw[-300:]!r}"
    result = check_stream(status, headers, raw, expect_error=True)
    assert code == 0, f"exit code {code}; stderr: {s.stderr()[-2000:]}"
    assert time.monotonic() - sent_at < 10
    assert s.access(result.request_id)["end_reason"] != "ok"


def test_sigterm_grace_expiry_answers_a_waiting_request(start_server):
    """A non-streamed request still waiting when the grace period ends gets a 503 envelope."""
    s = start_server(env={"MIX2API_SHUTDOWN_GRACE_MS": "1500"})
    sock = open_chat(s, "mock-hang", "grace-nonstream", stream=False)
    try:
        time.sleep(0.3)  # let the request reach the handler
        s.proc.send_signal(signal.SIGTERM)
        sock.settimeout(15)
        got = b""
        while True:
            data = sock.recv(65536)
            if not data:
                break
            got += data
            if b"\r\n\r\n" in got and b"}}" in got:
                break
    finally:
        sock.close()
    assert got.startswith(b"HTTP/1.1 503"), f"expected a 503 envelope at grace expiry, got {got[:400]!r}"
    assert s.wait_exit(timeout=15) == 0


def test_sigterm_when_idle_exits_zero(start_server):
    s = start_server()
    assert get(s, "/health").status == 200
    s.proc.send_signal(signal.SIGTERM)
    assert s.wait_exit(timeout=10) == 0


# ---------------------------------------------------------------------------------------------
# Start-up refuses a broken plugins.json, naming the file and the field


def _non_driver_library() -> str | None:
    for pattern in ("/lib/x86_64-linux-gnu/libc.so.6", "/usr/lib/x86_64-linux-gnu/libz.so.*", "/lib/*/libm.so.6", "/usr/lib/*/libc.so.6"):
        found = sorted(glob.glob(pattern))
        if found:
            return found[0]
    return None


BROKEN_PLUGINS = {
    "missing .so": (mock_plugins(path="/nonexistent/libNoSuchDriver.so"), ["drivers.mock.path", "/nonexistent/libNoSuchDriver.so"]),
    "library that is not a driver": ("NON_DRIVER", ["drivers.mock.path", "not a mix2api driver"]),
    "mock config unknown field": (mock_plugins({"delta_delay": 5}), ["drivers.mock.config", "delta_delay"]),
    "mock config negative number": (mock_plugins({"stall_ms": -1}), ["drivers.mock.config", "stall_ms"]),
    "mock config string number": (mock_plugins({"long_deltas": "many"}), ["drivers.mock.config", "long_deltas"]),
    "route to an unknown driver": (mock_plugins(routes=[{"prefix": "mock", "driver": "nope"}]), ["routes[0].driver", "nope"]),
    "default_driver unknown": (mock_plugins(default_driver="ghost"), ["default_driver", "ghost"]),
    "route with model and prefix": (mock_plugins(routes=[{"model": "a", "prefix": "b", "driver": "mock"}]), ["routes[0]"]),
    "no routes and no default": (mock_plugins(routes=[], default_driver=None), ["routes"]),
    "unknown top-level field": ({**mock_plugins(), "driverz": {}}, ["driverz"]),
    "not JSON": ('{"drivers": {', ["(file)"]),
    "unset placeholder with no default": (mock_plugins({"stall_ms": "${E2E_SURELY_UNSET_VARIABLE}"}), ["drivers.mock.config", "E2E_SURELY_UNSET_VARIABLE"]),
}


@pytest.mark.parametrize("name", list(BROKEN_PLUGINS))
def test_broken_plugins_json_stops_startup(run_to_exit, name):
    plugins, needles = BROKEN_PLUGINS[name]
    if plugins == "NON_DRIVER":
        lib = _non_driver_library()
        if lib is None:
            pytest.skip("no system shared library found to use as a non-driver")
        plugins = mock_plugins(path=lib)
    code, out, err, path = run_to_exit(plugins)
    assert code != 0, out
    assert "listening on" not in out
    assert path in err, f"stderr must name the file {path}: {err!r}"
    for needle in needles:
        assert needle in err, f"stderr must mention {needle!r}: {err!r}"


def test_placeholder_default_and_override(start_server):
    plugins = mock_plugins({"delta_delay_ms": "${E2E_DELAY:-1}", "long_deltas": "${E2E_LONG:-3}"})
    s = start_server(plugins, env={"E2E_LONG": "7"})
    reply = chat(s, {"model": "mock-long", "messages": user()})
    assert check_completion(reply.status, reply.headers, reply.body).content == "".join(f"word{i} " for i in range(1, 8))


def test_bad_host_setting_stops_startup(run_to_exit):
    code, out, err, _ = run_to_exit(mock_plugins(), env={"MIX2API_KEEPALIVE_MS": "often"})
    assert code != 0 and "MIX2API_KEEPALIVE_MS" in err, err


def test_second_driver_by_route(start_server):
    cfix = BUILD_DIR / "libCFixtureDriver.so"
    if not cfix.exists():
        pytest.skip("libCFixtureDriver.so not built")
    plugins = mock_plugins()
    plugins["drivers"]["cfix"] = {"path": str(cfix), "config": {"deltas": 3, "delay_us": 1000}}
    plugins["routes"].append({"prefix": "c-", "driver": "cfix"})
    s = start_server(plugins)
    reply = chat(s, {"model": "c-anything", "stream": True, "messages": user()})
    r = check_stream(reply.status, reply.headers, reply.body)
    assert r.content_deltas == ["c1", "c2", "c3"]
    assert s.access(reply.request_id)["driver"] == "cfix"
    reply = chat(s, {"model": "mock-short", "messages": user()})
    check_completion(reply.status, reply.headers, reply.body)
    assert s.access(reply.request_id)["driver"] == "mock"


def test_driver_rejecting_its_config_stops_startup(run_to_exit):
    cfix = BUILD_DIR / "libCFixtureDriver.so"
    if not cfix.exists():
        pytest.skip("libCFixtureDriver.so not built")
    plugins = mock_plugins()
    plugins["drivers"]["cfix"] = {"path": str(cfix), "config": {"fail": 1}}
    code, out, err, path = run_to_exit(plugins)
    assert code != 0 and path in err and "drivers.cfix.config" in err, err


def test_a_closed_stdout_does_not_stop_the_server(tmp_path):
    """`mix2api | head`, or a log shipper that goes away: log writes fail, requests go on."""
    import os
    import re
    import subprocess

    from conftest import BIN, _child_env

    plugins = tmp_path / "plugins.json"
    plugins.write_text(json.dumps(mock_plugins()))
    read_end, write_end = os.pipe()
    proc = subprocess.Popen([str(BIN)], cwd=tmp_path, env=_child_env({"MIX2API_PLUGINS": str(plugins)}),
                            stdin=subprocess.DEVNULL, stdout=write_end, stderr=subprocess.DEVNULL)
    os.close(write_end)
    try:
        out = b""
        while not re.search(rb"listening on 127\.0\.0\.1:(\d+)\n", out):
            chunk = os.read(read_end, 4096)
            assert chunk, "mix2api closed stdout before printing its port"
            out += chunk
        port = int(re.search(rb"listening on 127\.0\.0\.1:(\d+)\n", out).group(1))
        os.close(read_end)  # nobody reads the logs any more
        for _ in range(20):
            r = httpx.post(f"http://127.0.0.1:{port}/v1/chat/completions", timeout=10,
                           json={"model": "mock-short", "stream": True, "messages": user()})
            check_stream(r.status_code, r.headers, r.content)
        assert proc.poll() is None, f"mix2api exited with {proc.returncode}"
    finally:
        proc.terminate()
        proc.wait(timeout=15)


def _event_loop_threads(pid: int) -> int:
    names = [Path(p).read_text().strip() for p in glob.glob(f"/proc/{pid}/task/*/comm")]
    return sum(1 for n in names if n.startswith("NIO-SGLTN-"))


def _starting_line(s) -> dict:
    return next(line for line in s.logs() if line.get("msg") == "starting")


def test_event_loops_follow_the_cpu_affinity(start_server):
    # Pinned to one CPU (as taskset does), mix2api runs one event loop, not one per machine core:
    # two loops on one CPU take turns, and a first token waits out the other's time slice.
    cpu = min(os.sched_getaffinity(0))
    s = start_server(cpus={cpu})
    assert _starting_line(s)["event_loops"] == 1
    assert _event_loop_threads(s.pid) == 1
    ok = httpx.post(f"{s.base_url}/v1/chat/completions", json={"model": "mock-short", "messages": user("hi")}, timeout=10)
    assert ok.status_code == 200, ok.text


def test_nio_loop_count_setting_wins_over_the_affinity(start_server):
    s = start_server(env={"NIO_SINGLETON_GROUP_LOOP_COUNT": "3"}, cpus={min(os.sched_getaffinity(0))})
    assert _starting_line(s)["event_loops"] == 3
    assert _event_loop_threads(s.pid) == 3
