#!/usr/bin/env python3
"""Summarizes one bench/run.sh output folder as Markdown (stdout) and summary.json.

Every figure is the median over the rounds of that run. "Added" figures are paired per round:
(gateway run's percentile) - (direct run's percentile in the same round).
"""
import json
import statistics
import sys
from datetime import datetime
from pathlib import Path


def load(folder: Path):
    runs = {}
    for path in sorted(folder.glob("*.json")):
        if path.name.endswith(".proc.json") or path.name in ("summary.json", "many.idle.json"):
            continue
        report = json.loads(path.read_text())
        proc_path = path.with_name(path.name[:-5] + ".proc.json")
        report["proc"] = json.loads(proc_path.read_text()) if proc_path.exists() else None
        name = path.name[:-5]
        base, _, round_tag = name.rpartition(".r")
        if not base or not round_tag.isdigit():
            base, round_tag = name, "1"
        runs.setdefault(base, {})[int(round_tag)] = report
    return runs


def pct(report, metric, p):
    """A percentile of one report; None when the report has no such metric (older reports)."""
    return report["latency_us"].get(metric, {}).get(p)


def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def cpu_seconds(report):
    proc = report.get("proc")
    if not proc:
        return None
    return proc["cpu_ticks"] / proc["ticks_per_second"]


def user_seconds(report):
    proc = report.get("proc")
    if not proc or "user_ticks" not in proc:
        return None
    return proc["user_ticks"] / proc["ticks_per_second"]


def per(report, what, seconds=cpu_seconds):
    cpu = seconds(report)
    count = report.get(what) or 0
    if cpu is None or count == 0:
        return None
    return cpu / count * 1e6


# First-token phases from mix2api's access lines (README "Observability"): each is the gap between
# two moments of one request, in ms.
PHASES = (
    ("host: arrival to driver start", None, "driver_start_ms"),
    ("driver start to the upstream's head", "driver_start_ms", "upstream_head_ms"),
    ("head to the first delta (the upstream's own TTFT)", "upstream_head_ms", "first_delta_ms"),
    ("first delta to the client (hop back)", "first_delta_ms", "ttfb_ms"),
    ("arrival to first byte (ttfb_ms)", None, "ttfb_ms"),
)


def percentile(values, p):
    """Nearest-rank percentile of a non-empty list."""
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * p // 100))
    return ordered[int(rank) - 1]


def phases(lines):
    """{phase: {p50, p90, p99, n}} over the access lines of streamed answers that ended ok and
    reported every moment (keep-alive-opened streams, whose ttfb precedes the first delta, included
    as they are)."""
    keys = {k for _, a, b in PHASES for k in (a, b) if k}
    usable = [l for l in lines if l.get("end_reason") == "ok" and l.get("stream") and all(k in l for k in keys)]
    out = {}
    if not usable:
        return out
    for name, start, end in PHASES:
        gaps = [l[end] - (l[start] if start else 0) for l in usable]
        out[name] = {"p50": percentile(gaps, 50), "p90": percentile(gaps, 90), "p99": percentile(gaps, 99), "n": len(gaps)}
    return out


def access_lines(path: Path):
    lines = []
    if path.exists():
        for raw in path.read_text(errors="replace").splitlines():
            try:
                lines.append(json.loads(raw))
            except ValueError:
                continue
    return lines


def peak_open_streams(lines):
    """The most streamed answers mix2api held open at one moment, from its access lines: each
    line is written when its answer ends (`ts`) and says how long it ran (`duration_ms`)."""
    events = []
    for l in lines:
        if not l.get("stream") or "ts" not in l or "duration_ms" not in l:
            continue
        end = datetime.fromisoformat(l["ts"].replace("Z", "+00:00")).timestamp()
        # Ends sort before starts at the same instant: a stream that ended as another began was
        # not open beside it.
        events += [(end - l["duration_ms"] / 1000, 1), (end, -1)]
    peak = open_now = 0
    for _, step in sorted(events):
        open_now += step
        peak = max(peak, open_now)
    return peak


