#!/usr/bin/env bash
# The web console in headless Chromium (part of `make test`): Debian's `chromium`, driven
# from Node by playwright-core (which downloads no browser), against the real server on a
# random port. Screenshots go to target/screenshots/.
#
# Where Chromium or Node cannot be had, the test is skipped loudly; under CI=true that is
# a failure instead.
set -euo pipefail
cd "$(dirname "$0")/.."

skip_what="the web console browser tests"
. scripts/lib/skip.sh

chromium="${CHROMIUM:-$(command -v chromium || true)}"
if [ -z "$chromium" ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "installing Debian's chromium"
  apt-get install -y -qq --no-install-recommends chromium >/dev/null 2>&1 \
    || { apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq --no-install-recommends chromium >/dev/null 2>&1; } \
    || true
  chromium="$(command -v chromium || true)"
fi
[ -n "$chromium" ] || skip "chromium is not installed (apt-get install chromium)"
command -v node >/dev/null && command -v npm >/dev/null || skip "node and npm are not installed"

if [ ! -d tests/console/node_modules/playwright-core ]; then
  npm ci --prefix tests/console --no-audit --no-fund --silent
fi

cargo build -q -p vault-server --bin vault-server
bin="$PWD/target/debug/vault-server"
run="$(mktemp -d)"
. scripts/lib/serve.sh
trap 'stop_server; rm -rf "$run"' EXIT

# The test proxies a request to its own upstream on 127.0.0.1 for the request log, and
# waits for an expiry reminder to be made and tried: computed every second here.
export VAULT_PROXY_ALLOW_PRIVATE_NETWORKS="true"
export VAULT_WEBHOOK_REMINDER_INTERVAL_SECONDS="1"
start_server "$bin" "$run" console

mkdir -p target/screenshots
status=0
VAULT_BASE="$base" CONSOLE_ADMIN_KEY="$key" CHROMIUM="$chromium" \
  SCREENSHOTS="$PWD/target/screenshots" SERVER_LOG="$run/server.err" \
  node tests/console/console.test.mjs || status=$?
exit $status
