# Sourced by the scripts that drive a real server (fuzz-api.sh, test-console.sh):
# start_server BIN RUN_DIR ORG starts BIN on a fresh SQLite file in RUN_DIR with a fresh
# key, on a random port of 127.0.0.1, with the caller's VAULT_* variables on top; it sets
#   key         the admin access key of the organization ORG, made by `bootstrap`
#   base        the server's http://127.0.0.1:PORT
#   server_pid  for stop_server (which the caller's EXIT trap should run)
# The server's output goes to RUN_DIR/server.out and RUN_DIR/server.err.

start_server() {
  local bin="$1" run="$2" org="$3"
  export ENCRYPTION_KEY="$("$bin" keys generate)"
  export DATABASE_URL="sqlite://$run/vault.db"
  export VAULT_BIND="127.0.0.1:0"
  export VAULT_DEV_MODE="false"
  key="$(cd "$run" && "$bin" bootstrap --org "$org" 2>/dev/null)"
  (cd "$run" && exec "$bin" serve) >"$run/server.out" 2>"$run/server.err" &
  server_pid=$!
  base=""
  for _ in $(seq 1 100); do
    base="$(grep -o 'vault listening on http://[0-9.:]*' "$run/server.err" | head -1 | sed 's/vault listening on //')" || true
    [ -n "$base" ] && return 0
    sleep 0.1
  done
  echo "server did not start:" >&2
  cat "$run/server.err" >&2
  return 1
}

stop_server() {
  [ -n "${server_pid:-}" ] && kill "$server_pid" 2>/dev/null || true
  wait 2>/dev/null || true
}
