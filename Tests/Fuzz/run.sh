#!/usr/bin/env bash
# Fuzzes the site stream path (Tests/Fuzz/SiteStreamFuzz.swift) with libFuzzer + AddressSanitizer.
# Not part of the default test command: run it by hand or in a nightly job.
#
#   Tests/Fuzz/run.sh            # 60 seconds
#   FUZZ_SECONDS=600 Tests/Fuzz/run.sh
#   Tests/Fuzz/run.sh crash-…    # reproduce one saved input
#
# The harness, Sources/JSONCore, Sources/Digest and Sources/SiteProtocol are compiled as ONE
# module (their `import JSONCore` / `import Digest` lines removed from copies), so no SwiftPM
# build is involved. Seeds are the
# recorded transcripts in Tests/HostTests/Fixtures/site; new corpus entries go to a scratch
# directory, never into the fixtures. Crash inputs land in $FUZZ_WORK (printed at the end).
set -euo pipefail

root="$(cd "$(dirname "$0")/../.." && pwd)"
seconds="${FUZZ_SECONDS:-60}"
work="${FUZZ_WORK:-$root/.build/site-fuzz}"
mkdir -p "$work/src" "$work/corpus" "$work/seeds" "$work/artifacts"
rm -f "$work/src/"*.swift

for f in "$root"/Sources/JSONCore/*.swift "$root"/Sources/Digest/*.swift "$root"/Sources/SiteProtocol/*.swift; do
    sed -e '/^import JSONCore$/d' -e '/^import Digest$/d' "$f" > "$work/src/$(basename "$(dirname "$f")")-$(basename "$f")"
done
cp "$root/Tests/Fuzz/SiteStreamFuzz.swift" "$work/src/"
cp "$root"/Tests/HostTests/Fixtures/site/*.site.sse "$work/seeds/"

echo "compiling the fuzzer…"
swiftc -sanitize=fuzzer,address -parse-as-library -O -g -module-name SiteFuzz \
    "$work"/src/*.swift -o "$work/site-stream-fuzz" 2>&1 | grep -v "ld.gold: warning: Cannot export local symbol" || true
test -x "$work/site-stream-fuzz"

if [ $# -gt 0 ]; then
    exec "$work/site-stream-fuzz" "$@"
fi

cd "$work/artifacts"
echo "fuzzing for ${seconds}s (corpus: $work/corpus, seeds: $work/seeds)…"
set +e
"$work/site-stream-fuzz" -max_total_time="$seconds" -max_len=8192 -timeout=10 -rss_limit_mb=2048 \
    -print_final_stats=1 "$work/corpus" "$work/seeds"
status=$?
set -e
if [ $status -ne 0 ]; then
    echo "FUZZER FOUND A PROBLEM (exit $status); inputs in $work/artifacts:" >&2
    ls -la "$work/artifacts" >&2
fi
exit $status
