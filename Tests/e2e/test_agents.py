"""Real agent code through mix2api's emulated tool calling (/work/shared/docs/tool-protocol.md).

    - the OpenAI Agents SDK runs an agent whose task needs two function tools in sequence, once
      with the mock driver (`mock-tool-chain`) and once with the site driver against site-sim
      (whose simulated model follows the protocol the same way), streamed and not;
    - the official `openai` SDK's streaming helper accumulates two parallel tool calls;
    - text before a call streams live, in pieces, and never shares a chunk with the call.

Every tool-bearing response is also checked byte for byte against the client contract
(contract.check_stream / check_completion): the SDKs' HTTP clients record what they received.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass

import httpx
import openai
import pytest
from agents import Agent, OpenAIChatCompletionsModel, Runner, function_tool, set_tracing_disabled

import contract
from conftest import mock_plugins
from sim import SiteSim
from test_site_driver import site_plugins

set_tracing_disabled(True)  # no export to api.openai.com from a test

TASK = "Alice wants her code looked up, then saved as a note."


# -- recording what the SDKs received ---------------------------------------------------------------

@dataclass
class Recorded:
    request: dict
    status: int
    headers: httpx.Headers
    body: bytes  # transfer-decoded only: the exact SSE / JSON bytes the server sent

    @property
    def streamed(self) -> bool:
        return bool(self.request.get("stream"))

    def check(self):
        """The contract checker for this response: a StreamResult or a CompletionResult."""
        if self.streamed:
            return contract.check_stream(self.status, self.headers, self.body)
        return contract.check_completion(self.status, self.headers, self.body)

    @property
    def request_id(self) -> str:
        return self.headers["x-request-id"]


def _recorded(request: httpx.Request, response: httpx.Response, raw: bytes, into: list[Recorded]) -> httpx.Response:
    if request.url.path.endswith("/chat/completions"):
        into.append(Recorded(json.loads(request.content), response.status_code, response.headers, raw))
    # The whole body was read here; the SDK gets the same bytes and headers.
    return httpx.Response(response.status_code, headers=response.headers, content=raw, request=request)


class AsyncRecorder(httpx.AsyncBaseTransport):
    def __init__(self):
        self.inner = httpx.AsyncHTTPTransport()
        self.replies: list[Recorded] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        try:
            raw = b"".join([piece async for piece in response.aiter_raw()])
        finally:
            await response.aclose()
        return _recorded(request, response, raw, self.replies)

    async def aclose(self) -> None:
        await self.inner.aclose()


class Recorder(httpx.BaseTransport):
    def __init__(self):
        self.inner = httpx.HTTPTransport()
        self.replies: list[Recorded] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self.inner.handle_request(request)
        try:
            raw = b"".join(response.iter_raw())
        finally:
            response.close()
        return _recorded(request, response, raw, self.replies)

    def close(self) -> None:
        self.inner.close()


# -- the Agents SDK: a task that needs two tools in turn ---------------------------------------------

@dataclass
class AgentRun:
    final_output: str
    calls: list[tuple[str, str]]
    replies: list[Recorded]


def run_agent(base_url: str, model: str, *, stream: bool) -> AgentRun:
    calls: list[tuple[str, str]] = []

    @function_tool
    def lookup_code(name: str) -> str:
        """Look up the code of a person."""
        calls.append(("lookup_code", name))
        return f"CODE-{name}"

    @function_tool
    def save_note(text: str) -> str:
        """Save a note."""
        calls.append(("save_note", text))
        return f"saved:{text}"

    async def main() -> AgentRun:
        recorder = AsyncRecorder()
        client = openai.AsyncOpenAI(base_url=f"{base_url}/v1", api_key="x", max_retries=0, timeout=30,
                                    http_client=httpx.AsyncClient(transport=recorder, trust_env=False))
        agent = Agent(name="notes", instructions="Look the code up first, then save it as a note.",
                      model=OpenAIChatCompletionsModel(model=model, openai_client=client), tools=[lookup_code, save_note])
        try:
            if stream:
                result = Runner.run_streamed(agent, TASK, max_turns=5)
                async for _ in result.stream_events():
                    pass
            else:
                result = await Runner.run(agent, TASK, max_turns=5)
        finally:
            await client.close()
        return AgentRun(str(result.final_output), calls, recorder.replies)

    return asyncio.run(main())


def check_two_step_run(run: AgentRun, server) -> list[dict]:
    """Both tools ran in order, the answer quotes both results, and mix2api saw three exchanges
    that each closed the previous one's calls. Returns the three access lines."""
    assert [name for name, _ in run.calls] == ["lookup_code", "save_note"], run.calls
    (_, name), (_, text) = run.calls
    assert f"CODE-{name}" in run.final_output and f"saved:{text}" in run.final_output, run.final_output
    assert run.final_output.startswith("All 2 steps are done."), run.final_output

    assert len(run.replies) == 3, [r.request.get("messages") for r in run.replies]
    checked = [r.check() for r in run.replies]  # every response obeys the client contract
    assert [[c.name if hasattr(c, "name") else c["function"]["name"] for c in r.tool_calls] for r in checked] == [
        ["lookup_code"], ["save_note"], []]
    assert [r.finish_reason for r in checked] == ["tool_calls", "tool_calls", "stop"]

    logs = [server.access(r.request_id) for r in run.replies]
    for log in logs:
        assert (log["end_reason"], log["http_status"], log["tools_present"]) == ("ok", 200, True), log
        assert log["stream"] == run.replies[0].streamed, log
    assert [log["tool_calls"] for log in logs] == [1, 1, 0], logs
    ids = [log.get("tool_call_ids", []) for log in logs]
    assert len(ids[0]) == 1 and len(ids[1]) == 1 and ids[0] != ids[1], logs
    # The ids the client got are the ids it sent back, and the ones the access log names.
    sent = [[c.id if hasattr(c, "id") else c["id"] for c in r.tool_calls] for r in checked[:2]]
    assert sent == ids[:2], (sent, ids)
    assert "tool_result_ids" not in logs[0], logs[0]
    assert logs[1]["tool_result_ids"] == ids[0], logs[1]
    assert logs[2]["tool_result_ids"] == ids[0] + ids[1], logs[2]
    assert [log["tool_results"] for log in logs] == [0, 1, 2], logs
    return logs


