#!/usr/bin/env bash
# Side-by-side performance run, loopback only and bounded in time (README "Performance").
#
#   bash bench/run.sh                 # the full run: 5 interleaved rounds, then 5,000 streams (~12 min)
#   bash bench/run.sh --quick         # 1 round, short runs, 1,000 streams (~3 min): a smoke test
#   bash bench/run.sh --rounds 5 --duration 15 --out artifacts/bench/mine
#   bash bench/run.sh --many-only     # only the many-streams run (memory per stream, errors)
#   BENCH_SKIP_BUILD=1 BENCH_NO_LITELLM=1 bash bench/run.sh
#
# What runs, in one session, interleaved round by round (the same load on each target):
#   direct   mix2api-bench → site-sim's own OpenAI route (the baseline: no gateway at all)
#   site     mix2api-bench → mix2api + SelfHostedSite driver → site-sim (site protocol)
#   mock     mix2api-bench → mix2api + mock driver (mock-paced: the same schedule, no network)
#   long-*   direct and site again, one 100-chunk answer per stream: CPU per chunk on its own
#   long-relay  the same long answers through relay-floor, a bare single-threaded epoll byte relay in
#            C on the gateways' core: the CPU per chunk any gateway pays on this machine before doing
#            anything of its own (loopback TCP and the scheduler), so mix2api's figure has a floor
#   litellm  mix2api-bench → LiteLLM proxy (PyPI, pinned in bench/requirements.txt) in mock_response mode
# The paced runs use the same timed, stamped answer everywhere, so chunk_delay (receive − upstream
# send stamp) is the per-chunk delay and its difference to direct is what the gateway adds.
# Gateways run alone on the last core, the upstream and the load generator on core 0 (taskset).
# CPU per request/chunk comes from /proc/<pid>/stat (utime+stime) around each run; memory per stream
# from VmHWM of a fresh mix2api carrying the many-streams run, divided by the most streams it held
# open at once (summarize.py reads that from its access lines).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)

ROUNDS=5
DURATION=10
WARMUP=2
STREAMS=500          # concurrent paced streams for the latency comparison
MANY=5000            # concurrent streams for the capacity run
MANY_DURATION=20
RPS_CONCURRENCY=32   # closed-loop workers for the instant-model throughput runs
# The latency comparison's schedule: 500 streams × 10 chunks/s is what site-sim (on the shared
# core, beside the load generator) sends on time; faster, the baseline itself falls behind.
PACE="ttft_ms=50,chunks=20,gap_ms=100,chunk_bytes=32"
# CPU per streamed chunk: one long answer per stream (10 s, 100 chunks), so per-request work is
# about 1% of the gateway's CPU and the figure is what one more chunk costs.
LONG_PACE="ttft_ms=50,chunks=100,gap_ms=100,chunk_bytes=32"
OUT=""
MANY_ONLY=0
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) ROUNDS=1; DURATION=4; WARMUP=1; MANY=1000; MANY_DURATION=6 ;;
    --rounds) ROUNDS="$2"; shift ;;
    --duration) DURATION="$2"; shift ;;
    --streams) STREAMS="$2"; shift ;;
    --many) MANY="$2"; shift ;;
    --out) OUT="$2"; shift ;;
    --many-only) MANY_ONLY=1; ROUNDS=0 ;;
    *) echo "bench/run.sh: unknown argument '$1' (see the header of this file)" >&2; exit 2 ;;
  esac
  shift
done
OUT=${OUT:-artifacts/bench/$(date -u +%Y%m%d-%H%M%S)}
mkdir -p "$OUT"
LOG="$OUT/run.log"
echo "bench/run.sh: results in $OUT" | tee "$LOG"

