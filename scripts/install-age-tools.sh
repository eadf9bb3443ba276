#!/usr/bin/env bash
# Two age implementations no one here wrote, to judge the export bundles: Go's reference
# `age` and `age-keygen` (Debian's package), and PyPI's pyrage (the Rust one, as Python
# bindings) for passphrases, which Go's `age` reads only from a terminal. pyrage goes into
# target/py-age/ at a pinned version; run again, this does nothing.
#
# Where one cannot be had, it says so loudly and those tests skip; under CI=true that is a
# failure instead (and the tests fail too).
set -euo pipefail
cd "$(dirname "$0")/.."

pyrage_version="1.4.0"
prefix="target/py-age"

skip_what="installing age and pyrage for the export bundle tests"
. scripts/lib/skip.sh

if ! command -v age >/dev/null 2>&1 || ! command -v age-keygen >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "installing age from Debian's packages"
    apt-get install -y -qq --no-install-recommends age >/dev/null 2>&1 \
      || { apt-get update -qq >/dev/null 2>&1 \
        && apt-get install -y -qq --no-install-recommends age >/dev/null 2>&1; } \
      || true
  fi
  command -v age >/dev/null 2>&1 || skip "age is not installed (apt-get install age)"
fi

command -v python3 >/dev/null 2>&1 || skip "python3 is not installed"
python3 -m pip --version >/dev/null 2>&1 || skip "pip is not installed (python3 -m pip)"
installed="$(PYTHONPATH="$prefix" python3 -c '
import importlib.metadata as m
print(m.version("pyrage"))
' 2>/dev/null || true)"
if [ "$installed" != "$pyrage_version" ]; then
  rm -rf "$prefix"
  # A binary wheel without dependencies.
  python3 -m pip install --quiet --disable-pip-version-check --no-input --root-user-action=ignore \
    --no-deps --only-binary=:all: --target "$prefix" "pyrage==$pyrage_version"
  PYTHONPATH="$prefix" python3 -c 'import pyrage.passphrase' \
    || { echo "pyrage: installed but cannot be imported" >&2; exit 1; }
  echo "pyrage $pyrage_version installed in $prefix"
fi
