"""Planted secrets (the inbound key, site tokens, a login password, a cookie) never appear in
mix2api's logs (with header and body debug logging on), in /metrics, in trace files or in error
bodies, after traffic through the site driver and site-sim that includes failures."""

from __future__ import annotations

import json
from pathlib import Path

import httpx

import wire
from conftest import BUILD_DIR
from prom import scrape

SITE_SO = BUILD_DIR / "libSelfHostedSite.so"
INBOUND_KEY = "pl4nted-inbound-KEY-5f2a91"
PASSWORD = "pl4nted-Passw0rd-77c1"
WRONG_PASSWORD = "pl4nted-WRONG-pw-0d3e"
STATIC_TOKEN = "pl4nted-site-TOKEN-b81c"
COOKIE = "pl4nted-cookie-9e0f"
DEBUG_ENV = {"MIX2API_LOG_LEVEL": "debug", "LOG_HEADERS": "true", "LOG_BODIES": "true", "MIX2API_TRACE_SAMPLE_PERCENT": "100"}


def site(sim, **config) -> dict:
    base = {"base_url": sim.base_url, "retry_count": 0, "timeout_ms": 5000, "idle_timeout_ms": 5000, "auth_recovery_retry": 1}
    return {"drivers": {"site": {"path": str(SITE_SO), "config": {**base, **config}}}, "default_driver": "site"}


def login_body(password: str) -> str:
    return json.dumps({"username": "admin", "password": password})


class Traffic:
    """Sends requests and keeps every error body (HTTP errors and mid-stream error chunks)."""

    def __init__(self, server, key: str = INBOUND_KEY):
        self.server = server
        self.key = key
        self.error_bodies: list[bytes] = []
        self.statuses: list[int] = []

    def ask(self, content: str, *, stream: bool = True, key: str | None = None, extra_headers: dict | None = None) -> wire.Reply:
        headers = {"Authorization": f"Bearer {key or self.key}", "Cookie": f"session={COOKIE}; theme=dark", "X-Api-Key": key or self.key,
                   **(extra_headers or {})}
        body = {"model": "mix/qwen-3-235b-instruct", "stream": stream, "messages": [{"role": "user", "content": content}],
                "metadata": {"password": PASSWORD, "note": f"api_key={INBOUND_KEY}"}}
        r = wire.chat(self.server, body, headers=headers)
        self.statuses.append(r.status)
        if r.status != 200 or b'data: {"error"' in r.body:
            self.error_bodies.append(r.body)
        return r

    def run(self):
        self.ask("hello there")
        self.ask("hello again", stream=False)
        for fault in ("http-401", "http-403", "http-500", "http-502-html", "error-chunk", "disconnect", "garbage", "http-429"):
            self.ask(f"please [[fault:{fault}]]")
        self.ask("wrong key", key="not-the-key-" + INBOUND_KEY[::-1])
        self.ask("[[fault:http-500]]", stream=False)
        bad = wire.request("POST", f"{self.server.base_url}/v1/chat/completions",
                           body='{"model": "m", "password": "' + PASSWORD + '", "messages": [', headers={"Authorization": f"Bearer {self.key}"})
        self.statuses.append(bad.status)
        self.error_bodies.append(bad.body)


def everything_written(server, traces: Path) -> dict[str, str]:
    files = {f"trace {p.name}": p.read_text() for p in sorted(traces.glob("*.trace.json"))}
    return {"stdout": server.stdout(), "stderr": server.stderr(), "metrics": scrape(server).text, **files}


def assert_nowhere(secrets: list[str], places: dict[str, str]):
    for secret in secrets:
        for where, text in places.items():
            assert secret not in text, f"{secret!r} leaked into {where}: …{text[max(0, text.find(secret) - 200):text.find(secret) + 100]}…"


def test_no_planted_secret_survives_traffic_with_failures(start_sim, start_server, tmp_path):
    sim = start_sim("--password", PASSWORD, "--static-token", STATIC_TOKEN)
    servers = []
    for name, plugins, key in [
        ("managed", site(sim, auth_mode="managed", token_body_json=login_body(PASSWORD)), INBOUND_KEY),
        ("static", site(sim, auth_mode="static", token=STATIC_TOKEN), INBOUND_KEY),
        ("wrong-password", site(sim, auth_mode="managed", token_body_json=login_body(WRONG_PASSWORD)), INBOUND_KEY),
        ("pass-through", site(sim, auth_mode="pass_through"), STATIC_TOKEN),
    ]:
        traces = tmp_path / f"traces-{name}"
        server = start_server(plugins, env={**DEBUG_ENV, "INBOUND_BEARER_TOKEN": key, "MIX2API_TRACE_DIR": str(traces)})
        traffic = Traffic(server, key)
        traffic.run()
        servers.append((name, server, traffic, traces))

    issued = {r["_authorization"].split(" ", 1)[1] for r in sim.stats()["requests"] if r.get("_authorization", "").startswith("Bearer ")}
    managed_tokens = issued - {STATIC_TOKEN}
    assert managed_tokens, "the managed login issued a token the site saw"
    secrets = [INBOUND_KEY, PASSWORD, WRONG_PASSWORD, STATIC_TOKEN, COOKIE, *managed_tokens]

    for name, server, traffic, traces in servers:
        # The traffic did what it was meant to: answers, failures, debug lines, traces.
        reasons = {l["end_reason"] for l in server.access_lines()}
        assert {"auth_error", "invalid_request"} <= reasons, (name, reasons)
        assert reasons & {"upstream_error", "upstream_auth_error", "rate_limited"}, (name, reasons)
        if name != "wrong-password":
            assert "ok" in reasons, (name, reasons)
        assert any(l.get("msg") == "request headers" for l in server.logs()), "LOG_HEADERS debug lines were written"
        assert any(l.get("msg") == "request body" for l in server.logs()), "LOG_BODIES debug lines were written"
        assert len(list(traces.glob("*.trace.json"))) >= len(traffic.statuses) - 1, "every request was traced (100%)"
        assert traffic.error_bodies, name

        places = everything_written(server, traces)
        places.update({f"error body {i}": b.decode("utf-8", "replace") for i, b in enumerate(traffic.error_bodies)})
        assert_nowhere(secrets, places)
        # Redaction left its mark where the secrets were: the header log and the traced bodies.
        assert "<redacted>" in places["stdout"]
        assert any("<redacted>" in text for where, text in places.items() if where.startswith("trace "))

