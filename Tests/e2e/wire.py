"""Plain HTTP to the server under test: raw bytes in, raw bytes out (httpx, no proxies)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import httpx

_client = httpx.Client(trust_env=False, timeout=httpx.Timeout(30.0))


@dataclass
class Reply:
    status: int
    headers: httpx.Headers
    body: bytes

    @property
    def request_id(self) -> str | None:
        return self.headers.get("x-request-id")

    def json(self) -> Any:
        return json.loads(self.body)


def request(method: str, url: str, *, body: Any = None, headers: dict[str, str] | None = None) -> Reply:
    """Sends `body` (a dict/list as JSON, or str/bytes verbatim) and reads the whole raw body."""
    hdrs = {"Content-Type": "application/json", **(headers or {})} if body is not None else dict(headers or {})
    if body is None or isinstance(body, bytes):
        content = body
    elif isinstance(body, str):
        content = body.encode()
    else:
        content = json.dumps(body, ensure_ascii=False).encode()
    with _client.stream(method, url, content=content, headers=hdrs) as r:
        raw = b"".join(r.iter_raw())  # transfer-decoded only: exactly the SSE/JSON bytes sent
        return Reply(r.status_code, r.headers, raw)


def chat(server, body: Any, headers: dict[str, str] | None = None) -> Reply:
    return request("POST", f"{server.base_url}/v1/chat/completions", body=body, headers=headers)


def get(server, path: str, headers: dict[str, str] | None = None) -> Reply:
    return request("GET", f"{server.base_url}{path}", headers=headers)


def user(text: str = "hi") -> list[dict]:
    return [{"role": "user", "content": text}]
