#!/usr/bin/env bash
# Instruction counts (valgrind --tool=callgrind) for the hot paths and for mix2api itself: the
# figures optimization decisions are made on, because they repeat on a busy machine where wall time
# does not (README "Performance"). Loopback only, bounded: a few hundred requests.
#
#   bash bench/profile.sh                 # everything, into artifacts/profile/<time>/
#   bash bench/profile.sh micro           # only the hot-path loops (Benchmarks/Profile)
#   bash bench/profile.sh server          # only mix2api under load (site driver and mock driver)
#   BENCH_SKIP_BUILD=1 bash bench/profile.sh
#
# Per unit = (Ir of a run with N units − Ir of the same run with 0 or 1 unit) / N, so start-up and
# per-process costs cancel out. callgrind_annotate output for each server run is kept beside it.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
WHAT=${1:-all}
OUT=${PROFILE_OUT:-artifacts/profile/$(date -u +%Y%m%d-%H%M%S)}
mkdir -p "$OUT"
BIN=.build-release/release
command -v valgrind >/dev/null || { echo "valgrind is needed (apt-get install valgrind)" >&2; exit 1; }
if [ "${BENCH_SKIP_BUILD:-0}" != "1" ]; then
  swift build -c release --scratch-path .build-release >"$OUT/build.log" 2>&1
fi

PIDS=()
cleanup() { for pid in "${PIDS[@]:-}"; do [ -n "$pid" ] && kill "$pid" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT

# Total instructions of a callgrind output file.
total_ir() { awk '/^summary:/ {print $2}' "$1"; }

# --- micro: one hot path in a loop -------------------------------------------------------------
micro() {
  local workload=$1 n=$2 unit=$3
  valgrind --tool=callgrind --callgrind-out-file="$OUT/micro.$workload.0.out" "$BIN/HotPathsProfile" "$workload" 0 >/dev/null 2>&1
  valgrind --tool=callgrind --callgrind-out-file="$OUT/micro.$workload.$n.out" "$BIN/HotPathsProfile" "$workload" "$n" >/dev/null 2>&1
  local a b
  a=$(total_ir "$OUT/micro.$workload.0.out"); b=$(total_ir "$OUT/micro.$workload.$n.out")
  printf '| %s | %s | %.0f |\n' "$workload" "$unit" "$(echo "($b - $a) / $n" | bc -l)" | tee -a "$OUT/summary.md"
}

if [ "$WHAT" = all ] || [ "$WHAT" = micro ]; then
  echo "| hot path | per | instructions |" | tee -a "$OUT/summary.md"
  echo "|---|---|---|" | tee -a "$OUT/summary.md"
  micro parser 200 "1.8 KB <tool_calls> block"
  micro detector 200 "answer with a call (265 deltas)"
  micro detector-plain 200 "200 plain deltas"
  micro site-frame 20000 "site text-delta frame (SSE read + decode + translate)"
fi

# --- server: mix2api under valgrind, a fixed number of requests ---------------------------------
wait_port() {
  local file=$1 i
  for i in $(seq 1 1200); do
    if grep -qE 'listening on [0-9.]+:[0-9]+' "$file" 2>/dev/null; then grep -oE 'listening on [0-9.]+:[0-9]+' "$file" | head -1 | grep -oE '[0-9]+$'; return 0; fi
    sleep 0.1
  done
  echo "no listening line in $file" >&2; tail "$file" >&2; return 1
}

# server NAME MODEL REQUESTS CHUNKS [bench args…]: Ir of mix2api serving REQUESTS answers of CHUNKS chunks.
server() {
  local name=$1 model=$2 requests=$3 chunks=$4; shift 4
  BENCH_SITE_BASE="http://127.0.0.1:$SIM_PORT" MIX2API_PLUGINS=bench/plugins.bench.json MIX2API_DRIVER_DIR="$ROOT/$BIN" \
    MIX2API_ENV_FILE= PORT=0 MIX2API_LOG_LEVEL=error \
    valgrind --tool=callgrind --callgrind-out-file="$OUT/server.$name.out" "$BIN/mix2api" >"$OUT/server.$name.log" 2>&1 &
  local pid=$!
  PIDS+=("$pid")
  local port
  port=$(wait_port "$OUT/server.$name.log")
  "$BIN/mix2api-bench" --url "http://127.0.0.1:$port/v1" --model "$model" --concurrency 4 --warmup 0 --duration 600 \
    --requests "$requests" --pace "ttft_ms=0,chunks=$chunks,gap_ms=0,chunk_bytes=32" --format none --json "$OUT/server.$name.bench.json" "$@"
  kill -INT "$pid"
  wait "$pid" 2>/dev/null || true
  callgrind_annotate "$OUT/server.$name.out" 2>/dev/null | head -60 >"$OUT/server.$name.annotate.txt" || true
  total_ir "$OUT/server.$name.out"
}

if [ "$WHAT" = all ] || [ "$WHAT" = server ]; then
  "$BIN/site-sim" --no-auth --port 0 >"$OUT/site-sim.log" 2>&1 &
  PIDS+=("$!")
  SIM_PORT=$(wait_port "$OUT/site-sim.log")
  N=200
  echo | tee -a "$OUT/summary.md"
  echo "| mix2api path | instructions per request (1 chunk) | per extra chunk | per request, JSON |" | tee -a "$OUT/summary.md"
  echo "|---|---|---|---|" | tee -a "$OUT/summary.md"
  for path in site:bench-site mock:mock-paced; do
    name=${path%%:*}; model=${path#*:}
    idle=$(server "$name-idle" "$model" 1 1)
    one=$(server "$name-1" "$model" "$((N + 1))" 1)
    many=$(server "$name-41" "$model" "$((N + 1))" 41)
    json=$(server "$name-json" "$model" "$((N + 1))" 1 --no-stream)
    per_request=$(echo "($one - $idle) / $N" | bc -l)
    per_chunk=$(echo "($many - $one) / ($N * 40)" | bc -l)
    per_json=$(echo "($json - $idle) / $N" | bc -l)
    printf '| %s | %.0f | %.0f | %.0f |\n' "$name" "$per_request" "$per_chunk" "$per_json" | tee -a "$OUT/summary.md"
  done
  # The same per-chunk path with a tool offered (the tool-call detector on every delta).
  one=$(server "site-tool-1" bench-site "$((N + 1))" 1 --with-tool)
  many=$(server "site-tool-41" bench-site "$((N + 1))" 41 --with-tool)
  printf '| site, tool offered | – | %.0f | – |\n' "$(echo "($many - $one) / ($N * 40)" | bc -l)" | tee -a "$OUT/summary.md"
fi
echo "profile in $OUT"
