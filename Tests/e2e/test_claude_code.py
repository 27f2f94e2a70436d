"""The real Claude Code CLI (the `claude` binary bundled in the claude-agent-sdk wheel) against
mix2api's /v1/messages, headless: it must create a file with the requested content through its
Write tool and then end its turn, once through the mock driver (`mock-write-task`) and once
through the site driver against site-sim, whose simulated model follows the tool protocol the
same way. A last pair of runs stalls the site longer than Claude Code's stream watchdog allows:
without keep-alives Claude Code gives the stream up (the control), with them it completes.

Offline: CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1 and a throwaway HOME keep it off the network
(no telemetry, no update check); its only peer is mix2api on loopback.
"""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

import claude_agent_sdk
import pytest

from conftest import mock_plugins
from sim import SiteSim
from test_site_driver import site_plugins

CLAUDE = Path(claude_agent_sdk.__file__).parent / "_bundled" / "claude"
INBOUND_KEY = "k-claude-code-e2e"
SITE_MODEL = "mix/qwen-3-235b-instruct"


@dataclass
class Run:
    returncode: int
    messages: list[dict]  # the stream-json lines
    stderr: str
    workdir: Path

    @property
    def result(self) -> dict:
        results = [m for m in self.messages if m.get("type") == "result"]
        assert results, f"no result message; exit {self.returncode}; stderr: {self.stderr[-2000:]}"
        return results[-1]

    def tool_uses(self) -> list[dict]:
        return [c for m in self.messages if m.get("type") == "assistant"
                for c in m["message"]["content"] if c.get("type") == "tool_use"]


def run_claude(tmp_path: Path, server, task: str, *, model: str | None = None, env: dict[str, str] | None = None) -> Run:
    assert CLAUDE.exists(), f"the claude-agent-sdk wheel has no bundled CLI at {CLAUDE}: pin a version that ships it"
    home, work = tmp_path / "home", tmp_path / "work"
    home.mkdir()
    work.mkdir()
    child_env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "LANG": "C.UTF-8",
        "HOME": str(home),
        "ANTHROPIC_BASE_URL": server.base_url,
        "ANTHROPIC_API_KEY": INBOUND_KEY,
        "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
        # A failure must show, not be retried away.
        "CLAUDE_CODE_MAX_RETRIES": "0",
        **(env or {}),
    }
    args = [str(CLAUDE), "-p", task.replace("{workdir}", str(work)), "--permission-mode", "acceptEdits",
            "--allowedTools", "Write,Edit,Read", "--output-format", "stream-json", "--verbose"]
    if model:
        args += ["--model", model]
    proc = subprocess.run(args, cwd=work, env=child_env, stdin=subprocess.DEVNULL, capture_output=True, timeout=180)
    lines = [json.loads(l) for l in proc.stdout.decode("utf-8", "replace").splitlines() if l.startswith("{")]
    return Run(proc.returncode, lines, proc.stderr.decode("utf-8", "replace"), work)


def messages_lines(server) -> list[dict]:
    return [l for l in server.access_lines() if l.get("route") in ("messages", "count_tokens")]


def check_completed(run: Run, content: str) -> None:
    """The file holds exactly the requested text, Claude Code called Write once, and its final
    stream-json result is a success."""
    written = run.workdir / "notes" / "hello.txt"
    assert written.exists(), f"no file; result: {run.result}; stderr: {run.stderr[-2000:]}"
    assert written.read_text() == content
    assert [(u["name"], u["input"]) for u in run.tool_uses()] == [("Write", {"file_path": str(written), "content": content})]
    result = run.result
    assert (result["subtype"], result["is_error"]) == ("success", False), result
    assert result["result"].startswith("Done. The tool said: File created successfully"), result["result"]
    assert run.returncode == 0, run.stderr[-2000:]


def check_tool_loop(lines: list[dict], model: str, driver: str) -> None:
    """Exactly two streamed turns of the task's model: the Write call, then the answer to its
    result (the same tool_use id). Side requests Claude Code may add must have succeeded too."""
    loop = [l for l in lines if l["route"] == "messages" and l["model"] == model]
    assert len(loop) == 2, loop
    for l in lines:
        assert (l["end_reason"], l["http_status"], l["client"]) == ("ok", 200, "claude-code"), l
    first, second = loop
    assert (first["stream"], second["stream"]) == (True, True)
    assert (first["driver"], first["tools_present"], first["tool_calls"], first["tool_results"]) == (driver, True, 1, 0), first
    assert (second["tool_calls"], second["tool_results"]) == (0, 1), second
    assert second["tool_result_ids"] == first["tool_call_ids"] and first["tool_call_ids"][0].startswith("toolu_")


