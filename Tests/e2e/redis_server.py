"""A real redis-server on a free loopback port for the shared-state tests (CI installs it; a
missing binary fails the tests, it does not skip them)."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from pathlib import Path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RedisServer:
    def __init__(self, workdir: Path):
        binary = shutil.which("redis-server") or "/usr/bin/redis-server"
        assert Path(binary).exists(), "redis-server is not installed (apt-get install redis-server)"
        self.binary = binary
        self.cli = shutil.which("redis-cli") or "/usr/bin/redis-cli"
        self.workdir = workdir
        workdir.mkdir(parents=True, exist_ok=True)
        self.port = _free_port()
        self.proc: subprocess.Popen | None = None
        self.start()

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> "RedisServer":
        assert self.proc is None or self.proc.poll() is not None
        self.proc = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--protected-mode", "no", "--dir", str(self.workdir)],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                if self.cmd("PING") == "PONG":
                    return self
            except subprocess.CalledProcessError:
                pass
            time.sleep(0.05)
        raise RuntimeError(f"redis-server did not start on {self.port}")

    def kill(self) -> None:
        """A crash, not a shutdown: SIGKILL."""
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=5)

    def cmd(self, *args: str) -> str:
        out = subprocess.run([self.cli, "-p", str(self.port), *args], capture_output=True, text=True, timeout=10, check=True)
        return out.stdout.strip()

    def keys(self, pattern: str) -> list[str]:
        return [k for k in self.cmd("--scan", "--pattern", pattern).splitlines() if k]

    def ttl_ms(self, key: str) -> int:
        return int(self.cmd("PTTL", key))
