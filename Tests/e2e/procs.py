"""Stopping the processes the tests start: SIGTERM first, SIGKILL only after a grace period."""

from __future__ import annotations

import signal
import subprocess
from typing import IO


def stop(proc: subprocess.Popen, files: tuple[IO, ...], grace: float) -> tuple[int | None, bool]:
    """Returns (exit code, whether it had to be killed); closes the output files either way."""
    killed = False
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)
            killed = True
    for f in files:
        if not f.closed:
            f.close()
    return proc.returncode, killed
