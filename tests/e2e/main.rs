//! The end-to-end tests: one test binary (`e2e`), so that the helpers they share are
//! compiled once and written once (zero-to-production's `tests/api/main.rs`). Each module is
//! an area; select one with nextest by its path, e.g.
//! `cargo nextest run -p vault-server -E 'binary(e2e) & test(/^chaos::/)'`, or with
//! `cargo test -p vault-server --test e2e -- chaos::`.
//!
//! - `audit_chain`: the tamper-evident audit log through the binary (checkpoints, `audit
//!   verify`, tampering, retention);
//! - `audit_streaming`: the audit log streamed to a file and to syslog (an outage, a restart);
//! - `api`: the REST API in the test process ([`helpers::TestApp`]): every credential type,
//!   every error class, access keys, versions, organization isolation;
//! - `binary`: the real `vault-server` as a newcomer and an operator run it;
//! - `replicas`: several binaries on one PostgreSQL database;
//! - `faults`: PostgreSQL stopped under load;
//! - `usage`: credentials used through the binary against local upstreams;
//! - `rotation`: rotating the key-encryption key;
//! - `idp`: identity-provider tokens;
//! - `key_managers`: the vault on OpenBao Transit, moto's KMS and SoftHSM2 (and their own
//!   smoke tests), migrations between key managers;
//! - `openapi_judges`: the OpenAPI document before Redocly, openapi-spec-validator and the
//!   Python and TypeScript generators;
//! - `operability`: OpenAPI, probes, metrics, request ids, rate and body limits, timeouts,
//!   log retention;
//! - `seed_page`: the product page's bodies, as written;
//! - `clients`: the generated client libraries, fresh and working against the binary;
//! - `cli`: the `vault` command-line client (build it first: `cargo build --workspace --bins`);
//! - `packaging`: the Dockerfile, checked statically;
//! - `attacks`: the attack suite and the security review, one module per area;
//! - `chaos`, `chaos_proxy`: SIGKILL during writes, a rewrap and proxy load; a full disk;
//! - `soak`: a long mixed load (ignored; `make soak`).

mod helpers;

mod api;
mod api_versions;
mod attacks;
mod audit_chain;
mod audit_streaming;
mod binary;
mod bundles;
mod chaos;
mod chaos_proxy;
mod cli;
mod clients;
mod faults;
mod grant_replicas;
mod grants;
mod idp;
mod key_managers;
mod oauth_connect;
mod oauth_replicas;
mod oauth_servers;
mod openapi_judges;
mod operability;
mod packaging;
mod readme;
mod replicas;
mod rotation;
mod seed_page;
mod soak;
mod usage;
mod webhook_receiver;
mod webhooks;
mod webhooks_api;