def added_vs_direct(gateway_rounds, direct_rounds):
    """What a gateway run adds to the direct run, percentile by percentile, paired per round (the
    same round's direct run is the baseline), median over the rounds; None without a pair. Reports
    from before the first-token split give None for its two figures."""
    paired = [(gateway_rounds[k], direct_rounds[k]) for k in sorted(gateway_rounds) if k in direct_rounds]
    if not paired:
        return None

    def added(metric, p):
        pairs = [(pct(g, metric, p), pct(d, metric, p)) for g, d in paired]
        return median([gv - dv for gv, dv in pairs if gv is not None and dv is not None])

    return {
        "added_ttft_p50_us": added("ttft", "p50"),
        "added_ttft_p99_us": added("ttft", "p99"),
        "added_first_sent_p99_us": added("first_sent", "p99"),
        "added_first_delay_p99_us": added("first_delay", "p99"),
        "added_chunk_delay_p50_us": added("chunk_delay", "p50"),
        "added_chunk_delay_p99_us": added("chunk_delay", "p99"),
        "ttft_p99_ratio": median([pct(g, "ttft", "p99") / pct(d, "ttft", "p99") for g, d in paired]),
        "chunk_delay_p99_ratio": median([pct(g, "chunk_delay", "p99") / max(1, pct(d, "chunk_delay", "p99")) for g, d in paired]),
        "rps_ratio": median([g["rps"] / d["rps"] for g, d in paired if d["rps"]]),
    }


def round_by_round(runs):
    """One row per round: what each gateway added at p99 that round, beside two measures of how
    fast the machine itself was then (the floor relay's and site-sim's CPU per chunk on the same
    long answers). The VM's neighbours come and go within one run; a round whose floor costs more
    CPU per chunk ran on a slower machine, and its latency tails say more about that than about
    the gateway."""
    direct = runs.get("paced-direct", {})
    rows = []
    for k in sorted(direct):
        row = {"round": k}
        for gateway in ("paced-site", "paced-mock"):
            g = runs.get(gateway, {}).get(k)
            for metric in ("ttft", "chunk_delay"):
                gv, dv = (pct(g, metric, "p99"), pct(direct[k], metric, "p99")) if g else (None, None)
                row[f"{gateway}_added_{metric}_p99_us"] = None if gv is None or dv is None else gv - dv
        for name, key in (("long-relay", "floor_cpu_us_per_chunk"), ("long-direct", "site_sim_cpu_us_per_chunk")):
            r = runs.get(name, {}).get(k)
            row[key] = per(r, "content_chunks_including_warmup") if r else None
        rows.append(row)
    return rows


def ms(us):
    return "–" if us is None else f"{us / 1000:.2f}"


def num(v, fmt="{:.1f}"):
    return "–" if v is None else fmt.format(v)


