#!/usr/bin/env bash
# npm's oauth2-mock-server, a standards OAuth2/OpenID Connect server that no one here wrote,
# for the end-to-end tests (tests/e2e/helpers/oauth_servers/ runs it on 127.0.0.1 through
# tests/e2e/fixtures/oauth2-mock-server.mjs). Installed into target/oauth2-mock-server/ at a
# pinned version; run again, it does nothing. `make test` runs it.
#
# Where Node.js or npm cannot be had, it says so loudly and the tests that need the server
# skip; under CI=true that is a failure instead (and those tests fail too).
set -euo pipefail
cd "$(dirname "$0")/.."

# 8.2.3: the newest release that still runs on Node.js 20 (this machine's); 9.x wants 22.12.
version="8.2.3"
prefix="target/oauth2-mock-server"
package="$prefix/node_modules/oauth2-mock-server/package.json"

skip_what="installing oauth2-mock-server for the OAuth2 tests"
. scripts/lib/skip.sh

if { ! command -v node || ! command -v npm; } >/dev/null 2>&1 \
  && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "installing Node.js and npm from Debian's packages"
  apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null 2>&1 \
    || { apt-get update -qq >/dev/null 2>&1 \
      && apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null 2>&1; } \
    || true
fi
command -v node >/dev/null && command -v npm >/dev/null \
  || skip "node and npm are not installed (apt-get install nodejs npm)"

# The release's own bounds (package.json "engines": ^20.19 || ^22.12 || ^24).
node_version="$(node --version)"
if ! node -e '
  const [major, minor] = process.versions.node.split(".").map(Number);
  process.exit((major === 20 && minor >= 19) || (major === 22 && minor >= 12) || major === 24 ? 0 : 1);
'; then
  skip "oauth2-mock-server $version needs Node.js ^20.19, ^22.12 or ^24, not $node_version"
fi

installed="$(node -p "require('./$package').version" 2>/dev/null || true)"
if [ "$installed" = "$version" ]; then
  exit 0
fi
mkdir -p "$prefix"
npm install --prefix "$prefix" --save-exact --no-audit --no-fund --silent \
  "oauth2-mock-server@$version"
installed="$(node -p "require('./$package').version")"
[ "$installed" = "$version" ] || { echo "oauth2-mock-server: installed $installed, wanted $version" >&2; exit 1; }
echo "oauth2-mock-server $version installed in $prefix"
