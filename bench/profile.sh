#!/usr/bin/env bash
# Instruction counts (valgrind --tool=callgrind) for the hot paths and for mix2api itself: the
# figures optimization decisions are made on, because they repeat on a busy machine where wall time
# does not (README "Performance"). Loopback only, bounded: a few hundred requests.
#
#   bash bench/profile.sh                 # into artifacts/profile/<time>/
#   BENCH_SKIP_BUILD=1 bash bench/profile.sh
#
# Per unit = (Ir of a run with N units − Ir of the same run with 0 units) / N, so start-up costs
# cancel out; callgrind_annotate of each run is kept beside it. mix2api itself cannot run under
# valgrind 3.19 here (it crashes in libdispatch's main-thread sigsuspend, even with --tool=none), so
# whole-process costs come from bench/run.sh's /proc CPU figures instead.
set -euo pipefail
shopt -s inherit_errexit
cd "$(dirname "$0")/.."
ROOT=$(pwd)
OUT=${PROFILE_OUT:-artifacts/profile/$(date -u +%Y%m%d-%H%M%S)}
mkdir -p "$OUT"
BIN=.build-release/release
command -v valgrind >/dev/null || { echo "valgrind is needed (apt-get install valgrind)" >&2; exit 1; }
if [ "${BENCH_SKIP_BUILD:-0}" != "1" ]; then
  swift build -c release --scratch-path .build-release >"$OUT/build.log" 2>&1
fi

# valgrind 3.19 cannot read the DWARF 5 debug info of the larger release binaries: profile copies
# without it (symbols stay, so functions keep their names).
PBIN="$OUT/bin"
mkdir -p "$PBIN"
for f in HotPathsProfile; do
  objcopy --strip-debug "$BIN/$f" "$PBIN/$f"
done

PIDS=()
cleanup() { for pid in "${PIDS[@]:-}"; do [ -n "$pid" ] && kill "$pid" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT

# Total instructions of a callgrind output file.
total_ir() { awk '/^summary:/ {print $2}' "$1"; }

# --- micro: one hot path in a loop -------------------------------------------------------------
micro() {
  local workload=$1 n=$2 unit=$3
  valgrind --tool=callgrind --callgrind-out-file="$OUT/micro.$workload.0.out" "$PBIN/HotPathsProfile" "$workload" 0 >/dev/null 2>&1
  valgrind --tool=callgrind --callgrind-out-file="$OUT/micro.$workload.$n.out" "$PBIN/HotPathsProfile" "$workload" "$n" >/dev/null 2>&1
  local a b
  a=$(total_ir "$OUT/micro.$workload.0.out"); b=$(total_ir "$OUT/micro.$workload.$n.out")
  printf '| %s | %s | %.0f |\n' "$workload" "$unit" "$(echo "($b - $a) / $n" | bc -l)" | tee -a "$OUT/summary.md"
  callgrind_annotate "$OUT/micro.$workload.$n.out" 2>/dev/null | head -40 >"$OUT/micro.$workload.annotate.txt" || true
}

echo "| hot path | per | instructions |" | tee -a "$OUT/summary.md"
echo "|---|---|---|" | tee -a "$OUT/summary.md"
micro parser 200 "1.8 KB <tool_calls> block"
micro detector 200 "answer with a call (265 deltas)"
micro detector-plain 200 "200 plain deltas"
micro site-frame 20000 "site text-delta frame (SSE read + decode + translate)"
micro openai-encode 20000 "OpenAI chunk for one text delta"
micro anthropic-encode 20000 "Anthropic content_block_delta for one text delta"

echo "profile in $OUT"
