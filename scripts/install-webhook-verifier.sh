#!/usr/bin/env bash
# PyPI's standardwebhooks, the Standard Webhooks reference verifier that no one here wrote,
# for the e2e tests that have it check the signatures of the vault's webhook deliveries
# (tests/e2e/helpers/webhook_receiver.py). Installed into target/py-webhooks/ at a pinned
# version; run again, it does nothing.
#
# Where Python 3 or pip cannot be had, it says so loudly and those tests skip; under
# CI=true that is a failure instead (and the tests fail too).
set -euo pipefail
cd "$(dirname "$0")/.."

# It has no dependencies (its Requires-Dist is empty): --no-deps keeps it that way.
version="1.1.0"
prefix="target/py-webhooks"

skip_what="installing standardwebhooks for the webhook delivery tests"
. scripts/lib/skip.sh

command -v python3 >/dev/null 2>&1 || skip "python3 is not installed"
python3 -m pip --version >/dev/null 2>&1 || skip "pip is not installed (python3 -m pip)"

installed="$(PYTHONPATH="$prefix" python3 -c '
import importlib.metadata as m
print(m.version("standardwebhooks"))
' 2>/dev/null || true)"
if [ "$installed" = "$version" ]; then
  exit 0
fi
rm -rf "$prefix"
python3 -m pip install --quiet --disable-pip-version-check --no-input --root-user-action=ignore --no-deps \
  --target "$prefix" "standardwebhooks==$version"
PYTHONPATH="$prefix" python3 -c 'from standardwebhooks import Webhook' \
  || { echo "standardwebhooks: installed but cannot be imported" >&2; exit 1; }
echo "standardwebhooks $version installed in $prefix"
