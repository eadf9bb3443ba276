# vault: the commands a newcomer needs. `make help` lists them.
SHELL := /bin/bash
CARGO ?= cargo
# cargo-nextest runs each test in its own process, in parallel; plain cargo test otherwise.
NEXTEST := $(shell command -v cargo-nextest >/dev/null 2>&1 && echo yes)

.PHONY: help setup run test lint fmt check-core-deps bench bench-cipher bench-apply pg-up clean fuzz-api fuzz test-console soak chaos clients

help:
	@echo "make setup   - check the toolchain, install cargo-nextest if missing, build everything"
	@echo "make run     - run the server on 127.0.0.1:8080 on the embedded SQLite default (./data/)"
	@echo "make test    - run every test (the web console's in headless Chromium too)"
	@echo "make test-console - only the web console in headless Chromium (screenshots in target/screenshots/)"
	@echo "make lint    - rustfmt check, clippy -D warnings, vault-core dependency check"
	@echo "make chaos   - crash and fault evidence: SIGKILL during writes and a rewrap, PostgreSQL stopped, a full disk"
	@echo "make bench   - HTTP throughput and latency on SQLite and PostgreSQL, next to a no-op route and pgbench"
	@echo "make bench-cipher - criterion benchmark of sealing and opening a credential"
	@echo "make bench-apply  - criterion benchmark of one credential use (cached OAuth2/JWT, api_key)"
	@echo "make fuzz    - cargo-fuzz targets (sealed_blob, access_key, request_body), FUZZ_TARGET_SECONDS each (default 60)"
	@echo "make soak    - mixed load on SQLite and PostgreSQL for SOAK_SECONDS (default 600): memory flat, no 5xx, every write readable; target/soak/"
	@echo "make fuzz-api - schemathesis against a local server from /openapi.json (FUZZ_SECONDS, default 300)"
	@echo "make clients - regenerate the client libraries in clients/ from the OpenAPI document"

# The last build is what `make run` builds: alone, vault-server's dependencies get other
# features than beside every test's, so without it the first `make run` compiles again.
setup:
	@command -v $(CARGO) >/dev/null || { echo "cargo not found: install Rust (rustup)"; exit 1; }
	@$(CARGO) fmt --version >/dev/null 2>&1 || rustup component add rustfmt
	@$(CARGO) clippy --version >/dev/null 2>&1 || rustup component add clippy
	@command -v cargo-nextest >/dev/null 2>&1 || $(CARGO) install --locked cargo-nextest
	$(CARGO) build --workspace --all-targets
	$(CARGO) build -p vault-server

# Development mode: a generated key file beside ./data/vault.db, and a first organization.
run:
	VAULT_DEV_MODE=true $(CARGO) run -p vault-server --

# The CLI's tests run the `vault` binary of another package: build it (and keep it fresh).
# The OAuth2 tests run npm's oauth2-mock-server (pinned, in target/oauth2-mock-server/).
# The key-manager tests run OpenBao, moto's KMS and SoftHSM2 (pinned, in target/key-managers/).
# The syslog, webhook and JWT assertion tests judge what the vault sends with PyPI's parsers
# and verifiers (syslog-rfc5424-parser, standardwebhooks, PyJWT; target/py-*).
# The OpenAPI document is judged by Redocly, openapi-spec-validator and the Python and
# TypeScript client generators (pinned, in target/openapi-judges/).
test: pg-up
	./scripts/install-oauth2-mock-server.sh
	./scripts/install-key-managers.sh
	./scripts/install-syslog-parser.sh
	./scripts/install-webhook-verifier.sh
	./scripts/install-jwt-verifier.sh
	./scripts/install-openapi-judges.sh
	./scripts/install-age-tools.sh
	$(CARGO) build --workspace --bins
ifeq ($(NEXTEST),yes)
	$(CARGO) nextest run --workspace --no-fail-fast
else
	$(CARGO) test --workspace --no-fail-fast
endif
	$(CARGO) test --workspace --doc
	./scripts/test-console.sh

# Chaos: SIGKILL the server during a burst of writes and during a rewrap (tests/e2e/chaos.rs)
# and under proxy load (tests/e2e/chaos_proxy.rs),
# stop PostgreSQL under load (tests/e2e/faults.rs), kill a rewrap half way (tests/e2e/rotation.rs),
# fill the SQLite volume (tests/e2e/chaos.rs, needs `unshare`). They are in `make test` too:
# these are the modules `chaos`, `chaos_proxy`, `faults` and `rotation` of the test binary `e2e`.
chaos: pg-up
ifeq ($(NEXTEST),yes)
	$(CARGO) nextest run --workspace --no-fail-fast -E 'binary(e2e) & test(/^(chaos|chaos_proxy|faults|rotation)::/)'
