"""deploy/: the compose file, the Dockerfile, the systemd unit and the env example, checked
against the code without a container engine (none runs on the build machines): YAML validity,
every env name they set is one mix2api reads (catches typos), the paths they copy or mount
exist, and they agree with each other on ports, paths, tracks and the shutdown grace.
`systemd-analyze` (Debian package `systemd`) verifies the unit; without it the test fails.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import yaml

from deploy_files import (COMPOSE, DEPLOY, DOCKERFILE, ENV_EXAMPLE, PRODUCTION_PLUGINS, PROMETHEUS, REPO, UNIT,
                          compose, dockerfile_env, dockerfile_stages, env_file_names, host_setting_names,
                          interpolation_default, placeholder_names, required_tool, unit_environment, unit_file)

MIX2API_SERVICES = {"mix2api-stable": "stable", "mix2api-canary": "canary"}


def readable_names() -> set[str]:
    """What a mix2api process reads: the host's settings and the production plugins.json's placeholders."""
    return host_setting_names() | placeholder_names(PRODUCTION_PLUGINS)


def runtime_stage() -> list[tuple[str, str]]:
    stages = dict(dockerfile_stages())
    return stages["runtime"]


def image_env() -> dict[str, str]:
    return dockerfile_env(runtime_stage())


def service_env(name: str) -> dict[str, str]:
    """What the container sees: the image's ENV under the compose `environment:`."""
    env = dict(image_env())
    env.update({k: str(v) for k, v in (compose()["services"][name].get("environment") or {}).items()})
    return env


# -- settings names ---------------------------------------------------------------------------------

def test_every_env_name_the_deploy_files_set_is_read_by_mix2api():
    names = readable_names()
    sources = {
        "docker-compose.yml (mix2api services)": {k for s in MIX2API_SERVICES for k in compose()["services"][s].get("environment") or {}},
        "Dockerfile ENV": set(image_env()),
        "mix2api.env.example": set(env_file_names(ENV_EXAMPLE)),
        "mix2api.service Environment=": set(unit_environment()),
    }
    for where, used in sources.items():
        assert used, f"{where}: no names found"
        unknown = used - names
        assert not unknown, f"{where} sets {sorted(unknown)}, which neither the host (HostConfig.hostNames) nor plugins.production.json reads"


def test_the_env_example_covers_the_operators_names():
    """Every name the production plugins.json hands to the site driver, and the inbound key, is
    in the example (active or commented), so operators see every setting there."""
    listed = set(env_file_names(ENV_EXAMPLE))
    missing = (placeholder_names(PRODUCTION_PLUGINS) | {"INBOUND_BEARER_TOKEN", "REDIS_URL", "SESSION_STORE_MODE"}) - listed
    assert not missing, sorted(missing)
    # No real-looking secret in the example.
    text = ENV_EXAMPLE.read_text()
    assert "change-me" in text and not re.search(r"sk-[A-Za-z0-9]{16,}", text)


# -- compose ----------------------------------------------------------------------------------------

def test_compose_has_new_api_redis_prometheus_and_two_mix2api_tracks():
    services = compose()["services"]
    assert set(services) == {"new-api", "redis", "mix2api-stable", "mix2api-canary", "prometheus"}
    assert services["new-api"]["image"].startswith("${NEW_API_IMAGE:-calciumion/new-api")
    # Only new-api is reachable from outside; mix2api's /metrics has no key.
    for name in ("redis", *MIX2API_SERVICES):
        assert "ports" not in services[name], f"{name} must not publish ports"
    assert all(p.startswith("127.0.0.1:") for p in services["prometheus"]["ports"])
    for name in MIX2API_SERVICES:
        env = service_env(name)
        assert env["SESSION_STORE_MODE"] == "redis" and env["REDIS_URL"].startswith("redis://redis:"), name
        assert services[name]["depends_on"]["redis"]["condition"] == "service_healthy"
        assert services[name]["env_file"] == ["mix2api.env"]
        assert (DEPLOY / "mix2api.env.example").exists()


def test_the_canary_mounts_a_driver_directory_over_the_drivers_and_stable_does_not():
    services = compose()["services"]
    driver_dir = service_env("mix2api-canary")["MIX2API_DRIVER_DIR"]
    mounts = [interpolation_default(v) for v in services["mix2api-canary"].get("volumes", [])]
    targets = {m.split(":")[1]: m.split(":")[0] for m in mounts}
    assert driver_dir in targets, f"the canary mounts {mounts}, not its MIX2API_DRIVER_DIR {driver_dir}"
    assert not services["mix2api-stable"].get("volumes"), "stable runs the image's own drivers"
    source = (COMPOSE.parent / targets[driver_dir]).resolve()
    assert source.is_dir(), f"{source} (the canary's default driver folder) must exist"