def main():
    folder = Path(sys.argv[1])
    runs = load(folder)
    summary = {"folder": str(folder), "scenarios": {}}
    out = []
    conditions = folder / "conditions.txt"
    if conditions.exists():
        out.append("```\n" + conditions.read_text().strip() + "\n```\n")

    out.append("| run | rounds | ok/s | errors | cut | TTFT p50 | TTFT p99 | gap p99 | chunk delay p50 | chunk delay p99 | chunk delay p99.9 | total p99 | CPU µs/request | CPU µs/chunk | user CPU µs/chunk |")
    out.append("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for name, rounds in sorted(runs.items()):
        reports = list(rounds.values())
        row = {
            "rounds": len(reports),
            "rps": median([r["rps"] for r in reports]),
            "errors": sum(r["requests"]["errors"] for r in reports),
            "cut": sum(r["requests"]["cut_streams"] for r in reports),
            "ttft_p50": median([pct(r, "ttft", "p50") for r in reports]),
            "ttft_p99": median([pct(r, "ttft", "p99") for r in reports]),
            "gap_p99": median([pct(r, "gap", "p99") for r in reports]),
            "delay_p50": median([pct(r, "chunk_delay", "p50") for r in reports]),
            "delay_p99": median([pct(r, "chunk_delay", "p99") for r in reports]),
            "delay_p999": median([pct(r, "chunk_delay", "p99_9") for r in reports]),
            "total_p99": median([pct(r, "total", "p99") for r in reports]),
            "cpu_us_per_request": median([per(r, "ok_including_warmup") for r in reports]),
            "cpu_us_per_chunk": median([per(r, "content_chunks_including_warmup") for r in reports]),
            "user_us_per_chunk": median([per(r, "content_chunks_including_warmup", user_seconds) for r in reports]),
        }
        summary["scenarios"][name] = row
        out.append(
            f"| {name} | {row['rounds']} | {num(row['rps'])} | {row['errors']} | {row['cut']} | {ms(row['ttft_p50'])} | {ms(row['ttft_p99'])} | "
            f"{ms(row['gap_p99'])} | {ms(row['delay_p50'])} | {ms(row['delay_p99'])} | {ms(row['delay_p999'])} | {ms(row['total_p99'])} | "
            f"{num(row['cpu_us_per_request'])} | {num(row['cpu_us_per_chunk'], '{:.2f}')} | {num(row['user_us_per_chunk'], '{:.2f}')} |"
        )
    out.append("\nLatencies in ms. CPU: the gateway process's utime+stime over the run (warm-up included) divided by its answers or content chunks, and the user-space part of it alone (utime: the process's own code, without the kernel's socket work); for `paced-direct` and `long-direct` it is site-sim's, for `long-relay` relay-floor's (the floor). `long-*`: one 100-chunk answer per stream, so CPU per chunk is what one more chunk costs.\n")

    # Added delay vs direct, paired per round.
    direct = runs.get("paced-direct", {})
    compare = []
    for gateway in ("paced-site", "paced-mock"):
        added = added_vs_direct(runs.get(gateway, {}), direct)
        if added is None:
            continue
        summary["scenarios"].setdefault("added", {})[gateway] = added
        compare.append((gateway, added))
    if compare:
        out.append("| vs direct (paired per round) | added TTFT p50 | added TTFT p99 | of it on the way in, p99 | on the way back, p99 | added chunk delay p50 | added chunk delay p99 | TTFT p99 ratio | chunk delay p99 ratio | ok/s ratio |")
        out.append("|---|---|---|---|---|---|---|---|---|---|")
        for gateway, a in compare:
            out.append(
                f"| {gateway} | {ms(a['added_ttft_p50_us'])} | {ms(a['added_ttft_p99_us'])} | {ms(a['added_first_sent_p99_us'])} | {ms(a['added_first_delay_p99_us'])} | "
                f"{ms(a['added_chunk_delay_p50_us'])} | {ms(a['added_chunk_delay_p99_us'])} | {num(a['ttft_p99_ratio'], '{:.3f}')} | "
                f"{num(a['chunk_delay_p99_ratio'], '{:.2f}')} | {num(a['rps_ratio'], '{:.3f}')} |"
            )
        out.append("\nThe first token split at the upstream's stamp on the first chunk: *on the way in* is request start to that stamp "
                   "(the request's way to the upstream, the upstream's schedule and lateness), *on the way back* that chunk's own delay.\n")

    rounds = round_by_round(runs)
    if len(rounds) > 1:
        summary["rounds"] = rounds
        out.append("| round | added TTFT p99, site | added TTFT p99, mock | added chunk delay p99, site | added chunk delay p99, mock | floor CPU µs/chunk | site-sim CPU µs/chunk |")
        out.append("|---|---|---|---|---|---|---|")
        for r in rounds:
            out.append(
                f"| {r['round']} | {ms(r['paced-site_added_ttft_p99_us'])} | {ms(r['paced-mock_added_ttft_p99_us'])} | "
                f"{ms(r['paced-site_added_chunk_delay_p99_us'])} | {ms(r['paced-mock_added_chunk_delay_p99_us'])} | "
                f"{num(r['floor_cpu_us_per_chunk'])} | {num(r['site_sim_cpu_us_per_chunk'])} |"
            )
        out.append("\nRound by round (ms): the machine's speed moves within one run; the floor relay's and site-sim's CPU per chunk "
                   "(`long-relay`, `long-direct`, same round) show how fast it was then.\n")

    # Where the first token's time went through mix2api + site driver: median over rounds of each
    # round's percentiles.
    per_round = [phases(access_lines(folder / f"paced-site.r{k}.access.log")) for k in sorted(runs.get("paced-site", {}))]
    per_round = [r for r in per_round if r]
    if per_round:
        table = {name: {p: median([r[name][p] for r in per_round if name in r]) for p in ("p50", "p90", "p99")} for name, _, _ in PHASES}
        summary["scenarios"]["paced_site_phases_ms"] = table
        out.append("| paced-site first token, from mix2api's access lines (ms) | p50 | p90 | p99 |")
        out.append("|---|---|---|---|")
        for name, _, _ in PHASES:
            row = table[name]
            out.append(f"| {name} | {num(row['p50'], '{:.2f}')} | {num(row['p90'], '{:.2f}')} | {num(row['p99'], '{:.2f}')} |")
        out.append("")

    for kind in ("instant", "instant-json"):
        mine, theirs = runs.get(f"{kind}-mix2api", {}), runs.get(f"{kind}-litellm", {})
        paired = [(mine[k], theirs[k]) for k in mine if k in theirs]
        if not paired:
            continue
        ratio = median([m["rps"] / t["rps"] for m, t in paired if t["rps"]])
        p99_m = median([pct(m, "total", "p99") for m, _ in paired])
        p99_t = median([pct(t, "total", "p99") for _, t in paired])
        summary["scenarios"].setdefault("vs_litellm", {})[kind] = {"rps_ratio": ratio, "total_p99_mix2api_us": p99_m, "total_p99_litellm_us": p99_t}
        out.append(f"- {kind}: mix2api sustains **{num(ratio)}×** LiteLLM's requests per second (same closed loop); total p99 {ms(p99_m)} ms vs {ms(p99_t)} ms.")

    long_site, long_direct, long_relay = runs.get("long-site", {}), runs.get("long-direct", {}), runs.get("long-relay", {})
    if long_site:
        chunk_cpu = lambda r: per(r, "content_chunks_including_warmup")
        # Above the floor: paired per round, like the added latencies.
        above = [chunk_cpu(long_site[k]) - chunk_cpu(long_relay[k]) for k in long_site if k in long_relay
                 if chunk_cpu(long_site[k]) is not None and chunk_cpu(long_relay[k]) is not None]
        entry = {
            "cpu_us_per_chunk": median([chunk_cpu(r) for r in long_site.values()]),
            "user_us_per_chunk": median([per(r, "content_chunks_including_warmup", user_seconds) for r in long_site.values()]),
            "site_sim_cpu_us_per_chunk": median([chunk_cpu(r) for r in long_direct.values()]),
            "relay_floor_cpu_us_per_chunk": median([chunk_cpu(r) for r in long_relay.values()]),
            "relay_floor_user_us_per_chunk": median([per(r, "content_chunks_including_warmup", user_seconds) for r in long_relay.values()]),
            "above_floor_cpu_us_per_chunk": median(above),
        }
        summary["scenarios"]["per_chunk"] = entry
        out.append(
            f"- One more streamed chunk through mix2api + site driver (long answers) costs {num(entry['cpu_us_per_chunk'], '{:.2f}')} µs of CPU, "
            f"{num(entry['user_us_per_chunk'], '{:.2f}')} µs of it in user space; site-sim serving the same stream directly spends "
            f"{num(entry['site_sim_cpu_us_per_chunk'], '{:.2f}')} µs per chunk."
        )
        if long_relay:
            out.append(
                f"- The floor: relay-floor (a bare epoll byte relay, one thread, no parsing) passing the same long answers costs "
                f"{num(entry['relay_floor_cpu_us_per_chunk'], '{:.2f}')} µs per chunk ({num(entry['relay_floor_user_us_per_chunk'], '{:.2f}')} µs in user space); "
                f"mix2api spends {num(entry['above_floor_cpu_us_per_chunk'], '{:.2f}')} µs per chunk above it."
            )

    many = runs.get("many-site", {})
    idle_path = folder / "many.idle.json"
    if many and idle_path.exists():
        report = list(many.values())[0]
        idle = json.loads(idle_path.read_text())
        # Memory per stream divides by the streams mix2api really held at once (its access lines),
        # not by the load generator's workers: fewer may have been open together.
        peak = peak_open_streams(access_lines(folder / "many-site.access.log"))
        streams = peak or idle["streams"]
        hwm = report["proc"]["hwm_kib"] if report.get("proc") else None
        entry = {
            "workers": idle["streams"],
            "streams": streams,
            "ok": report["requests"]["ok"],
            "errors": report["requests"]["errors"],
            "cut": report["requests"]["cut_streams"],
            "by_kind": report["requests"]["by_kind"],
            "hwm_kib": hwm,
            "idle_rss_kib": idle["idle_rss_kib"],
            "kib_per_stream": None if hwm is None else hwm / streams,
            "kib_per_stream_above_idle": None if hwm is None else (hwm - idle["idle_rss_kib"]) / streams,
            "chunk_delay_p99_us": pct(report, "chunk_delay", "p99"),
            "gap_p99_us": pct(report, "gap", "p99"),
            "cpu_us_per_chunk": per(report, "content_chunks_including_warmup"),
            "user_us_per_chunk": per(report, "content_chunks_including_warmup", user_seconds),
        }
        summary["scenarios"]["many"] = entry
        out.append(
            f"- {entry['workers']} workers, "
            + (f"at most {streams} streams open in mix2api at once (its access lines)" if peak else "no access lines (memory divided by the workers)")
            + f", through the site driver (20 ms gap): {entry['ok']} answers ok, {entry['errors']} errors "
            f"({entry['cut']} cut){'' if not entry['by_kind'] else ' ' + json.dumps(entry['by_kind'])}; peak RSS {num(hwm, '{:.0f}')} KiB = "
            f"{num(entry['kib_per_stream'])} KiB per stream ({num(entry['kib_per_stream_above_idle'])} KiB above the idle process); "
            f"chunk delay p99 {ms(entry['chunk_delay_p99_us'])} ms; gap p99 {ms(entry['gap_p99_us'])} ms; CPU {num(entry['cpu_us_per_chunk'], '{:.2f}')} µs per chunk "
            f"({num(entry['user_us_per_chunk'], '{:.2f}')} µs of it in user space)."
        )
    (folder / "summary.json").write_text(json.dumps(summary, indent=2, sort_keys=True))
    print("\n".join(out))


if __name__ == "__main__":
    main()
