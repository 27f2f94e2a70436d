"""The deployment layout, run for real on loopback (no container engine here): the mix2api binary
with deploy/plugins.production.json, drivers found only through MIX2API_DRIVER_DIR (stable and
canary from different folders, as the compose file mounts them), the compose file's settings
for the mix2api services and the env example's active lines, against site-sim and a real Redis.
The processes run with the kernel's MDWE, which is what the unit's MemoryDenyWriteExecute=yes
turns on, so that hardening option is known not to break the Swift runtime or a driver.
"""

from __future__ import annotations

import ctypes
import shutil
import sys
import uuid
import warnings
from pathlib import Path

import conftest
import contract
import wire
from conftest import BUILD_DIR
from deploy_files import PRODUCTION_PLUGINS, ENV_EXAMPLE, active_env_entries, compose

PR_SET_MDWE, PR_GET_MDWE, PR_MDWE_REFUSE_EXEC_GAIN = 65, 66, 1
SIM_LOGIN = '{"username":"admin","password":"secret"}'


def mdwe_supported() -> bool:
    return ctypes.CDLL(None, use_errno=True).prctl(PR_GET_MDWE, 0, 0, 0, 0) >= 0


def mdwe_launcher(tmp_path: Path) -> Path:
    """An executable that turns MDWE on (kept across exec) and becomes mix2api."""
    launcher = tmp_path / "mix2api-mdwe"
    launcher.write_text(
        f"#!{sys.executable}\n"
        "import ctypes, os, sys\n"
        f"if ctypes.CDLL(None).prctl({PR_SET_MDWE}, {PR_MDWE_REFUSE_EXEC_GAIN}, 0, 0, 0) != 0:\n"
        "    sys.exit('PR_SET_MDWE failed')\n"
        f"os.execv({str(conftest.BIN)!r}, [{str(conftest.BIN)!r}, *sys.argv[1:]])\n")
    launcher.chmod(0o755)
    return launcher


def track_env(track: str, driver_dir: Path, sim, redis) -> dict[str, str]:
    """What the track's container gets, with only the addresses moved to this machine."""
    env = active_env_entries(ENV_EXAMPLE)
    env.update({k: str(v) for k, v in compose()["services"][f"mix2api-{track}"]["environment"].items()})
    assert env["REDIS_URL"].startswith("redis://redis:") and env["UPSTREAM_API_BASE"].startswith("https://")
    env.update({
        "MIX2API_HOST": "127.0.0.1", "PORT": "0", "REDIS_URL": redis.url, "MIX2API_DRIVER_DIR": str(driver_dir),
        "UPSTREAM_API_BASE": sim.base_url, "UPSTREAM_TOKEN_BODY_JSON": SIM_LOGIN,
    })
    return env


def mapped_driver(pid: int) -> set[str]:
    return {line.split()[-1] for line in Path(f"/proc/{pid}/maps").read_text().splitlines() if line.endswith("libSelfHostedSite.so")}


def test_stable_and_canary_serve_from_their_own_driver_folders(tmp_path, monkeypatch, start_sim, start_server, redis_server):
    if mdwe_supported():
        monkeypatch.setattr(conftest, "BIN", mdwe_launcher(tmp_path))
    else:
        warnings.warn("this kernel has no PR_SET_MDWE (Linux < 6.3): MemoryDenyWriteExecute compatibility not checked")
    sim = start_sim()
    folders = {}
    for track in ("stable", "canary"):
        folders[track] = tmp_path / f"{track}-drivers"
        folders[track].mkdir()
        shutil.copy2(BUILD_DIR / "libSelfHostedSite.so", folders[track])
    key = active_env_entries(ENV_EXAMPLE)["INBOUND_BEARER_TOKEN"]
    plugins = PRODUCTION_PLUGINS.read_text()  # bare "libSelfHostedSite.so": found in MIX2API_DRIVER_DIR
    servers = {track: start_server(plugins, track_env(track, folders[track], sim, redis_server)) for track in folders}

    for track, server in servers.items():
        # Each track loaded the driver from its own folder, not from beside the binary.
        assert mapped_driver(server.pid) == {str(folders[track] / "libSelfHostedSite.so")}, track
        health = wire.get(server, "/health")
        assert health.status == 200 and health.json()["status"] == "ok", health.body
        assert [d["name"] for d in health.json()["drivers"]] == ["site"]
        # A request as new-api sends it: the inbound key, its request id; the id comes back in
        # both headers and is the access line's request_id (RUNBOOK "Find a request").
        request_id = f"deploy-{track}-{uuid.uuid4().hex[:8]}"
        reply = wire.chat(server, {"model": "site-model", "stream": True, "messages": [{"role": "user", "content": f"hello {track}"}]},
                          headers={"Authorization": f"Bearer {key}", "X-Request-Id": request_id})
        answer = contract.check_stream(reply.status, reply.headers, reply.body).content
        assert answer, reply.body[:500]
        assert reply.headers["x-request-id"] == request_id and reply.headers["x-oneapi-request-id"] == request_id
        line = server.access(request_id)
        assert line["end_reason"] == "ok" and line["driver"] == "site" and line["http_status"] == 200
        # Without the key: refused (the compose file listens on 0.0.0.0, so the key is required).
        assert wire.chat(server, {"model": "site-model", "messages": [{"role": "user", "content": "hi"}]}).status == 401

    # Both tracks shared the site login through Redis (compose: SESSION_STORE_MODE=redis).
    assert sim.stats()["logins"] == 1
