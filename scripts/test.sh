#!/usr/bin/env bash
# Builds everything and runs every test: the Swift unit/integration tests, then the end-to-end
# suite (Tests/e2e, pytest) against the real binary on loopback.
#
#   bash scripts/test.sh              # from anywhere; works from the repository root
#   PYTEST_ARGS="-k sdk" bash scripts/test.sh
#   SKIP_SWIFT_TESTS=1 bash scripts/test.sh   # build, then e2e only
#
# Exits non-zero if any step fails (every test step still runs, so one report shows all).
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON="${PYTHON:-python3}"
VENV=".venv"
failed=()

section() {
  printf '\n==================== %s ====================\n' "$*"
}

section "swift build --build-tests"
swift build --build-tests

if [ "${SKIP_SWIFT_TESTS:-0}" = "1" ]; then
  section "swift test (skipped: SKIP_SWIFT_TESTS=1)"
else
  section "swift test"
  if ! swift test --skip-build; then
    failed+=("swift test")
  fi
fi

section "python virtualenv ($VENV)"
if ! "$VENV/bin/python" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' 2>/dev/null; then
  rm -rf "$VENV"
  "$PYTHON" -m venv "$VENV"
fi
"$VENV/bin/python" -m pip install -q --disable-pip-version-check -r Tests/e2e/requirements.txt
"$VENV/bin/python" --version
"$VENV/bin/python" -m pip list --disable-pip-version-check 2>/dev/null | grep -Ei '^(pytest|httpx|openai|anthropic|claude-agent-sdk) ' || true

section "end-to-end tests (Tests/e2e)"
# shellcheck disable=SC2086 # PYTEST_ARGS is split on purpose
if ! "$VENV/bin/python" -m pytest Tests/e2e -q ${PYTEST_ARGS:-}; then
  failed+=("e2e tests")
fi

section "summary"
if [ "${#failed[@]}" -gt 0 ]; then
  printf 'FAILED: %s\n' "${failed[@]}"
  exit 1
fi
echo "all tests passed"
