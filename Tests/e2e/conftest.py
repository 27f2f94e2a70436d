"""Runs the real mix2api binary on loopback for the end-to-end tests.

Fixtures:
    server          session-wide server: mock driver streaming for real (delta_delay_ms 2),
                    mock-stall silent for 1.5 s, keep-alive every 300 ms
    start_server    factory for servers with their own plugins.json / environment (stopped at teardown)
    run_to_exit     starts a server that is expected to refuse to start; returns (code, stdout, stderr)

Environment: MIX2API_BIN (default .build/debug/mix2api), MIX2API_BUILD_DIR (default .build/debug,
where libMockUpstream.so is looked up).
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import time
import warnings
from pathlib import Path
from typing import Any

import pytest

import procs
from redis_server import RedisServer
from sim import SiteSim

REPO = Path(__file__).resolve().parents[2]
BUILD_DIR = Path(os.environ.get("MIX2API_BUILD_DIR") or REPO / ".build" / "debug").resolve()
BIN = Path(os.environ.get("MIX2API_BIN") or BUILD_DIR / "mix2api").resolve()
MOCK_SO = BUILD_DIR / "libMockUpstream.so"
START_TIMEOUT_S = 20.0
LISTENING = re.compile(r"mix2api listening on ([0-9.]+|\[[0-9a-f:]+\]|[a-z.]+):(\d+)")

# What the session-wide server's mock is configured with (tests assert on these numbers).
DEFAULT_MOCK_CONFIG = {"delta_delay_ms": 2, "stall_ms": 1500, "slow_first_ms": 1000, "long_deltas": 500}
DEFAULT_ENV = {"MIX2API_KEEPALIVE_MS": "300"}

# Settings the host (or a plugins.json placeholder) reads: never inherited from the caller's shell.
_SCRUB_PREFIXES = ("MIX2API_", "INBOUND_", "UPSTREAM_", "MOCK_", "LOG_", "SESSION_", "REDIS_", "MODEL_", "TOKEN_BUDGET_")
_SCRUB_NAMES = {"PORT", "BODY_SIZE_LIMIT", "MODEL_LIST"}


def mock_plugins(config: dict | None = None, *, routes: list | None = None, default_driver: str | None = "mock",
                 path: str | None = None) -> dict:
    """A plugins.json document with one driver, `mock`."""
    doc: dict[str, Any] = {
        "drivers": {"mock": {"path": path or str(MOCK_SO), "config": dict(DEFAULT_MOCK_CONFIG if config is None else config)}},
        "routes": [{"prefix": "mock", "driver": "mock"}] if routes is None else routes,
    }
    if default_driver is not None:
        doc["default_driver"] = default_driver
    return doc


def _child_env(overrides: dict[str, str] | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not (k.startswith(_SCRUB_PREFIXES) or k in _SCRUB_NAMES)}
    env["PORT"] = "0"
    env["MIX2API_HOST"] = "127.0.0.1"
    env["MIX2API_ENV_FILE"] = ""  # no .env from anywhere
    env.update(DEFAULT_ENV)
    env.update(overrides or {})
    return env


class Server:
    """One running mix2api process; stdout/stderr go to files so logs can be read at any time."""

    def __init__(self, workdir: Path, plugins: dict | str, env: dict[str, str] | None = None, cpus: set[int] | None = None):
        self.workdir = workdir
        workdir.mkdir(parents=True, exist_ok=True)
        self.plugins_path = workdir / "plugins.json"
        self.plugins_path.write_text(plugins if isinstance(plugins, str) else json.dumps(plugins, indent=2))
        self.stdout_path = workdir / "stdout.log"
        self.stderr_path = workdir / "stderr.log"
        child_env = _child_env({"MIX2API_PLUGINS": str(self.plugins_path), **(env or {})})
        self._out = open(self.stdout_path, "wb")
        self._err = open(self.stderr_path, "wb")
        # `cpus`: the CPU affinity the process starts with, as `taskset` would give it.
        pin = (lambda: os.sched_setaffinity(0, cpus)) if cpus is not None else None
        self.proc = subprocess.Popen([str(BIN)], cwd=workdir, env=child_env, stdin=subprocess.DEVNULL,
                                     stdout=self._out, stderr=self._err, preexec_fn=pin)
        self.port: int | None = None
        self._log_offset = 0
        self._log_buffer = b""
        self._logs: list[dict] = []

    # -- start and stop ------------------------------------------------------------------------

    def wait_listening(self, timeout: float = START_TIMEOUT_S) -> "Server":
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            m = LISTENING.search(self.stdout())
            if m:
                self.port = int(m.group(2))
                return self
            if self.proc.poll() is not None:
                break
            time.sleep(0.02)
        code = self.proc.poll()
        self.stop()
        pytest.fail(f"mix2api did not start listening within {timeout} s (exit code {code})\n"
                    f"--- plugins.json\n{self.plugins_path.read_text()}\n"
                    f"--- stdout\n{self.stdout()[-4000:]}\n--- stderr\n{self.stderr()[-4000:]}")

    def wait_exit(self, timeout: float) -> int:
        try:
            return self.proc.wait(timeout=timeout)
        finally:
            self._close_files()

    def stop(self, grace: float = 10.0) -> int | None:
        """SIGTERM, then SIGKILL after `grace` seconds. Returns the exit code."""
        code, killed = procs.stop(self.proc, (self._out, self._err), grace)
        if killed:
            warnings.warn(f"mix2api (pid {self.pid}) did not exit within {grace} s of SIGTERM and was killed; "
                          f"stdout tail: {self.stdout()[-1000:]}")
        return code

    def _close_files(self) -> None:
        for f in (self._out, self._err):
            if not f.closed:
                f.close()

    # -- addresses -----------------------------------------------------------------------------

    @property
    def pid(self) -> int:
        return self.proc.pid

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # -- output and logs -----------------------------------------------------------------------

    def stdout(self) -> str:
        return self.stdout_path.read_bytes().decode("utf-8", "replace")

    def stderr(self) -> str:
        return self.stderr_path.read_bytes().decode("utf-8", "replace")

    def logs(self) -> list[dict]:
        """Every JSON log line written so far (read incrementally)."""
        with open(self.stdout_path, "rb") as f:
            f.seek(self._log_offset)
            data = f.read()
        self._log_offset += len(data)
        self._log_buffer += data
        *complete, self._log_buffer = self._log_buffer.split(b"\n")
        for line in complete:
            line = line.strip()
            if line.startswith(b"{"):
                try:
                    self._logs.append(json.loads(line))
                except json.JSONDecodeError:
                    self._logs.append({"msg": "(unparsable log line)", "raw": line.decode("utf-8", "replace")})
        return self._logs

    def access_lines(self, request_id: str | None = None) -> list[dict]:
        return [l for l in self.logs() if l.get("msg") == "access" and (request_id is None or l.get("request_id") == request_id)]

    def access(self, request_id: str, timeout: float = 5.0) -> dict:
        """The one access line of a request, waiting up to `timeout` s for it to be written."""
        deadline = time.monotonic() + timeout
        while True:
            lines = self.access_lines(request_id)
            if lines:
                assert len(lines) == 1, f"more than one access line for {request_id}: {lines}"
                return lines[0]
            if time.monotonic() >= deadline:
                raise AssertionError(f"no access line for request {request_id} within {timeout} s; "
                                     f"last log lines: {self.logs()[-5:]}")
            time.sleep(0.01)

    def rss_kb(self) -> int:
        status = Path(f"/proc/{self.pid}/status").read_text()
        m = re.search(r"^VmRSS:\s+(\d+) kB", status, re.M)
        assert m, status
        return int(m.group(1))


@pytest.fixture(scope="session", autouse=True)
def _binaries_exist():
    missing = [str(p) for p in (BIN, MOCK_SO) if not p.exists()]
    if missing:
        pytest.exit(f"missing build products {missing}: run `swift build` first (or set MIX2API_BIN / MIX2API_BUILD_DIR)", returncode=3)


@pytest.fixture(scope="session")
def server(tmp_path_factory):
    """The default server: mock driver for every model, keep-alive every 300 ms."""
    s = Server(tmp_path_factory.mktemp("mix2api-default"), mock_plugins())
    s.wait_listening()
    yield s
    s.stop()


@pytest.fixture
def start_server(tmp_path):
    """start_server(plugins=None, env=None, cpus=None) → a listening Server; all are stopped at teardown."""
    started: list[Server] = []

    def start(plugins: dict | str | None = None, env: dict[str, str] | None = None, cpus: set[int] | None = None) -> Server:
        s = Server(tmp_path / f"server{len(started)}", mock_plugins() if plugins is None else plugins, env, cpus)
        started.append(s)
        return s.wait_listening()

    yield start
    for s in started:
        s.stop()


@pytest.fixture
def run_to_exit(tmp_path):
    """run_to_exit(plugins, env=None, timeout=20) → (exit code, stdout, stderr, plugins path) of a
    server that must refuse to start."""
    started: list[Server] = []

    def run(plugins: dict | str, env: dict[str, str] | None = None, timeout: float = START_TIMEOUT_S):
        s = Server(tmp_path / f"broken{len(started)}", plugins, env)
        started.append(s)
        try:
            code = s.wait_exit(timeout)
        except subprocess.TimeoutExpired:
            s.stop()
            pytest.fail(f"mix2api kept running with a broken plugins.json:\n{s.plugins_path.read_text()}\n"
                        f"--- stdout\n{s.stdout()[-2000:]}")
        return code, s.stdout(), s.stderr(), str(s.plugins_path)

    yield run
    for s in started:
        s.stop()


@pytest.fixture
def start_sim(tmp_path):
    """start_sim(*args) -> a listening site-sim with its own options; stopped at teardown."""
    started: list[SiteSim] = []

    def start(*args: str) -> SiteSim:
        s = SiteSim(tmp_path / f"sim{len(started)}", *args)
        started.append(s)
        return s.wait_listening()

    yield start
    for s in started:
        s.stop()


@pytest.fixture
def redis_server(tmp_path):
    """A real redis-server on a free port, killed at teardown."""
    r = RedisServer(tmp_path / "redis")
    yield r
    r.kill()
