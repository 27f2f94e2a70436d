"""Runs `site-sim` (the stand-in for the self-hosted chat site) and reads what it streams.

    SiteSim(workdir, *args)   one simulator process on 127.0.0.1, port picked by the OS
    parse_sse(raw)            SSE bytes -> list of event data strings (comments skipped, any line end)
    frames(events)            the JSON chunks among them (unparsable data is skipped, as a reader must)
    login / chat_body / post  small request helpers

Environment: SITE_SIM_BIN (default .build/debug/site-sim).
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import httpx

import procs

REPO = Path(__file__).resolve().parents[2]
SIM_BIN = Path(os.environ.get("SITE_SIM_BIN") or REPO / ".build" / "debug" / "site-sim").resolve()
LISTENING = re.compile(r"^site-sim listening on ([0-9.]+):(\d+)$")
START_TIMEOUT_S = 20.0

_client = httpx.Client(trust_env=False, timeout=httpx.Timeout(30.0))


class SiteSim:
    """One running site-sim; stdout/stderr go to files so a failure can show them."""

    def __init__(self, workdir: Path, *args: str):
        workdir.mkdir(parents=True, exist_ok=True)
        self.args = ["--host", "127.0.0.1", "--port", "0", *args]
        self.stdout_path = workdir / "site-sim.stdout"
        self.stderr_path = workdir / "site-sim.stderr"
        self._out = open(self.stdout_path, "wb")
        self._err = open(self.stderr_path, "wb")
        self.proc = subprocess.Popen([str(SIM_BIN), *self.args], stdin=subprocess.DEVNULL, stdout=self._out, stderr=self._err)
        self.port: int | None = None

    def wait_listening(self, timeout: float = START_TIMEOUT_S) -> "SiteSim":
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            first = self.stdout().split("\n", 1)[0]
            m = LISTENING.match(first)
            if m and "\n" in self.stdout():
                self.port = int(m.group(2))
                return self
            if self.proc.poll() is not None:
                break
            time.sleep(0.02)
        code = self.proc.poll()
        self.stop()
        raise RuntimeError(f"site-sim {self.args} did not start within {timeout} s (exit code {code})\n"
                           f"--- stdout\n{self.stdout()[-2000:]}\n--- stderr\n{self.stderr()[-2000:]}")

    def stop(self, grace: float = 5.0) -> int | None:
        return procs.stop(self.proc, (self._out, self._err), grace)[0]

    def stdout(self) -> str:
        return self.stdout_path.read_bytes().decode("utf-8", "replace")

    def stderr(self) -> str:
        return self.stderr_path.read_bytes().decode("utf-8", "replace")

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # -- requests ------------------------------------------------------------------------------

    def stats(self) -> dict:
        return _client.get(f"{self.base_url}/sim/stats").json()

    def reset(self) -> None:
        assert _client.post(f"{self.base_url}/sim/reset").status_code == 200

    def expire_tokens(self) -> None:
        assert _client.post(f"{self.base_url}/sim/expire-tokens").status_code == 200

    def login(self, username: str = "admin", password: str = "secret", path: str = "/v2/token", **extra: Any) -> httpx.Response:
        return _client.post(f"{self.base_url}{path}", json={"username": username, "password": password, **extra})

    def token(self) -> str:
        r = self.login()
        assert r.status_code == 200, r.text
        return r.json()["access_token"]


class Streamed:
    """A response read to the end (or to where the connection broke)."""

    def __init__(self, status: int, headers: httpx.Headers, raw: bytes, pieces: list[bytes], broken: Exception | None,
                 first_byte_s: float | None, arrivals: list[tuple[float, bytes]]):
        self.status = status
        self.headers = headers
        self.raw = raw
        self.pieces = pieces
        self.broken = broken
        self.first_byte_s = first_byte_s
        self.arrivals = arrivals

    @property
    def events(self) -> list[str]:
        return parse_sse(self.raw)

    @property
    def frames(self) -> list[dict]:
        return frames(self.events)

    @property
    def types(self) -> list[str]:
        return [f.get("type") for f in self.frames]

    def text(self) -> str:
        return "".join(f["delta"] for f in self.frames if f.get("type") == "text-delta")

    def json(self) -> Any:
        return json.loads(self.raw)


def post(sim: SiteSim, path: str, body: Any, token: str | None = None, headers: dict[str, str] | None = None) -> Streamed:
    """POSTs `body` (dict as JSON, bytes verbatim) and reads the raw body piece by piece, keeping
    what arrived before a broken connection."""
    hdrs = {"Content-Type": "application/json", "Accept": "text/event-stream", **(headers or {})}
    if token is not None:
        hdrs["Authorization"] = f"Bearer {token}"
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    pieces: list[bytes] = []
    arrivals: list[tuple[float, bytes]] = []
    broken: Exception | None = None
    start = time.monotonic()
    with _client.stream("POST", f"{sim.base_url}{path}", content=content, headers=hdrs) as r:
        try:
            for piece in r.iter_raw():
                pieces.append(piece)
                arrivals.append((time.monotonic() - start, piece))
        except (httpx.RemoteProtocolError, httpx.ReadError) as e:
            broken = e
        first = arrivals[0][0] if arrivals else None
        return Streamed(r.status_code, r.headers, b"".join(pieces), pieces, broken, first, arrivals)


def chat_body(query: str, *, session_id: str | None = None, stream: bool | None = True, model: str = "qwen-3-235b-instruct",
              **extra: Any) -> dict:
    body: dict[str, Any] = {
        "request": {"agent_slug": "web-general", "model_slug": model, "locale": {"location": "Asia/Shanghai", "language": "zh-CN"},
                    "modes": {"search": True}, "query": query},
        "is_personalized": True,
        "messages": [{"role": "user", "content": query}],
        **extra,
    }
    if stream is not None:
        body["stream"] = stream
    if session_id is not None:
        body["session_id"] = session_id
    return body


def parse_sse(raw: bytes) -> list[str]:
    """Event data per the SSE rules: CRLF, LF or CR line ends; `:` comments; multi-line data joined
    with LF; a trailing event without its blank line is dropped (it was never dispatched)."""
    text = raw.decode("utf-8")
    events: list[str] = []
    data: list[str] | None = None
    for line in re.split(r"\r\n|\r|\n", text)[:-1] if text else []:
        if line == "":
            if data is not None:
                events.append("\n".join(data))
            data = None
        elif line.startswith(":"):
            continue
        else:
            field, _, value = line.partition(":")
            if value.startswith(" "):
                value = value[1:]
            if field == "data":
                data = (data or []) + [value]
    return events


def frames(events: list[str]) -> list[dict]:
    """The JSON objects among event data (`[DONE]` and broken JSON skipped)."""
    out = []
    for e in events:
        try:
            value = json.loads(e)
        except json.JSONDecodeError:
            continue
        if isinstance(value, dict):
            out.append(value)
    return out
