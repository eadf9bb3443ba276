#!/usr/bin/env bash
# PyPI's PyJWT with its `crypto` extra, a JWT verifier that no one here wrote, for the e2e
# tests that have it check the client assertions and JWT-bearer grants the vault's oauth2
# credentials sign (tests/e2e/helpers/assertion_token_endpoint.py). Installed into
# target/py-jwt/ at pinned versions; run again, it does nothing. `make test` runs it.
#
# Where Python 3 or pip cannot be had, it says so loudly and those tests skip; under
# CI=true that is a failure instead (and the tests fail too).
set -euo pipefail
cd "$(dirname "$0")/.."

version="2.15.1"
# What `PyJWT[crypto]` pulls in, pinned too: cryptography (RSA, EC, EdDSA), and its cffi
# and cffi's pycparser.
cryptography_version="51.0.1"
cffi_version="2.1.1"
pycparser_version="3.12"
prefix="target/py-jwt"

skip_what="installing PyJWT for the oauth2 client assertion and JWT-bearer tests"
. scripts/lib/skip.sh

command -v python3 >/dev/null 2>&1 || skip "python3 is not installed"
python3 -m pip --version >/dev/null 2>&1 || skip "pip is not installed (python3 -m pip)"

installed="$(PYTHONPATH="$prefix" python3 -c '
import importlib.metadata as m
print(m.version("PyJWT"), m.version("cryptography"), m.version("cffi"), m.version("pycparser"))
' 2>/dev/null || true)"
if [ "$installed" = "$version $cryptography_version $cffi_version $pycparser_version" ]; then
  exit 0
fi
rm -rf "$prefix"
python3 -m pip install --quiet --disable-pip-version-check --no-input --root-user-action=ignore --target "$prefix" \
  "PyJWT[crypto]==$version" "cryptography==$cryptography_version" \
  "cffi==$cffi_version" "pycparser==$pycparser_version"
# The RSA and EC algorithms are there only with cryptography: check that PyJWT sees them.
PYTHONPATH="$prefix" python3 -c '
import jwt
from jwt.algorithms import has_crypto
assert has_crypto and {"RS256", "ES256", "PS256", "EdDSA"} <= set(jwt.algorithms.get_default_algorithms())
' || { echo "PyJWT: installed but cannot be imported with cryptography" >&2; exit 1; }
echo "PyJWT $version (cryptography $cryptography_version) installed in $prefix"
