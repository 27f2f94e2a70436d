"""mix2api-bench against real processes: its JSON report is structurally right (every request
accounted for, chunks counted, stamps read) and its checks do catch a broken answer. No timing
is asserted: timing goals belong to bench/run.sh (README "Performance")."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import time
from pathlib import Path

import pytest

from conftest import BUILD_DIR, mock_plugins

BENCH = BUILD_DIR / "mix2api-bench"
SUMMARIZE = Path(__file__).resolve().parents[2] / "bench" / "summarize.py"
PACE = "ttft_ms=5,chunks=6,gap_ms=2,chunk_bytes=40"


def run_bench(tmp_path: Path, url: str, *args: str) -> dict:
    out = tmp_path / "report.json"
    done = subprocess.run(
        [str(BENCH), "--url", url, "--duration", "1.5", "--warmup", "0.3", "--concurrency", "3", "--timeout-ms", "10000",
         "--format", "none", "--json", str(out), *args],
        capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return json.loads(out.read_text())


def assert_all_ok(report: dict) -> None:
    requests = report["requests"]
    assert requests["started"] > 0, report
    assert requests["errors"] == 0 and requests["by_kind"] == {}, report
    assert requests["ok"] == requests["started"], report
    assert report["latency_us"]["total"]["count"] == requests["ok"]
    assert report["latency_us"]["ttft"]["count"] == requests["ok"]


@pytest.fixture(scope="module", autouse=True)
def _bench_built():
    if not BENCH.exists():
        pytest.fail(f"{BENCH} is missing: swift build builds it")


def test_paced_mock_stream_is_counted_chunk_by_chunk(start_server, tmp_path):
    s = start_server(mock_plugins())
    report = run_bench(tmp_path, f"{s.base_url}/v1", "--model", "mock-paced", "--pace", PACE, "--with-tool")
    assert_all_ok(report)
    ok = report["requests"]["ok"]
    # Six stamped chunks per answer, each read and timed; five gaps between them.
    assert report["content_chunks"] == 6 * ok
    assert report["latency_us"]["chunk_delay"]["count"] == 6 * ok
    assert report["latency_us"]["gap"]["count"] == 5 * ok
    assert report["content_bytes"] == 40 * 6 * ok
    assert report["load"] == {"mode": "closed", "concurrency": 3, "ramp_seconds": 0.0}
    for p in ("p50", "p90", "p99", "p99_9", "max"):
        assert isinstance(report["latency_us"]["chunk_delay"][p], int)
    assert_first_token_split(report, ttft_ms=5)


def assert_first_token_split(report: dict, ttft_ms: int) -> None:
    """The first token, split at the upstream's stamp on the first chunk: one of each per answer;
    no first chunk is stamped before the upstream's schedule allows, and none after the client
    got it (so no percentile of the way in exceeds the same percentile of the whole; 1 ms of slack
    for the two clocks)."""
    latency = report["latency_us"]
    ok = report["requests"]["ok"]
    assert latency["first_sent"]["count"] == ok and latency["first_delay"]["count"] == ok, latency
    assert latency["first_sent"]["p50"] >= ttft_ms * 1000, latency["first_sent"]
    for p in ("p50", "p99", "max"):
        assert latency["first_sent"][p] <= latency["ttft"][p] + 1000, (p, latency)


def test_direct_sim_route_and_json_answers(start_sim, tmp_path):
    sim = start_sim("--no-auth")
    streamed = run_bench(tmp_path, f"{sim.base_url}/v1", "--model", "bench", "--pace", PACE)
    assert_all_ok(streamed)
    assert streamed["content_chunks"] == 6 * streamed["requests"]["ok"]
    assert_first_token_split(streamed, ttft_ms=5)
    whole = run_bench(tmp_path, f"{sim.base_url}/v1", "--model", "bench", "--pace", PACE, "--no-stream")
    assert_all_ok(whole)
    assert whole["content_chunks"] == 0 and whole["content_bytes"] == 40 * 6 * whole["requests"]["ok"]


def test_a_wrong_answer_is_an_integrity_error_not_a_success(start_server, tmp_path):
    s = start_server(mock_plugins())
    report = run_bench(tmp_path, f"{s.base_url}/v1", "--model", "mock-short", "--expect-content", "Hello from somewhere else.")
    requests = report["requests"]
    assert requests["ok"] == 0 and requests["started"] > 0, report
    assert requests["by_kind"] == {"integrity": requests["started"]}, report
    assert "content differs" in requests["problems"][0]


def test_a_mid_stream_error_chunk_is_an_error(start_server, tmp_path):
    s = start_server(mock_plugins())
    # mock-error-mid sends deltas, then an error chunk and [DONE]: an error, not a success.
    report = run_bench(tmp_path, f"{s.base_url}/v1", "--model", "mock-error-mid")
    assert report["requests"]["ok"] == 0
    assert set(report["requests"]["by_kind"]) == {"error_chunk"}, report


RELAY = BUILD_DIR / "relay-floor"


@pytest.fixture
def relay_to(tmp_path):
    """relay_to(port) -> relay-floor's port, relaying to 127.0.0.1:port; stopped at teardown."""
    started: list[subprocess.Popen] = []

    def start(upstream_port: int) -> int:
        out = open(tmp_path / f"relay{len(started)}.stdout", "w+")
        proc = subprocess.Popen([str(RELAY), "--upstream", f"127.0.0.1:{upstream_port}"], stdout=out, stderr=subprocess.STDOUT)
        started.append(proc)
        for _ in range(500):
            out.seek(0)
            line = out.readline()
            if line.endswith("\n"):
                assert line.startswith("relay-floor listening on 127.0.0.1:"), line
                return int(line.rsplit(":", 1)[1])
            assert proc.poll() is None, f"relay-floor exited: {out.read()}"
            time.sleep(0.02)
        pytest.fail("relay-floor printed no listening line")

    yield start
    for proc in started:
        proc.kill()
        proc.wait()


