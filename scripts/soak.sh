#!/usr/bin/env bash
# `make soak`: tests/e2e/soak.rs (a mixed load on SQLite and PostgreSQL for SOAK_SECONDS, default
# 600), then the memory and load plot and the summary under target/soak/ (matplotlib from PyPI
# into target/soak-venv). The plot is drawn even when the soak fails: it is the evidence.
# The summary opens with a joint table: throughput in the first and last quarter of the run
# and their ratio (target at least 0.90; a WARNING below it, never a failure), and memory.
#
#   SOAK_SECONDS  how long the load runs (both databases at once); CI runs 60
set -euo pipefail
cd "$(dirname "$0")/.."

out="$PWD/target/soak"
venv="target/soak-venv"
MATPLOTLIB_VERSION="3.11.2"
rm -rf "$out" && mkdir -p "$out"

if ! "$venv/bin/python" -c "import matplotlib, sys; sys.exit(matplotlib.__version__ != '$MATPLOTLIB_VERSION')" 2>/dev/null; then
  echo "installing matplotlib $MATPLOTLIB_VERSION into $venv"
  python3 -m venv "$venv" || {
    # Debian splits venv support into its own package.
    apt-get install -y -qq python3-venv >/dev/null && python3 -m venv "$venv"
  }
  "$venv/bin/pip" install -q --disable-pip-version-check "matplotlib==$MATPLOTLIB_VERSION"
fi

# PostgreSQL as it runs in production: with autovacuum. A server configured without it
# (this project's CI machines turn it off) lets the dead rows of every credential update
# and delete pile up, so reads slow down as the run goes on and the soak would measure
# that instead of the vault. Turned on for the run with ALTER SYSTEM, and reset after.
pg_url="${TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
if [ "$(psql "$pg_url" -Atc 'SHOW autovacuum' 2>/dev/null)" = "off" ]; then
  echo "soak: turning PostgreSQL's autovacuum on for the run (it is off on this server)"
  psql "$pg_url" -qAtc "ALTER SYSTEM SET autovacuum = on" -c "SELECT pg_reload_conf()" >/dev/null
  trap 'psql "$pg_url" -qAtc "ALTER SYSTEM RESET autovacuum" -c "SELECT pg_reload_conf()" >/dev/null' EXIT
fi

echo "soak: ${SOAK_SECONDS:-600} s on SQLite and PostgreSQL at once (summary in $out/summary.md)"
status=0
if command -v cargo-nextest >/dev/null 2>&1; then
  SOAK_DIR="$out" cargo nextest run --workspace --run-ignored only -E 'binary(e2e) & test(/^soak::/)' \
    --no-capture || status=$?
else
  SOAK_DIR="$out" cargo test -p vault-server --test e2e -- soak:: --ignored --nocapture || status=$?
fi
"$venv/bin/python" scripts/soak_plot.py "$out" || status=1
[ -f "$out/summary.md" ] && cat "$out/summary.md"
exit "$status"