else
	$(CARGO) test -p vault-server --no-fail-fast --test e2e -- chaos:: chaos_proxy:: faults:: rotation::
endif

# The web console in headless Chromium (installs Debian's chromium and playwright-core
# when missing; skipped loudly where it cannot, a failure under CI=true).
test-console:
	./scripts/test-console.sh

lint: check-core-deps
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

fmt:
	$(CARGO) fmt --all

# The domain must stay pure: no runtime, web framework, database or crypto library.
check-core-deps:
	@bad=$$($(CARGO) tree -p vault-core -e normal --prefix none --format '{p}' | awk '{print $$1}' \
	  | grep -E '^(tokio|actix[a-z_-]*|diesel[a-z_-]*|ring|reqwest|hyper|libsqlite3-sys|tokio-postgres)$$' | sort -u); \
	if [ -n "$$bad" ]; then echo "vault-core must not depend on: $$bad"; exit 1; fi; \
	echo "vault-core dependencies: ok (no tokio, actix, diesel, ring, reqwest)"

# The local PostgreSQL (the tests of the PostgreSQL store and the replica/fault tests use it).
PG_ISREADY := $(firstword $(wildcard /usr/lib/postgresql/*/bin/pg_isready) $(shell command -v pg_isready))
pg-up:
	@if [ -n "$(PG_ISREADY)" ] && ! $(PG_ISREADY) -h 127.0.0.1 -p 5432 -q; then \
	  echo "PostgreSQL is not reachable on 127.0.0.1:5432: starting the local cluster"; \
	  pg_ctlcluster --skip-systemctl-redirect "$$(ls /etc/postgresql)" main start; \
	  for _ in $$(seq 1 30); do $(PG_ISREADY) -h 127.0.0.1 -p 5432 -q && break; sleep 1; done; \
	fi

# wrk drives the load; installed from Debian's packages when missing.
bench: pg-up
	@command -v wrk >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq wrk; }
	$(CARGO) build --release -p vault-server --bin vault-server --example bench_upstream --example bench_seed
	$(CARGO) bench -p vault-server --bench apply
	python3 scripts/bench.py

bench-cipher:
	$(CARGO) bench -p vault-cipher-ring --bench seal_open

bench-apply:
	$(CARGO) bench -p vault-server --bench apply

clean:
	$(CARGO) clean

# A long mixed load on both databases at once (tests/e2e/soak.rs), then the memory plot and the
# summary table in target/soak/. SOAK_SECONDS=60 for a short run (CI).
soak: pg-up
	./scripts/soak.sh

# schemathesis (installed from PyPI into target/fuzz-api/venv) against a fresh local server:
# no 5xx, and every response as the OpenAPI document says. FUZZ_SECONDS=60 for a short run.
fuzz-api:
	./scripts/fuzz-api.sh

# cargo-fuzz (libFuzzer, nightly) on the parsers: each target runs for FUZZ_TARGET_SECONDS
# (default 60); a crash fails the target and leaves its input in fuzz/artifacts/<target>/.
FUZZ_TARGETS := sealed_blob access_key request_body
fuzz:
	@command -v cargo-fuzz >/dev/null 2>&1 || $(CARGO) install --locked cargo-fuzz \
	  || { echo "could not install cargo-fuzz (cargo install --locked cargo-fuzz)"; exit 1; }
	@rustup toolchain list | grep -q '^nightly' || rustup toolchain install nightly --profile minimal
	@failed=; for t in $(FUZZ_TARGETS); do \
	  echo "== fuzz $$t for $${FUZZ_TARGET_SECONDS:-60} s"; \
	  mkdir -p fuzz/corpus/$$t; \
	  $(CARGO) +nightly fuzz run $$t $(CURDIR)/fuzz/corpus/$$t $(CURDIR)/fuzz/seeds/$$t -- \
	    -max_total_time=$${FUZZ_TARGET_SECONDS:-60} || failed="$$failed $$t"; \
	done; \
	if [ -n "$$failed" ]; then echo "fuzz targets that crashed:$$failed (inputs in fuzz/artifacts/)"; exit 1; fi

# The client libraries in clients/, generated from the OpenAPI document by the pinned
# generators (target/openapi-judges/); make test fails when the checked-in ones are stale.
clients:
	./scripts/install-openapi-judges.sh
	./scripts/generate-clients.sh clients
