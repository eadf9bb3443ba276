#!/usr/bin/env bash
# Outside judges of the served OpenAPI document, none written here, for
# tests/e2e/openapi_judges.rs: npm's Redocly CLI (its recommended ruleset) and
# openapi-typescript, PyPI's openapi-spec-validator and openapi-python-client (with ruff,
# which it formats its output with); and what the TypeScript client is checked and run
# with (openapi-fetch, TypeScript's compiler; tests/e2e/clients.rs). Installed into
# target/openapi-judges/ at pinned versions; run again, it does nothing. `make test` and
# `make clients` run it.
#
# Where Node.js, npm or Python's venv cannot be had, it says so loudly and the test skips;
# under CI=true that is a failure instead (and the test fails too).
set -euo pipefail
cd "$(dirname "$0")/.."

redocly_version="2.77.0"
openapi_typescript_version="7.13.0"
openapi_fetch_version="0.17.0"
typescript_version="5.9.3"
spec_validator_version="0.9.0"
python_client_version="0.29.1"
ruff_version="0.17.5"
prefix="target/openapi-judges"

skip_what="installing the OpenAPI judges (Redocly, openapi-typescript, openapi-spec-validator, openapi-python-client)"
. scripts/lib/skip.sh

command -v node >/dev/null && command -v npm >/dev/null \
  || skip "node and npm are not installed (apt-get install nodejs npm)"
command -v python3 >/dev/null || skip "python3 is not installed"

npm_version() {
  node -p "require('./$prefix/node_modules/$1/package.json').version" 2>/dev/null || true
}
if [ "$(npm_version @redocly/cli)" != "$redocly_version" ] \
  || [ "$(npm_version openapi-typescript)" != "$openapi_typescript_version" ] \
  || [ "$(npm_version openapi-fetch)" != "$openapi_fetch_version" ] \
  || [ "$(npm_version typescript)" != "$typescript_version" ]; then
  mkdir -p "$prefix"
  npm install --prefix "$prefix" --save-exact --no-audit --no-fund --silent \
    "@redocly/cli@$redocly_version" "openapi-typescript@$openapi_typescript_version" \
    "openapi-fetch@$openapi_fetch_version" "typescript@$typescript_version"
  echo "Redocly CLI $redocly_version, openapi-typescript $openapi_typescript_version," \
    "openapi-fetch $openapi_fetch_version and TypeScript $typescript_version installed in $prefix"
fi

venv="$prefix/venv"
wanted="$spec_validator_version $python_client_version $ruff_version"
installed="$("$venv/bin/python" -c '
import importlib.metadata as m
print(m.version("openapi-spec-validator"), m.version("openapi-python-client"), m.version("ruff"))
' 2>/dev/null || true)"
if [ "$installed" != "$wanted" ]; then
  rm -rf "$venv"
  python3 -m venv "$venv" || skip "python3 cannot make a virtual environment (apt-get install python3-venv)"
  "$venv/bin/pip" install --quiet --disable-pip-version-check --no-input \
    "openapi-spec-validator==$spec_validator_version" \
    "openapi-python-client==$python_client_version" "ruff==$ruff_version"
  echo "openapi-spec-validator $spec_validator_version, openapi-python-client $python_client_version and ruff $ruff_version installed in $venv"
fi