@pytest.mark.parametrize("stream", [False, True], ids=["non-stream", "stream"])
def test_agents_sdk_two_tool_chain_with_the_mock_driver(start_server, stream):
    server = start_server(mock_plugins())
    run = run_agent(server.base_url, "mock-tool-chain", stream=stream)
    assert all(r.streamed == stream for r in run.replies)
    check_two_step_run(run, server)
    # The mock fills a string parameter named neither path, command nor query with "example".
    assert run.calls == [("lookup_code", "example"), ("save_note", "example")]
    assert run.final_output == "All 2 steps are done. Results: CODE-example | saved:example"


@pytest.mark.parametrize("stream", [False, True], ids=["non-stream", "stream"])
def test_agents_sdk_two_tool_chain_with_the_site_driver(start_sim, start_server, stream):
    sim: SiteSim = start_sim()
    server = start_server(site_plugins(sim))
    run = run_agent(server.base_url, "mix/qwen-3-235b-instruct", stream=stream)
    assert all(r.streamed == stream for r in run.replies)
    check_two_step_run(run, server)
    # The simulated model fills strings with the user's first word.
    assert run.calls == [("lookup_code", "Alice"), ("save_note", "Alice")]
    assert run.final_output == "All 2 steps are done. Results: CODE-Alice | saved:Alice"

    stats = sim.stats()
    assert stats["logins"] == 1
    sent = [r for r in stats["requests"] if "request" in r]
    assert len(sent) == 3
    assert "session_id" not in sent[0], "a first turn never sends a session id"
    assert "## Available tools" in sent[0]["request"]["query"] and TASK in sent[0]["request"]["query"]
    session = sent[1].get("session_id")
    assert session and sent[2].get("session_id") == session, [r.get("session_id") for r in sent]
    assert stats["sessions"] == {session: 3}
    # A continued turn carries only the new tool result; the site remembers the rest.
    for request, (name, result) in zip(sent[1:], [("lookup_code", "CODE-Alice"), ("save_note", "saved:Alice")]):
        query = request["request"]["query"]
        assert query.startswith(f'<tool_result name="{name}" id="call_') and result in query, query
        assert "## Available tools" not in query and TASK not in query, query


# -- the openai SDK's streaming helper --------------------------------------------------------------

PARALLEL_TOOLS = [
    {"type": "function", "function": {"name": "get_weather", "description": "Weather in a city.",
                                      "parameters": {"type": "object", "required": ["city"],
                                                     "properties": {"city": {"type": "string"}, "days": {"type": "integer"}}}}},
    {"type": "function", "function": {"name": "get_time", "description": "Time in a zone.",
                                      "parameters": {"type": "object", "required": ["timezone", "hour24"],
                                                     "properties": {"timezone": {"type": "string"}, "hour24": {"type": "boolean"}}}}},
]
PARALLEL_MESSAGES = [{"role": "user", "content": "What is the weather and the time in Paris?"}]


@pytest.fixture
def sync_client(server):
    recorder = Recorder()
    client = openai.OpenAI(base_url=f"{server.base_url}/v1", api_key="any-key", max_retries=0, timeout=30,
                           http_client=httpx.Client(transport=recorder, trust_env=False))
    yield client, recorder
    client.close()


