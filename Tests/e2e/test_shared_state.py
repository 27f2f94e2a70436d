"""Two mix2api instances sharing one real Redis (issue 5): site sessions and the site token are
shared, a Redis crash degrades without failing a request, recovery needs no restart, and entries
another build wrote (unknown schemaVersion, corrupt, or with extra fields) never fail a request.
"""

from __future__ import annotations

import concurrent.futures as futures
import json
import threading
import time
import uuid

import contract
import wire
from test_site_driver import ask, chat_requests, site_plugins, text_of

PREFIX = "mix2api:session"


def two_instances(start_server, sim, redis, **env):
    plugins = site_plugins(sim)
    settings = {"REDIS_URL": redis.url, "REDIS_CONNECT_TIMEOUT_MS": "300", "REDIS_COMMAND_TIMEOUT_MS": "300", **env}
    return start_server(plugins, settings), start_server(plugins, settings)


def degraded_gauge(server) -> float:
    """mix2api_state_degraded from /metrics."""
    text = wire.get(server, "/metrics").body.decode()
    (line,) = [l for l in text.splitlines() if l.startswith("mix2api_state_degraded")]
    return float(line.split()[-1])


def ready(server) -> dict:
    reply = wire.get(server, "/ready")
    assert reply.status == 200, reply.body
    return reply.json()


def conversation(tag: str) -> list[dict]:
    return [{"role": "user", "content": f"{tag} {uuid.uuid4()}"}]


def continue_on(server, history: list[dict], text: str) -> str:
    """Appends the last answer and a new user turn, asks `server`, returns the answer."""
    history.append({"role": "user", "content": text})
    answer = text_of(ask(server, history))
    history.append({"role": "assistant", "content": answer})
    return answer


def first_turn(server, history: list[dict]) -> str:
    answer = text_of(ask(server, history))
    history.append({"role": "assistant", "content": answer})
    return answer


def test_turn_two_on_the_other_instance_continues_the_site_session(start_sim, start_server, redis_server):
    sim = start_sim()
    a, b = two_instances(start_server, sim, redis_server)
    assert ready(a)["status"] == "ready" and ready(b)["status"] == "ready"
    assert degraded_gauge(a) == 0
    history = conversation("shared")
    assert "Turn 1 of session" in first_turn(a, history)
    assert "Turn 2 of session" in continue_on(b, history, "second question, on B")
    assert "Turn 3 of session" in continue_on(a, history, "third question, back on A")
    sent = chat_requests(sim)
    assert len(sent) == 3 and "session_id" not in sent[0]
    assert sent[1]["session_id"] and sent[1]["session_id"] == sent[2]["session_id"]
    assert sent[1]["request"]["query"].strip() == "second question, on B", "B sent only the new text"
    # Both instances log in through one shared token.
    assert sim.stats()["logins"] == 1
    # What is stored: prefixed keys with a TTL, values with schemaVersion and no credentials.
    keys = redis_server.keys(f"{PREFIX}:site:*")
    assert any(":session:" in k for k in keys) and any(":token:" in k for k in keys), keys
    for key in keys:
        value = redis_server.cmd("GET", key)
        assert json.loads(value)["schemaVersion"] == 1
        assert "secret" not in value and "admin" not in value
        assert 0 < redis_server.ttl_ms(key), f"{key} must expire"
        assert "secret" not in key and "admin" not in key


def test_a_hundred_concurrent_first_requests_across_both_instances_log_in_once(start_sim, start_server, redis_server):
    sim = start_sim("--login-delay-ms", "300")
    a, b = two_instances(start_server, sim, redis_server)

    def one(i):
        reply = ask(a if i % 2 else b, conversation(f"first {i}"))
        return reply.status, reply.body

    with futures.ThreadPoolExecutor(100) as pool:
        results = list(pool.map(one, range(100)))
    assert all(status == 200 and b"data: [DONE]" in body and b'"error"' not in body for status, body in results)
    assert sim.stats()["logins"] == 1