def test_compose_bind_mounts_exist():
    for name, service in compose()["services"].items():
        for volume in service.get("volumes", []):
            source = interpolation_default(volume).split(":")[0]
            if source.startswith((".", "/")):
                assert (COMPOSE.parent / source).exists(), f"{name}: {source} does not exist"


def test_the_stop_grace_outlasts_the_drain():
    for name in MIX2API_SERVICES:
        grace_ms = int(service_env(name)["MIX2API_SHUTDOWN_GRACE_MS"])
        stop = compose()["services"][name]["stop_grace_period"]
        assert re.fullmatch(r"\d+s", stop), stop
        assert int(stop[:-1]) * 1000 >= grace_ms + 10_000, f"{name}: stop_grace_period {stop} vs drain {grace_ms} ms"


def test_prometheus_scrapes_each_track_at_its_compose_service():
    config = yaml.safe_load((PROMETHEUS / "prometheus.yml").read_text())
    job = next(j for j in config["scrape_configs"] if j["job_name"] == "mix2api")
    seen = {}
    for static in job["static_configs"]:
        for target in static["targets"]:
            seen[target] = static["labels"]["track"]
    expected = {f"{name}:{service_env(name)['PORT']}": track for name, track in MIX2API_SERVICES.items()}
    assert seen == expected
    mounts = compose()["services"]["prometheus"]["volumes"]
    assert "./prometheus:/etc/prometheus:ro" in mounts
    assert "--config.file=/etc/prometheus/prometheus.yml" in compose()["services"]["prometheus"]["command"]


# -- Dockerfile -------------------------------------------------------------------------------------

def package_artifacts() -> tuple[set[str], set[str]]:
    """(product names, files they build) from Package.swift: executables by name, dynamic
    libraries as lib<Name>.so."""
    manifest = (REPO / "Package.swift").read_text()
    executables = set(re.findall(r'\.executable\(name: "([^"]+)"', manifest))
    dynamic = set(re.findall(r'\.library\(name: "([^"]+)", type: \.dynamic', manifest))
    return executables | dynamic, executables | {f"lib{n}.so" for n in dynamic}


def test_dockerfile_builds_and_copies_real_products():
    products, files = package_artifacts()
    assert {"mix2api", "MockUpstream", "SelfHostedSite"} <= products, products
    build = dict(dockerfile_stages())["build"]
    runs = " ".join(args for instruction, args in build if instruction == "RUN")
    built = set(re.findall(r"--product (\S+)", runs))
    assert built and built <= products, built - products
    copied = set(re.findall(r"\.build/release/(\S+)", runs))
    assert copied and copied <= files, f"{copied - files} are not products of Package.swift"
    # Every driver the shipped plugins files name is copied into the image.
    for plugins in (PRODUCTION_PLUGINS, REPO / "plugins.json"):
        for driver in json.loads(plugins.read_text())["drivers"].values():
            assert driver["path"] in copied, f"{plugins.name} needs {driver['path']}"


def test_dockerfile_context_paths_exist_and_are_not_ignored():
    ignored = [l.strip() for l in (DEPLOY / "Dockerfile.dockerignore").read_text().splitlines() if l.strip() and not l.startswith("#")]
    for stage, instructions in dockerfile_stages():
        for instruction, args in instructions:
            if instruction != "COPY" or "--from=" in args:
                continue
            *sources, _dest = args.split()
            for source in sources:
                assert (REPO / source).exists(), f"COPY {source}: not in the repository"
                for pattern in ignored:
                    assert not Path(source).match(pattern) and not source.startswith(pattern.rstrip("/") + "/") and source != pattern, \
                        f"COPY {source} is excluded by Dockerfile.dockerignore ({pattern})"
    # The build context keeps build products, the venv and filled-in settings out.
    for pattern in (".build", ".venv", ".git", "deploy/*.env"):
        assert pattern in ignored, pattern