def test_relay_floor_passes_streams_through_unchanged(start_sim, relay_to, tmp_path):
    # The benchmark's CPU floor is only a floor if the relay really carries the whole answers:
    # every stamped chunk, in order, on kept-alive connections, for concurrent streams.
    sim = start_sim("--no-auth")
    port = relay_to(sim.port)
    report = run_bench(tmp_path, f"http://127.0.0.1:{port}/v1", "--model", "bench", "--pace", PACE, "--with-tool")
    assert_all_ok(report)
    ok = report["requests"]["ok"]
    assert report["content_chunks"] == 6 * ok
    assert report["content_bytes"] == 40 * 6 * ok
    assert report["latency_us"]["gap"]["count"] == 5 * ok
    whole = run_bench(tmp_path, f"http://127.0.0.1:{port}/v1", "--model", "bench", "--pace", PACE, "--no-stream")
    assert_all_ok(whole)
    assert whole["content_bytes"] == 40 * 6 * whole["requests"]["ok"]


@pytest.mark.parametrize("args, named", [
    (["--upstream", "localhost:80"], "--upstream"),
    (["--upstream", "127.0.0.1"], "--upstream"),
    (["--upstream", "127.0.0.1:99999"], "--upstream"),
    (["--upstream", "127.0.0.1:1", "--port", "x"], "--port"),
    ([], "--upstream"),
    (["--upstream", "127.0.0.1:1", "--bogus"], "usage"),
])
def test_relay_floor_rejects_bad_arguments_by_name(args, named):
    done = subprocess.run([str(RELAY), *args], capture_output=True, text=True, timeout=10)
    assert done.returncode == 2
    assert named in done.stderr, done.stderr


