#!/usr/bin/env bash
# Generates the API's client libraries from its OpenAPI document (what `vault-server
# openapi` prints, and GET /openapi.json serves) into DIR (default clients/): DIR/python
# with openapi-python-client, and DIR/typescript/src/schema.d.ts with openapi-typescript
# (the rest of DIR/typescript is written by hand). `make clients` runs it; tests/e2e/clients.rs runs it into a
# temporary directory and fails when the checked-in clients differ (stale).
# The generators are the pinned ones of scripts/install-openapi-judges.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-clients}"
judges="$PWD/target/openapi-judges"
[ -x "$judges/venv/bin/openapi-python-client" ] \
  || { echo "the generators are missing: run scripts/install-openapi-judges.sh" >&2; exit 1; }

document="$(mktemp)"
trap 'rm -f "$document"' EXIT
# VAULT_SERVER: a vault-server binary already built (the tests'), else cargo builds it.
if [ -n "${VAULT_SERVER:-}" ]; then
  "$VAULT_SERVER" openapi > "$document"
else
  cargo run --quiet -p vault-server --bin vault-server -- openapi > "$document"
fi

rm -rf "$out/python"
# ruff (which formats what the generator writes) is in the generator's own venv.
PATH="$judges/venv/bin:$PATH" openapi-python-client generate --path "$document" \
  --output-path "$out/python" --meta uv --config clients/openapi-python-client.yaml >/dev/null
rm -rf "$out/python/.ruff_cache"
mkdir -p "$out/typescript/src"
"$judges/node_modules/.bin/openapi-typescript" "$document" \
  -o "$out/typescript/src/schema.d.ts" >/dev/null 2>&1
echo "generated $out/python and $out/typescript/src/schema.d.ts"