def test_the_image_layout_matches_its_settings():
    runtime = runtime_stage()
    env = image_env()
    copies = {args.split()[-1]: args for instruction, args in runtime if instruction == "COPY"}
    entrypoint = json.loads(next(args for instruction, args in runtime if instruction == "ENTRYPOINT"))
    assert entrypoint[0] in copies, f"ENTRYPOINT {entrypoint[0]} is not a copied file"
    assert json.loads(next(args for instruction, args in runtime if instruction == "CMD")) == ["serve"]
    assert env["MIX2API_DRIVER_DIR"].rstrip("/") + "/" in copies, "the drivers are not copied to MIX2API_DRIVER_DIR"
    assert "deploy/plugins.production.json" in copies[env["MIX2API_PLUGINS"]]
    assert env["MIX2API_ENV_FILE"] == "", "no .env is read inside the image"
    user = next(args for instruction, args in runtime if instruction == "USER")
    assert user.split(":")[0] not in ("root", "0"), user
    assert next(args for instruction, args in runtime if instruction == "EXPOSE") == env["PORT"]
    healthcheck = next(args for instruction, args in runtime if instruction == "HEALTHCHECK")
    assert "/health" in healthcheck and "${PORT}" in healthcheck
    assert next(args for instruction, args in runtime if instruction == "STOPSIGNAL") == "SIGTERM"
    # The runtime packages are what the binaries link (hiredis 0.14, libcurl 4).
    runs = " ".join(args for instruction, args in runtime if instruction == "RUN")
    for package in ("libcurl4", "libhiredis0.14", "ca-certificates"):
        assert package in runs, package
    # The systemd unit installs the same layout.
    unit = unit_file()
    assert unit["ExecStart"] == [f"{entrypoint[0]} serve"]
    for name in ("MIX2API_DRIVER_DIR", "MIX2API_PLUGINS", "PORT", "MIX2API_SHUTDOWN_GRACE_MS", "MIX2API_ENV_FILE"):
        assert unit_environment()[name] == env[name], name


# -- systemd ----------------------------------------------------------------------------------------

def verifiable_unit(tmp_path: Path) -> Path:
    """The unit with ExecStart pointed at a stub executable: `systemd-analyze verify` insists the
    command exists; everything else is verified as shipped."""
    stub = tmp_path / "mix2api"
    stub.write_text("#!/bin/sh\nexit 0\n")
    stub.chmod(0o755)
    text = UNIT.read_text()
    assert text.count("ExecStart=/opt/mix2api/bin/mix2api") == 1
    path = tmp_path / "mix2api.service"
    path.write_text(text.replace("ExecStart=/opt/mix2api/bin/mix2api", f"ExecStart={stub}"))
    return path


def test_systemd_analyze_verifies_the_unit_without_a_warning(tmp_path):
    tool = required_tool("systemd-analyze", "systemd")
    out = subprocess.run([tool, "verify", str(verifiable_unit(tmp_path))], capture_output=True, text=True, timeout=60)
    # Unknown or misspelled keys are only warnings (exit 0): any output is a failure here.
    assert out.returncode == 0 and not out.stdout.strip() and not out.stderr.strip(), out.stdout + out.stderr


def test_the_unit_is_hardened(tmp_path):
    """systemd's own exposure score (0 safest, 10 unsafe) stays at 2 or below."""
    tool = required_tool("systemd-analyze", "systemd")
    out = subprocess.run([tool, "security", "--offline=yes", "--threshold=20", str(verifiable_unit(tmp_path))],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr
    level = re.search(r"Overall exposure level for \S+: ([0-9.]+)", out.stdout)
    assert level and float(level.group(1)) <= 2.0, out.stdout[-500:]


def test_the_unit_waits_out_the_drain_and_does_not_restart_on_bad_settings():
    unit = unit_file()
    grace_s = int(unit_environment()["MIX2API_SHUTDOWN_GRACE_MS"]) / 1000
    assert int(unit["TimeoutStopSec"][0]) >= grace_s + 10
    assert unit["KillSignal"] == ["SIGTERM"]
    assert unit["Restart"] == ["on-failure"]
    # mix2api exits 2 when a setting is bad (cannot start): restarting would only repeat it.
    main = (REPO / "Sources" / "mix2api" / "main.swift").read_text()
    assert "throw ExitCode(2)" in main
    assert unit["RestartPreventExitStatus"] == ["2"]
    assert unit["EnvironmentFile"] == ["/etc/mix2api/mix2api.env"]
    assert unit["User"] == ["mix2api"]


# -- runbook ----------------------------------------------------------------------------------------

def test_runbook_links_and_commands_point_at_what_exists():
    from deploy_files import RUNBOOK, markdown_anchors
    text = RUNBOOK.read_text()
    anchors = markdown_anchors(RUNBOOK)
    for link in re.findall(r"\]\(#([^)]+)\)", text):
        assert link in anchors, f"RUNBOOK.md links to #{link}, which is no heading"
    # Every compose service it names exists, and every deploy/ path it names.
    services = set(compose()["services"])
    for name in re.findall(r"\b(mix2api-(?:stable|canary)|new-api|redis)\b", text):
        assert name in services or name == "new-api", name
    for path in re.findall(r"`deploy/([A-Za-z0-9_./-]+)`", text):
        assert (DEPLOY / path).exists(), f"RUNBOOK.md names deploy/{path}"
    # The rollback procedure names the weight to set and the alerts that call for it.
    for alert in ("Mix2apiAdapterErrorShareHigh", "Mix2api5xxShareHigh", "Mix2apiCutStreamRateHigh"):
        assert alert in text
    assert "weight of every canary channel to 0" in text
    assert "0 → 5 → 20 → 50 → 100" in text and "mix2api gate --base-url" in text