# Every background process started here, killed by pid on exit.
PIDS=()
cleanup() {
  for pid in "${PIDS[@]:-}"; do [ -n "$pid" ] && { kill "$pid"; kill -CONT "$pid"; } 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT

# 5,000 client streams plus as many upstream connections through one process need descriptors.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
ulimit -n 65536 2>/dev/null || true
echo "open files: $(ulimit -n)" | tee -a "$LOG"

CORES=$(nproc)
LAST=$((CORES - 1))
if [ "$CORES" -ge 2 ] && command -v taskset >/dev/null; then
  GW_PIN=(taskset -c "$LAST")
  LOAD_PIN=(taskset -c 0)
  echo "pinning: gateways on core $LAST, upstream and load generator on core 0" | tee -a "$LOG"
else
  GW_PIN=(); LOAD_PIN=()
  echo "pinning: not available (cores: $CORES)" | tee -a "$LOG"
fi

# The simulator stands for a site on machines of its own. Sharing core 0 with the load generator,
# it would wait behind the generator's bursts whenever mix2api (on the other core) sends it a
# request, a wait the direct baseline does not have (there the generator blocks just before the
# simulator must run): priority on its core keeps that artefact out of the added first-token time.
if nice -n -10 true 2>/dev/null; then
  SIM_PRIO=(nice -n -10)
  echo "upstream priority: site-sim at nice -10" | tee -a "$LOG"
else
  SIM_PRIO=()
  echo "upstream priority: not available (needs CAP_SYS_NICE); site-sim at the default" | tee -a "$LOG"
fi

BIN=.build-release/release
if [ "${BENCH_SKIP_BUILD:-0}" != "1" ]; then
  echo "building (release, .build-release)…" | tee -a "$LOG"
  swift build -c release --scratch-path .build-release >>"$LOG" 2>&1
fi
for b in mix2api site-sim mix2api-bench relay-floor libMockUpstream.so libSelfHostedSite.so; do
  [ -e "$BIN/$b" ] || { echo "missing $BIN/$b: build first" >&2; exit 1; }
done

LITELLM=1
[ "${BENCH_NO_LITELLM:-0}" = "1" ] && LITELLM=0
if [ "$LITELLM" = "1" ] && ! bench/.venv/bin/litellm --version >/dev/null 2>&1; then
  echo "installing LiteLLM into bench/.venv (bench/requirements.txt)…" | tee -a "$LOG"
  python3 -m venv bench/.venv
  bench/.venv/bin/pip install -q --disable-pip-version-check -r bench/requirements.txt >>"$LOG" 2>&1
fi

# --- helpers ---------------------------------------------------------------------------------

# Waits for "<anything> listening on HOST:PORT" (or uvicorn's line) in $1 and prints the port.
wait_port() {
  local file=$1 pattern=$2 i
  for i in $(seq 1 600); do
    if grep -qE "$pattern" "$file" 2>/dev/null; then
      grep -oE "$pattern" "$file" | head -1 | grep -oE '[0-9]+$'
      return 0
    fi
    sleep 0.1
  done
  echo "no listening line in $file:" >&2; tail -20 "$file" >&2; return 1
}

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }

# utime+stime of a process in clock ticks, and utime alone (its own code, not the kernel's work).
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
user_ticks() { awk '{print $14}' "/proc/$1/stat"; }
hwm_kib() { awk '/VmHWM/ {print $2}' "/proc/$1/status"; }
rss_kib() { awk '/VmRSS/ {print $2}' "/proc/$1/status"; }

start_sim() {
  "${SIM_PRIO[@]}" "${LOAD_PIN[@]}" "$BIN/site-sim" --no-auth --port 0 >"$OUT/site-sim.$1.log" 2>&1 &
  SIM_PID=$!; PIDS+=("$SIM_PID")
  SIM_PORT=$(wait_port "$OUT/site-sim.$1.log" 'listening on [0-9.]+:[0-9]+')
}

# As in production: info level, one access line per request (its cost is in the CPU figures; its
# first-token phases are in the summary).
start_mix2api() {
  BENCH_SITE_BASE="http://127.0.0.1:$SIM_PORT" MIX2API_PLUGINS=bench/plugins.bench.json MIX2API_DRIVER_DIR="$ROOT/$BIN" \
    MIX2API_ENV_FILE= PORT=0 MIX2API_LOG_LEVEL=info UPSTREAM_TIMEOUT_MS=120000 \
    "${GW_PIN[@]}" "$BIN/mix2api" >"$OUT/mix2api.$1.log" 2>&1 &
  M2A_PID=$!; PIDS+=("$M2A_PID")
  M2A_LOG="$OUT/mix2api.$1.log"
  M2A_PORT=$(wait_port "$OUT/mix2api.$1.log" 'listening on [0-9.]+:[0-9]+')
}