def test_openai_stream_helper_accumulates_parallel_tool_calls(sync_client, server):
    client, recorder = sync_client
    helper = getattr(client.chat.completions, "stream", None) or client.beta.chat.completions.stream
    with helper(model="mock-tool-parallel", messages=PARALLEL_MESSAGES, tools=PARALLEL_TOOLS) as stream:
        events = [e.type for e in stream]
        final = stream.get_final_completion()
    choice = final.choices[0]
    assert choice.finish_reason == "tool_calls"
    calls = choice.message.tool_calls
    assert [c.function.name for c in calls] == ["get_weather", "get_time"]
    arguments = [json.loads(c.function.arguments) for c in calls]
    assert all(isinstance(a, dict) for a in arguments), arguments
    assert isinstance(arguments[0]["city"], str) and arguments[0]["city"]
    assert isinstance(arguments[1]["timezone"], str) and isinstance(arguments[1]["hour24"], bool)
    assert len({c.id for c in calls}) == 2
    assert "tool_calls.function.arguments.done" in events
    assert "<tool_calls>" not in (choice.message.content or "") and "<invoke" not in (choice.message.content or "")

    # The same bytes, checked against the contract: what the helper accumulated is what was sent.
    (reply,) = recorder.replies
    streamed = reply.check()
    assert [(c.id, c.name, json.loads(c.arguments)) for c in streamed.tool_calls] == [
        (c.id, c.function.name, a) for c, a in zip(calls, arguments)]
    assert streamed.finish_reason == "tool_calls"
    log = server.access(reply.request_id)
    assert (log["tool_calls"], log["end_reason"], log["client"]) == (2, "ok", "openai-sdk"), log
    assert log["tool_call_ids"] == [c.id for c in calls], log

    # Not streamed: the same two calls in one completion.
    raw = client.chat.completions.with_raw_response.create(model="mock-tool-parallel", messages=PARALLEL_MESSAGES, tools=PARALLEL_TOOLS)
    completion = recorder.replies[-1].check()
    assert completion.finish_reason == "tool_calls" and raw.parse().choices[0].finish_reason == "tool_calls"
    assert [(c["function"]["name"], json.loads(c["function"]["arguments"])) for c in completion.tool_calls] == [
        (c.function.name, a) for c, a in zip(calls, arguments)]


# -- live text before a streamed call ------------------------------------------------------------------

def stream_with_arrivals(server, body: dict) -> tuple[httpx.Response, bytes, list[tuple[float, dict]]]:
    """POSTs a streamed chat request; returns the response, the raw body, and each JSON chunk
    stamped with the time (s since the request) its event was complete on the client."""
    chunks: list[tuple[float, dict]] = []
    raw = b""
    buffer = b""
    start = time.monotonic()
    with httpx.Client(trust_env=False, timeout=30) as http:
        with http.stream("POST", f"{server.base_url}/v1/chat/completions", json=body) as r:
            for piece in r.iter_raw():
                now = time.monotonic() - start
                raw += piece
                buffer += piece
                *events, buffer = buffer.split(b"\n\n")
                for event in events:
                    if event.startswith(b"data: {"):
                        chunks.append((now, json.loads(event[len(b"data: "):])))
    return r, raw, chunks


def test_text_before_a_streamed_call_arrives_live_in_pieces(start_server):
    server = start_server(mock_plugins({"delta_delay_ms": 5}))
    tools = [{"type": "function", "function": {"name": "lookup_code", "parameters": {
        "type": "object", "required": ["name"], "properties": {"name": {"type": "string"}}}}}]
    r, raw, chunks = stream_with_arrivals(server, {"model": "mock-tool", "stream": True, "messages": PARALLEL_MESSAGES, "tools": tools})
    result = contract.check_stream(r.status_code, r.headers, raw)
    assert [(c.name, json.loads(c.arguments)) for c in result.tool_calls] == [("lookup_code", {"name": "example"})]
    assert result.finish_reason == "tool_calls"
    assert result.content.startswith("I'll call lookup_code now.") and "<" not in result.content, result.content

    deltas = [(t, c["choices"][0]["delta"]) for t, c in chunks if c.get("choices")]
    content = [(t, d["content"]) for t, d in deltas if d.get("content")]
    calls = [(t, d["tool_calls"]) for t, d in deltas if d.get("tool_calls")]
    both = [d for _, d in deltas if d.get("content") and d.get("tool_calls")]
    assert not both, f"content and tool_calls in one chunk: {both}"
    assert len(content) > 1, f"the text before the call came as one delta (buffered?): {content}"
    assert calls and content[-1][0] <= calls[0][0]
    # The mock sends the ~100-byte block in 7-byte pieces 5 ms apart: text forwarded live reaches
    # the client well before the call can be complete (buffered text would arrive with it).
    assert calls[0][0] - content[0][0] >= 0.03, (content[0][0], calls[0][0])
    log = server.access(r.headers["x-request-id"])
    assert (log["tool_calls"], log["end_reason"], log["stream"]) == (1, "ok", True), log