def load_summarize():
    spec = importlib.util.spec_from_file_location("summarize", SUMMARIZE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_phase_summary_reads_real_access_lines(start_server, tmp_path):
    summarize = load_summarize()
    s = start_server(mock_plugins())
    report = run_bench(tmp_path, f"{s.base_url}/v1", "--model", "mock-paced", "--pace", PACE, "--with-tool")
    assert_all_ok(report)
    deadline = time.monotonic() + 5
    while len(s.access_lines()) < report["requests"]["started"] and time.monotonic() < deadline:
        time.sleep(0.05)
    lines = s.access_lines()
    table = summarize.phases(lines)
    assert [name for name, _, _ in summarize.PHASES] == list(table), table
    answered = [l for l in lines if l["end_reason"] == "ok"]
    # The report counts the measured window; the server also answered the warm-up.
    assert len(answered) >= report["requests"]["started"]
    for name, row in table.items():
        assert row["n"] == len(answered), (name, row)
        assert row["p50"] <= row["p90"] <= row["p99"], (name, row)
    # The mock paces its first chunk 5 ms after the start: the upstream's own TTFT is in that phase.
    assert table["head to the first delta (the upstream's own TTFT)"]["p50"] >= 5, table


def test_phase_summary_keeps_only_complete_ok_streams():
    summarize = load_summarize()
    line = {"end_reason": "ok", "stream": True, "driver_start_ms": 1.0, "upstream_head_ms": 3.0, "first_delta_ms": 53.0, "ttfb_ms": 54.0}
    lines = [dict(line, ttfb_ms=54.0 + i) for i in range(100)]
    lines += [dict(line, end_reason="timeout"), dict(line, stream=False), {k: v for k, v in line.items() if k != "upstream_head_ms"}]
    table = summarize.phases(lines)
    hop = table["first delta to the client (hop back)"]
    assert (hop["n"], hop["p50"], hop["p90"], hop["p99"]) == (100, 50.0, 90.0, 99.0)
    assert table["driver start to the upstream's head"]["p99"] == 2.0
    assert summarize.phases(lines[100:]) == {}


def test_added_figures_pair_each_round_with_its_own_direct_run():
    summarize = load_summarize()

    def report(ttft99, sent99=None, rps=100.0):
        latency = {"ttft": {"p50": ttft99 - 1000, "p99": ttft99}, "chunk_delay": {"p50": 100, "p99": 400}}
        if sent99 is not None:
            latency["first_sent"] = {"p99": sent99}
            latency["first_delay"] = {"p99": ttft99 - sent99}
        return {"latency_us": latency, "rps": rps}

    direct = {1: report(51_000, 50_500), 2: report(60_000, 59_000), 3: report(52_000, 51_000)}
    # Round 2's direct run was slow: paired per round, its gateway run adds 1 ms, not −7.
    gateway = {1: report(54_000, 52_500), 2: report(61_000, 59_500), 3: report(55_000, 53_000), 4: report(99_000, 98_000)}
    added = summarize.added_vs_direct(gateway, direct)
    assert added["added_ttft_p99_us"] == 3_000          # median of 3, 1, 3 (round 4 has no pair)
    assert added["added_first_sent_p99_us"] == 2_000    # median of 2, 0.5, 2
    assert added["added_first_delay_p99_us"] == 1_000   # median of 1, 0.5, 1
    assert added["added_chunk_delay_p99_us"] == 0
    # Reports written before the split carry no first_sent: those figures are unknown, not zero.
    old = summarize.added_vs_direct({1: report(54_000)}, {1: report(51_000)})
    assert old["added_ttft_p99_us"] == 3_000 and old["added_first_sent_p99_us"] is None
    assert summarize.added_vs_direct(gateway, {}) is None


def test_round_by_round_rows_pair_each_round_and_carry_the_machine_speed():
    summarize = load_summarize()

    def report(ttft99, delay99=400, chunks=None, ticks=None):
        r = {"latency_us": {"ttft": {"p99": ttft99}, "chunk_delay": {"p99": delay99}}, "rps": 1.0}
        if chunks is not None:
            r["content_chunks_including_warmup"] = chunks
            r["proc"] = {"cpu_ticks": ticks, "ticks_per_second": 100}
        return r

    runs = {
        "paced-direct": {1: report(51_000), 2: report(52_000)},
        "paced-site": {1: report(53_500, 900), 2: report(60_000, 2_400)},
        "paced-mock": {1: report(52_000)},  # no round 2: unknown there, not zero
        "long-relay": {1: report(0, chunks=50_000, ticks=100), 2: report(0, chunks=50_000, ticks=130)},
    }
    rows = summarize.round_by_round(runs)
    assert [r["round"] for r in rows] == [1, 2]
    assert rows[0]["paced-site_added_ttft_p99_us"] == 2_500 and rows[1]["paced-site_added_ttft_p99_us"] == 8_000
    assert rows[0]["paced-site_added_chunk_delay_p99_us"] == 500 and rows[1]["paced-site_added_chunk_delay_p99_us"] == 2_000
    assert rows[0]["paced-mock_added_ttft_p99_us"] == 1_000 and rows[1]["paced-mock_added_ttft_p99_us"] is None
    assert rows[0]["floor_cpu_us_per_chunk"] == pytest.approx(20.0) and rows[1]["floor_cpu_us_per_chunk"] == pytest.approx(26.0)
    assert rows[0]["site_sim_cpu_us_per_chunk"] is None
    assert summarize.round_by_round({}) == []


def test_peak_open_streams_counts_overlaps_from_end_times_and_durations():
    summarize = load_summarize()

    def line(end_s, duration_ms, stream=True):
        return {"ts": f"2026-12-07T10:00:{end_s:06.3f}Z", "duration_ms": duration_ms, "stream": stream}

    lines = [
        line(10, 5_000),   # open 5-10
        line(12, 4_000),   # open 8-12: two at once from 8 to 10
        line(11, 2_000),   # open 9-11: three at once from 9 to 10
        line(20, 9_000),   # open 11-20: two (with 8-12) from 11 to 12
        line(10.5, 10_000, stream=False),  # JSON answers are not streams
    ]
    assert summarize.peak_open_streams(lines) == 3
    # One ending exactly when another starts was not open beside it.
    assert summarize.peak_open_streams([line(10, 1_000), line(11, 1_000)]) == 1
    assert summarize.peak_open_streams([]) == 0