# The floor relay forwards to site-sim's port as it is, so clients use site-sim's OpenAI route through it.
start_relay() {
  "${GW_PIN[@]}" "$BIN/relay-floor" --upstream "127.0.0.1:$SIM_PORT" >"$OUT/relay-floor.log" 2>&1 &
  RELAY_PID=$!; PIDS+=("$RELAY_PID")
  RELAY_PORT=$(wait_port "$OUT/relay-floor.log" 'listening on [0-9.]+:[0-9]+')
}

start_litellm() {
  LL_PORT=$(free_port)
  cat >"$OUT/litellm.yaml" <<EOF
model_list:
  - model_name: mock-short
    litellm_params:
      model: openai/mock-short
      api_key: sk-bench-unused
      mock_response: "Hello from the mock upstream."
EOF
  (cd "$OUT" && exec "${GW_PIN[@]}" "$ROOT/bench/.venv/bin/litellm" --config litellm.yaml --host 127.0.0.1 --port "$LL_PORT" --num_workers 1) \
    >"$OUT/litellm.log" 2>&1 &
  LL_PID=$!; PIDS+=("$LL_PID")
  wait_port "$OUT/litellm.log" 'Uvicorn running on http://127.0.0.1:[0-9]+' >/dev/null
  # The proxy process is the python child of the subshell's exec (same pid). Idle, it still wakes
  # every few seconds for ~10 ms of its own background work, on the core mix2api is measured on:
  # it stays stopped except during its own runs.
  kill -STOP "$LL_PID"
}

# bench NAME PID(or -) -- mix2api-bench args… : runs the load, records the gateway's CPU around it,
# and for mix2api the access lines its requests wrote ($OUT/NAME.access.log).
bench() {
  local name=$1 pid=$2; shift 3
  local before=0 after=0 ubefore=0 uafter=0 log_from=0
  [ "$pid" != "-" ] && before=$(cpu_ticks "$pid") && ubefore=$(user_ticks "$pid")
  [ "$pid" = "${M2A_PID:-}" ] && log_from=$(stat -c %s "$M2A_LOG")
  "${LOAD_PIN[@]}" "$BIN/mix2api-bench" --label "$name" --format table --json "$OUT/$name.json" "$@" | tee -a "$LOG"
  [ "$pid" != "-" ] && after=$(cpu_ticks "$pid") && uafter=$(user_ticks "$pid")
  if [ "$pid" = "${M2A_PID:-}" ]; then
    sleep 0.2  # the last answers' lines follow their last bytes
    tail -c +"$((log_from + 1))" "$M2A_LOG" | grep '"msg":"access"' >"$OUT/$name.access.log" || true
  fi
  echo "{\"cpu_ticks\": $((after - before)), \"user_ticks\": $((uafter - ubefore)), \"ticks_per_second\": $(getconf CLK_TCK), \"rss_kib\": $([ "$pid" != "-" ] && rss_kib "$pid" || echo 0), \"hwm_kib\": $([ "$pid" != "-" ] && hwm_kib "$pid" || echo 0)}" >"$OUT/$name.proc.json"
  echo | tee -a "$LOG"
}

# --- the interleaved rounds -------------------------------------------------------------------

{
  echo "machine: $(nproc) cores, $(awk '/MemTotal/ {print $2}' /proc/meminfo) KiB; load before start: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "started: $(date -u +%FT%TZ); rounds $ROUNDS, $DURATION s each (+$WARMUP s warm-up), $STREAMS paced streams, pace $PACE"
} | tee -a "$LOG" | tee "$OUT/conditions.txt"

start_sim main
start_mix2api main
[ "$MANY_ONLY" = "0" ] && start_relay
[ "$LITELLM" = "1" ] && [ "$MANY_ONLY" = "0" ] && start_litellm
SIM="http://127.0.0.1:$SIM_PORT/v1"
M2A="http://127.0.0.1:$M2A_PORT/v1"
COMMON=(--duration "$DURATION" --warmup "$WARMUP" --timeout-ms 60000)
# One tool offered, as IDE agents do: the gateways' tool-call detection reads every delta.
PACED=(--concurrency "$STREAMS" --ramp 1 --pace "$PACE" --with-tool)
LONG=(--duration 1 --warmup 0 --timeout-ms 60000 --concurrency "$STREAMS" --ramp 1 --pace "$LONG_PACE" --with-tool)
INSTANT=(--model mock-short --expect-content "Hello from the mock upstream." --concurrency "$RPS_CONCURRENCY")