def test_redis_killed_mid_traffic_fails_no_request_and_recovers_without_restart(start_sim, start_server, redis_server):
    sim = start_sim()
    a, b = two_instances(start_server, sim, redis_server)
    stop = threading.Event()
    failures: list[str] = []
    done = [0]
    lock = threading.Lock()

    def worker(n: int):
        # Conversations that alternate instances every turn, as new-api's balancing would.
        while not stop.is_set():
            history = conversation(f"worker {n}")
            for turn in range(3):
                server = (a, b)[(n + turn) % 2]
                reply = ask(server, history)
                try:
                    answer = contract.check_stream(reply.status, reply.headers, reply.body).content
                except AssertionError as e:
                    with lock:
                        failures.append(f"{server.base_url}: {e}")
                    break
                history += [{"role": "assistant", "content": answer}, {"role": "user", "content": f"turn {turn + 2}"}]
                with lock:
                    done[0] += 1

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    try:
        time.sleep(1.0)
        redis_server.kill()
        before = done[0]
        deadline = time.monotonic() + 10
        while not (ready(a)["status"] == "degraded" and ready(b)["status"] == "degraded"):
            assert time.monotonic() < deadline, (ready(a), ready(b))
            time.sleep(0.05)
        degraded = ready(a)
        assert "redis" in degraded["reason"] and str(redis_server.port) in degraded["reason"]
        health = wire.get(a, "/health")
        assert health.status == 200 and health.json()["status"] == "degraded"
        assert degraded_gauge(a) == 1 and degraded_gauge(b) == 1
        time.sleep(1.5)  # traffic keeps flowing on the fallback
        assert done[0] > before, "requests kept completing while Redis was down"
        redis_server.start()
        deadline = time.monotonic() + 10
        while not (ready(a)["status"] == "ready" and ready(b)["status"] == "ready"):
            assert time.monotonic() < deadline, (ready(a), ready(b))
            time.sleep(0.05)
        assert degraded_gauge(a) == 0 and degraded_gauge(b) == 0
        time.sleep(0.5)
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=30)
    assert not failures, failures[:5]
    assert done[0] > 20

    # Each transition was logged once per instance, not once per request.
    for server in (a, b):
        messages = [line.get("msg", "") for line in server.logs()]
        assert sum("falling back to in-memory state" in m for m in messages) == 1, messages
        assert sum("redis is back" in m for m in messages) == 1

    # Shared again: a conversation moves between instances and keeps its site session.
    history = conversation("after recovery")
    first_turn(a, history)
    assert "Turn 2 of session" in continue_on(b, history, "after recovery, on B")


def test_entries_from_other_builds_never_fail_a_request(start_sim, start_server, redis_server):
    sim = start_sim()
    a, b = two_instances(start_server, sim, redis_server)
    histories = {name: conversation(name) for name in ("future", "corrupt", "extra-fields")}
    for history in histories.values():
        first_turn(a, history)
    keys = redis_server.keys(f"{PREFIX}:site:session:*")
    assert len(keys) == 3
    by_session = {json.loads(redis_server.cmd("GET", k))["sessionId"]: k for k in keys}
    first_sessions = [r for r in sim.stats()["requests"] if "request" in r]
    assert len(first_sessions) == 3

    # Which key belongs to which conversation: the simulator names (a prefix of) the session.
    def key_of(history):
        shown = history[-1]["content"].split("Turn 1 of session", 1)[1].split()[0].strip(".:,")
        (key,) = [k for session, k in by_session.items() if session.startswith(shown)]
        return key

    planted = {
        "future": json.dumps({"schemaVersion": 99, "sessionId": "from-a-future-build", "layout": "v99"}),
        "corrupt": "{this is not json",
        # A newer build of the same schema only adds optional fields: still a hit.
        "extra-fields": None,
    }
    for name, value in planted.items():
        key = key_of(histories[name])
        if value is None:
            entry = json.loads(redis_server.cmd("GET", key))
            entry["addedByCanary"] = {"anything": [1, 2, 3]}
            value = json.dumps(entry)
        redis_server.cmd("SET", key, value, "PX", "60000")
    token_key = redis_server.keys(f"{PREFIX}:site:token:*")[0]
    redis_server.cmd("SET", token_key, json.dumps({"schemaVersion": 7, "tokenV7": "x"}), "PX", "60000")

    answers = {name: continue_on(b, history, f"{name} continues") for name, history in histories.items()}
    assert "Turn 1 of session" in answers["future"], "unknown schemaVersion: a miss, a fresh site session"
    assert "Turn 1 of session" in answers["corrupt"], "corrupt value: a miss, a fresh site session"
    assert "Turn 2 of session" in answers["extra-fields"], "extra optional fields are read as before"
    assert sim.stats()["logins"] == 2, "the unreadable token entry was a miss: one fresh login"
    warnings = [line for line in b.logs() if "unknown schema" in line.get("msg", "") or "corrupt" in line.get("msg", "")]
    assert len(warnings) >= 3, [line.get("msg") for line in b.logs()]
    assert all(line.get("level") in ("warning", "warn") for line in warnings), warnings
