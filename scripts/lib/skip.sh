# Sourced by the scripts that install or need an outside tool for the tests. `skip WHY`
# ends the script: a loud SKIPPED banner and success, or, under CI=true, a failure, so a
# missing tool never passes CI silently. The script sets `skip_what` first: what is
# skipped (`installing oauth2-mock-server for the OAuth2 tests`).
skip() {
  if [ "${CI:-}" = "true" ]; then
    echo "$skip_what: $1 (CI requires it)" >&2
    exit 1
  fi
  echo "================================================================" >&2
  echo "SKIPPED: $skip_what: $1" >&2
  echo "================================================================" >&2
  exit 0
}