def test_claude_code_writes_a_file_through_the_mock_driver(tmp_path, start_server):
    server = start_server(mock_plugins(), env={"INBOUND_BEARER_TOKEN": INBOUND_KEY})
    content = "Hello from Claude Code via mix2api"
    run = run_claude(tmp_path, server, f'Create the file {{workdir}}/notes/hello.txt containing "{content}".', model="mock-write-task")
    check_completed(run, content)
    check_tool_loop(messages_lines(server), "mock-write-task", "mock")


def site_server(start_server, sim: SiteSim, keepalive_ms: int):
    # Claude Code asks for its own model ids (claude-…): MIX2API_MESSAGES_DEFAULT_MODEL serves
    # them as the site's model. The driver's own idle limit outlasts the stalls below.
    return start_server(site_plugins(sim, idle_timeout_ms=30000), env={
        "INBOUND_BEARER_TOKEN": INBOUND_KEY, "MIX2API_MESSAGES_DEFAULT_MODEL": SITE_MODEL, "MIX2API_KEEPALIVE_MS": str(keepalive_ms)})


def check_site_session(sim: SiteSim, content: str) -> None:
    """The site saw the task once, then only the Write result, in the same site session."""
    sent = [r for r in sim.stats()["requests"] if "request" in r]
    assert len(sent) == 2, sent
    assert "session_id" not in sent[0] and content in sent[0]["request"]["query"]
    assert sent[1].get("session_id") and sim.stats()["sessions"] == {sent[1]["session_id"]: 2}
    assert sent[1]["request"]["query"].startswith('<tool_result name="Write" id="toolu_'), sent[1]["request"]["query"][:200]


def test_claude_code_writes_a_file_through_the_site_driver(tmp_path, start_sim, start_server):
    sim = start_sim()
    server = site_server(start_server, sim, keepalive_ms=15000)
    content = "Hello from Claude Code via the site"
    run = run_claude(tmp_path, server, f'Create the file {{workdir}}/notes/hello.txt containing "{content}".')
    check_completed(run, content)
    check_tool_loop(messages_lines(server), SITE_MODEL, "site")
    check_site_session(sim, content)


# Claude Code's byte watchdog gives a stream up after this much silence (10 s is its minimum);
# the site stalls longer than that in the middle of its first answer.
WATCHDOG = {"CLAUDE_ENABLE_BYTE_WATCHDOG": "1", "CLAUDE_BYTE_STREAM_IDLE_TIMEOUT_MS": "10000"}
STALLED_TASK = 'Create the file {workdir}/notes/hello.txt containing "%s". [[fault:stall:14000]]'


def test_without_keepalives_claude_codes_watchdog_gives_up_a_stalled_stream(tmp_path, start_sim, start_server):
    """The control for the next test: the watchdog is real, and a silent stream dies."""
    sim = start_sim()
    server = site_server(start_server, sim, keepalive_ms=60000)
    run = run_claude(tmp_path, server, STALLED_TASK % "never written", env=WATCHDOG)
    assert not (run.workdir / "notes" / "hello.txt").exists()
    assert run.result["is_error"] is True, run.result
    first = messages_lines(server)[0]
    assert (first["stream"], first["end_reason"], first["tool_calls"]) == (True, "client_abort", 0), first


def test_keepalive_pings_carry_claude_code_through_a_stall(tmp_path, start_sim, start_server):
    sim = start_sim()
    server = site_server(start_server, sim, keepalive_ms=1000)
    content = "Hello after a stall"
    run = run_claude(tmp_path, server, STALLED_TASK % content, env=WATCHDOG)
    check_completed(run, content)
    lines = messages_lines(server)
    check_tool_loop(lines, SITE_MODEL, "site")
    assert len(lines) == 2, "no retry and no non-streamed fallback: the stalled stream itself completed"
    check_site_session(sim, content)
