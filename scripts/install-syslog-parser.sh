#!/usr/bin/env bash
# PyPI's syslog-rfc5424-parser, an RFC 5424 parser that no one here wrote, for the
# vault-audit-sinks test that has it read what the syslog sink sends
# (crates/vault-audit-sinks/tests/sinks/rfc5424.rs). Installed into target/py-syslog/ at a
# pinned version; run again, it does nothing. `make test` runs it.
#
# Where Python 3 or pip cannot be had, it says so loudly and that test skips; under
# CI=true that is a failure instead (and the test fails too).
set -euo pipefail
cd "$(dirname "$0")/.."

version="0.3.2"
# Its one dependency, pinned too (it asks for lark-parser 0.6.*).
lark_version="0.6.7"
prefix="target/py-syslog"

skip_what="installing syslog-rfc5424-parser for the syslog sink's format test"
. scripts/lib/skip.sh

command -v python3 >/dev/null 2>&1 || skip "python3 is not installed"
python3 -m pip --version >/dev/null 2>&1 || skip "pip is not installed (python3 -m pip)"

installed="$(PYTHONPATH="$prefix" python3 -c '
import importlib.metadata as m
print(m.version("syslog-rfc5424-parser"), m.version("lark-parser"))
' 2>/dev/null || true)"
if [ "$installed" = "$version $lark_version" ]; then
  exit 0
fi
rm -rf "$prefix"
python3 -m pip install --quiet --disable-pip-version-check --no-input --root-user-action=ignore --target "$prefix" \
  "syslog-rfc5424-parser==$version" "lark-parser==$lark_version"
PYTHONPATH="$prefix" python3 -c 'import syslog_rfc5424_parser' \
  || { echo "syslog-rfc5424-parser: installed but cannot be imported" >&2; exit 1; }
echo "syslog-rfc5424-parser $version installed in $prefix"
