#!/usr/bin/env bash
# `make fuzz-api`: schemathesis generates requests from the served OpenAPI document and
# checks every response: no 5xx, and status, content type and body as documented.
#
#   FUZZ_SECONDS  time budget of the schemathesis run (default 300; CI runs 60)
#
# It starts its own server (debug build, fresh SQLite file, random port) with a fresh
# organization's admin key, so it never touches ./data.
set -euo pipefail
cd "$(dirname "$0")/.."

SECONDS_BUDGET="${FUZZ_SECONDS:-300}"
SCHEMATHESIS_VERSION="4.32.5"
work="target/fuzz-api"
venv="$work/venv"
mkdir -p "$work"

if ! "$venv/bin/schemathesis" --version 2>/dev/null | grep -q "$SCHEMATHESIS_VERSION"; then
  echo "installing schemathesis $SCHEMATHESIS_VERSION into $venv"
  python3 -m venv "$venv" || {
    # Debian splits venv support into its own package.
    apt-get install -y -qq python3-venv >/dev/null && python3 -m venv "$venv"
  }
  "$venv/bin/pip" install -q --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION"
fi

cargo build -q -p vault-server --bin vault-server
bin="$PWD/target/debug/vault-server"

run="$(mktemp -d "$PWD/$work/run.XXXXXX")"
. scripts/lib/serve.sh
trap stop_server EXIT

export VAULT_LOG_FORMAT="human"
# Generous enough that the fuzzer itself is not the thing being rate limited.
export VAULT_RATE_LIMIT_PER_SECOND="${VAULT_RATE_LIMIT_PER_SECOND:-10000}"
# Its made-up connect links (GET /oauth/callback) count as failed authentications of
# 127.0.0.1: with the limit on, they would soon turn every other request into a 429.
export VAULT_AUTH_FAILURE_LIMIT_PER_MINUTE="${VAULT_AUTH_FAILURE_LIMIT_PER_MINUTE:-0}"
start_server "$bin" "$run" fuzz
echo "fuzzing $base for ${SECONDS_BUDGET}s (server log: $run/server.err)"

# Left out, with the reason:
# - POST /credentials/{id}/proxy answers with the upstream's own status; with no
#   reachable upstream here its 502/504 gateway errors are correct answers, not faults
#   (tests/e2e/usage.rs covers it against real local upstreams).
# - DELETE /access-keys/{id}: the stateful phase would revoke the fuzzer's own key and
#   turn the rest of the run into 401s (tests/e2e/api.rs covers revocation).
# One worker: with two, hypothesis once failed inside itself ("AST constructor recursion
# depth mismatch", parsing its own sources from two threads), which would fail a good run.
status=0
# Run from the work directory: schemathesis keeps its state (.hypothesis, .schemathesis) there.
cd "$work"
venv="$PWD/venv"
"$venv/bin/schemathesis" run "$base/openapi.json" \
  --header "Authorization: Bearer $key" \
  --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance \
  --exclude-operation-id proxyRequest \
  --exclude-operation-id revokeAccessKey \
  --max-time "$SECONDS_BUDGET" \
  --workers 1 \
  --report junit --report-dir report \
  --no-color || status=$?

if grep -q "panicked" "$run/server.err"; then
  echo "the server panicked during the run:"; grep -A5 "panicked" "$run/server.err"; status=1
fi
exit $status
