"""Reading the deployment files in deploy/ for the checks in test_deploy_*.py.

    required_tool(name, package)  path of a system tool; a missing one FAILS with how to install it
    host_setting_names()          the env names the host reads (HostConfig.hostNames in the Swift source)
    placeholder_names(path)       the ${NAME} names a plugins.json hands to its drivers
    env_file_names(path)          names in a .env-style file (commented-out ones too)
    compose()                     deploy/docker-compose.yml, parsed
    dockerfile_stages()           deploy/Dockerfile as [(stage name, [(instruction, args)])]
    unit_file()                   deploy/systemd/mix2api.service as {key: [values]}
    metric_names(expr)            the metric names a PromQL expression selects
    label_matchers(expr)          its (label, op, value) matchers
    CONTRACT_*                    the metric names and label values of the metrics contract
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"
PROMETHEUS = DEPLOY / "prometheus"
RULE_FILES = sorted((PROMETHEUS / "rules").glob("*.rules.yml"))
RULE_TESTS = sorted((PROMETHEUS / "tests").glob("*.test.yml"))
DASHBOARD = DEPLOY / "grafana" / "mix2api-dashboard.json"
COMPOSE = DEPLOY / "docker-compose.yml"
DOCKERFILE = DEPLOY / "Dockerfile"
UNIT = DEPLOY / "systemd" / "mix2api.service"
ENV_EXAMPLE = DEPLOY / "mix2api.env.example"
PRODUCTION_PLUGINS = DEPLOY / "plugins.production.json"
RUNBOOK = DEPLOY / "RUNBOOK.md"

# The metrics contract (issue 6): the series mix2api exports and the closed label value sets.
CONTRACT_METRICS = {
    "mix2api_requests_total", "mix2api_stream_cuts_total", "mix2api_streams_unterminated_total",
    "mix2api_streams_in_flight", "mix2api_tool_calls_emitted_total", "mix2api_tool_results_received_total",
    "mix2api_driver_events_total", "mix2api_state_operations_total", "mix2api_state_degraded", "mix2api_build_info",
    *(f"{h}{suffix}" for h in ("mix2api_request_ttfb_seconds", "mix2api_request_duration_seconds")
      for suffix in ("_bucket", "_sum", "_count")),
}
# Counters a driver adds through the ABI's counter_add: mix2api_driver_<name>_total.
CONTRACT_DRIVER_COUNTER = re.compile(r"^mix2api_driver_[a-z0-9_]+_total$")
# Series Prometheus itself makes for every target.
PROMETHEUS_SYNTHETIC = {"up"}
CONTRACT_LABEL_VALUES = {
    "route": {"chat_completions", "messages", "count_tokens"},
    "client": {"opencode", "claude-code", "new-api", "openai-sdk", "other"},
    "stream": {"true", "false"},
    "tools": {"true", "false"},
    "end_reason": {"ok", "client_abort", "timeout", "upstream_error", "upstream_auth_error", "rate_limited",
                   "invalid_request", "auth_error", "adapter_error", "driver_error", "unavailable", "unknown"},
    "op": {"get", "set", "delete", "lock", "unlock"},
    "result": {"hit", "miss", "ok", "busy", "error"},
    # Attached by the scrape config, not by mix2api.
    "track": {"stable", "canary"},
}


def required_tool(name: str, package: str) -> str:
    """These checks never skip: a developer without the tool gets a failure that says what to install."""
    path = shutil.which(name)
    if path is None:
        pytest.fail(f"`{name}` is not installed. Install the Debian package `{package}` "
                    f"(apt-get install {package}); .ci/run installs it. The deploy checks need it and do not skip.")
    return path


# -- settings ---------------------------------------------------------------------------------------

def host_setting_names() -> set[str]:
    """HostConfig.hostNames: every env name the host itself reads."""
    source = (REPO / "Sources" / "Host" / "Config" / "HostConfig.swift").read_text()
    m = re.search(r"static let hostNames: Set<String> = \[(.*?)\]", source, re.S)
    assert m, "HostConfig.hostNames not found in HostConfig.swift"
    names = set(re.findall(r'"([A-Z0-9_]+)"', m.group(1)))
    assert {"PORT", "MIX2API_DRIVER_DIR", "REDIS_URL"} <= names, names
    return names


def placeholder_names(plugins_path: Path) -> set[str]:
    return set(re.findall(r"\$\{([A-Z0-9_]+)", plugins_path.read_text()))


def env_file_names(path: Path) -> dict[str, str]:
    """NAME -> value for every `NAME=value` line, commented out (`# NAME=...`) or not."""
    out: dict[str, str] = {}
    for line in path.read_text().splitlines():
        m = re.match(r"^\s*#?\s*(?:export\s+)?([A-Z][A-Z0-9_]*)=(.*)$", line)
        if m:
            out[m.group(1)] = m.group(2).strip()
    return out


def active_env_entries(path: Path) -> dict[str, str]:
    """The uncommented NAME=value lines, quotes removed as the .env readers do."""
    out: dict[str, str] = {}
    for line in path.read_text().splitlines():
        m = re.match(r"^([A-Z][A-Z0-9_]*)=(.*)$", line.strip())
        if m:
            value = m.group(2).strip()
            if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
                value = value[1:-1]
            out[m.group(1)] = value
    return out


# -- compose ----------------------------------------------------------------------------------------

def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text())


def interpolation_default(value: str) -> str:
    """`${NAME:-default}` -> default (what compose uses when NAME is unset)."""
    return re.sub(r"\$\{[A-Z0-9_]+:-([^}]*)\}", r"\1", value)


# -- Dockerfile -------------------------------------------------------------------------------------

def dockerfile_stages() -> list[tuple[str, list[tuple[str, str]]]]:
    text = DOCKERFILE.read_text()
    lines: list[str] = []
    pending = ""
    for raw in text.splitlines():
        if raw.lstrip().startswith("#"):
            continue  # comments (also inside a continued instruction) and the syntax directive
        if raw.rstrip().endswith("\\"):
            pending += raw.rstrip()[:-1] + " "
            continue
        line = (pending + raw).strip()
        pending = ""
        if line:
            lines.append(line)
    stages: list[tuple[str, list[tuple[str, str]]]] = []
    for line in lines:
        instruction, _, args = line.partition(" ")
        instruction = instruction.upper()
        if instruction == "FROM":
            m = re.search(r"\bAS\s+(\S+)\s*$", args, re.I)
            stages.append((m.group(1) if m else f"stage{len(stages)}", []))
        if stages:
            stages[-1][1].append((instruction, args.strip()))
    return stages


def dockerfile_env(instructions: list[tuple[str, str]]) -> dict[str, str]:
    env: dict[str, str] = {}
    for instruction, args in instructions:
        if instruction == "ENV":
            for name, value in re.findall(r"([A-Z][A-Z0-9_]*)=(\"[^\"]*\"|\S*)", args):
                env[name] = value.strip('"')
    return env


# -- systemd ----------------------------------------------------------------------------------------

def unit_file() -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for line in UNIT.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith(("#", ";", "[")):
            continue
        key, _, value = line.partition("=")
        out.setdefault(key.strip(), []).append(value.strip())
    return out


def unit_environment() -> dict[str, str]:
    env: dict[str, str] = {}
    for assignment in unit_file().get("Environment", []):
        name, _, value = assignment.partition("=")
        env[name] = value
    return env


# -- PromQL -----------------------------------------------------------------------------------------

PROMQL_FUNCTIONS = {
    "abs", "absent", "absent_over_time", "ceil", "changes", "clamp", "clamp_max", "clamp_min", "day_of_month",
    "day_of_week", "day_of_year", "days_in_month", "delta", "deriv", "exp", "floor", "histogram_count",
    "histogram_sum", "histogram_fraction", "histogram_quantile", "holt_winters", "hour", "idelta", "increase",
    "irate", "label_join", "label_replace", "ln", "log2", "log10", "minute", "month", "predict_linear", "rate",
    "resets", "round", "scalar", "sgn", "sort", "sort_desc", "sqrt", "time", "timestamp", "vector", "year",
    "avg_over_time", "min_over_time", "max_over_time", "sum_over_time", "count_over_time", "quantile_over_time",
    "stddev_over_time", "stdvar_over_time", "last_over_time", "present_over_time", "label_values",
}
PROMQL_KEYWORDS = {
    "by", "without", "on", "ignoring", "group_left", "group_right", "and", "or", "unless", "bool", "offset",
    "sum", "min", "max", "avg", "count", "stddev", "stdvar", "topk", "bottomk", "quantile", "count_values", "group",
    "inf", "nan",
}
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'')
_MATCHER = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)"')


def label_matchers(expr: str) -> list[tuple[str, str, str]]:
    """(label, operator, value) of every matcher inside {...}."""
    out = []
    for selector in re.findall(r"\{([^{}]*)\}", expr):
        out += _MATCHER.findall(selector)
    return out


def metric_names(expr: str) -> set[str]:
    """The metric names an expression selects: bare names plus `{__name__=~"a|b"}` alternatives."""
    names = set()
    for label, op, value in label_matchers(expr):
        if label == "__name__":
            names |= set(value.split("|")) if op == "=~" else {value}
    text = re.sub(r"\{[^{}]*\}", " ", expr)          # label matchers
    text = _STRING.sub(" ", text)                     # strings (label_replace arguments, ...)
    text = re.sub(r"\[[^\]]*\]", " ", text)          # range and subquery windows
    text = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", text)
    text = re.sub(r"(?<![\w:])\d+(\.\d+)?([eE][+-]?\d+)?(ms|[smhdwy])?", " ", text)  # numbers, durations
    for token in re.findall(r"[a-zA-Z_:][a-zA-Z0-9_:]*", text):
        if token.lower() not in PROMQL_KEYWORDS and token not in PROMQL_FUNCTIONS:
            names.add(token)
    return names


def is_contract_metric(name: str) -> bool:
    return name in CONTRACT_METRICS or bool(CONTRACT_DRIVER_COUNTER.match(name))


def rule_groups() -> list[dict]:
    groups = []
    for path in RULE_FILES:
        groups += yaml.safe_load(path.read_text())["groups"]
    return groups


def recorded_names() -> set[str]:
    return {r["record"] for g in rule_groups() for r in g["rules"] if "record" in r}


def alert_rules() -> list[dict]:
    return [r for g in rule_groups() for r in g["rules"] if "alert" in r]


def bad_label_values(expr: str) -> list[str]:
    """Matchers whose literal values are outside the contract's closed sets (regex alternatives
    that are plain words are checked too; patterns like 5.. and Grafana $variables are not)."""
    bad = []
    for label, op, value in label_matchers(expr):
        allowed = CONTRACT_LABEL_VALUES.get(label)
        if allowed is None or "$" in value:
            continue
        alternatives = value.split("|") if op in ("=~", "!~") else [value]
        for alt in alternatives:
            if op in ("=~", "!~") and not re.fullmatch(r"[a-z0-9_-]+", alt):
                continue
            if alt not in allowed:
                bad.append(f'{label}{op}"{value}" ({alt!r} is not one of {sorted(allowed)})')
    return bad


def markdown_anchors(path: Path) -> set[str]:
    """GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens."""
    anchors = set()
    for line in path.read_text().splitlines():
        m = re.match(r"^#{1,6}\s+(.*?)\s*$", line)
        if m:
            slug = re.sub(r"[^\w\- ]", "", m.group(1).lower()).replace(" ", "-")
            anchors.add(slug)
    return anchors