# A fresh process's first minute is not its steady state (its upstream connections, heap and caches
# are still growing; round 1 was often the slow one): one paced run through each path first,
# counted nowhere.
if [ "$ROUNDS" -gt 0 ]; then
  echo "=== warm-up (not counted) ===" | tee -a "$LOG"
  for model in bench-site mock-paced; do
    "${LOAD_PIN[@]}" "$BIN/mix2api-bench" --label "warm-up $model" --format table --url "$M2A" --model "$model" \
      --duration "$DURATION" --warmup 0 --timeout-ms 60000 "${PACED[@]}" >>"$OUT/warm-up.log" 2>&1
  done
fi

for round in $(seq 1 "$ROUNDS"); do  # (none with --many-only)
  echo "=== round $round of $ROUNDS ===" | tee -a "$LOG"
  bench "paced-direct.r$round" "$SIM_PID" -- --url "$SIM" --model bench-site "${COMMON[@]}" "${PACED[@]}"
  bench "paced-site.r$round" "$M2A_PID" -- --url "$M2A" --model bench-site "${COMMON[@]}" "${PACED[@]}"
  bench "paced-mock.r$round" "$M2A_PID" -- --url "$M2A" --model mock-paced "${COMMON[@]}" "${PACED[@]}"
  # One long answer per stream (requests start during 1 s only; the answers run 10 s).
  bench "long-direct.r$round" "$SIM_PID" -- --url "$SIM" --model bench-site "${LONG[@]}"
  bench "long-site.r$round" "$M2A_PID" -- --url "$M2A" --model bench-site "${LONG[@]}"
  bench "long-relay.r$round" "$RELAY_PID" -- --url "http://127.0.0.1:$RELAY_PORT/v1" --model bench-site "${LONG[@]}"
  bench "instant-mix2api.r$round" "$M2A_PID" -- --url "$M2A" "${COMMON[@]}" "${INSTANT[@]}"
  bench "instant-json-mix2api.r$round" "$M2A_PID" -- --url "$M2A" --no-stream "${COMMON[@]}" "${INSTANT[@]}"
  if [ "$LITELLM" = "1" ]; then
    kill -CONT "$LL_PID"
    bench "instant-litellm.r$round" "$LL_PID" -- --url "http://127.0.0.1:$LL_PORT/v1" --api-key sk-bench "${COMMON[@]}" "${INSTANT[@]}"
    bench "instant-json-litellm.r$round" "$LL_PID" -- --url "http://127.0.0.1:$LL_PORT/v1" --api-key sk-bench --no-stream "${COMMON[@]}" "${INSTANT[@]}"
    kill -STOP "$LL_PID"
  fi
done

# --- many streams: a fresh mix2api so VmHWM belongs to this run ---------------------------------

kill "$M2A_PID" 2>/dev/null || true
start_mix2api many
M2A="http://127.0.0.1:$M2A_PORT/v1"
IDLE_RSS=$(rss_kib "$M2A_PID")
echo "{\"idle_rss_kib\": $IDLE_RSS, \"streams\": $MANY}" >"$OUT/many.idle.json"
MANY_RAMP=$((MANY / 1000 + 1))
# Every answer stays silent for 8 s first, longer than the ramp, so all the workers' streams are
# open in mix2api at once before any chunk flows; then 100 chunks at a 20 ms gap, which all
# 5,000 together (250,000 chunks/s) exceed what this machine's two cores can carry, so the
# streams slow down but stay open. Without the silence the first answers ended before the last
# began, and mix2api never held more than 1,200-4,250 at once. The summary reads the real peak
# from the access lines.
bench "many-site" "$M2A_PID" -- --url "$M2A" --model bench-site --duration "$MANY_DURATION" --warmup 0 --timeout-ms 300000 \
  --concurrency "$MANY" --ramp "$MANY_RAMP" --pace "ttft_ms=$((MANY_RAMP * 1000 + 2000)),chunks=100,gap_ms=20,chunk_bytes=32"

echo "finished: $(date -u +%FT%TZ); load at the end: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$LOG" | tee -a "$OUT/conditions.txt"
python3 bench/summarize.py "$OUT" | tee "$OUT/summary.md"
