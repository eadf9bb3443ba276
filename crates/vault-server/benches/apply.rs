//! What one use of a credential costs the vault (`Vault::apply_credential`): authorize,
//! read the credential, check expiry, produce the authentication (from the token cache
//! for OAuth2 and JWT, by opening the sealed secret for the static types), write the
//! audit event. Over the in-memory store (the use case's own cost) and over an SQLite
//! file (what an embedder on the default store pays), one use at a time; then on the SQLite
//! file from 16 tasks at once on two worker threads, where the audit events of concurrent
//! uses share their commits (criterion reports uses per second).
//!
//! `make bench-apply`, or `cargo bench -p vault-server --bench apply`.

use std::hint::black_box;

use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use secrecy::SecretString;
use vault_cipher_ring::{KeyEncryptionKey, RingCipher};
use vault_core::upstream::{OutgoingRequest, Upstream, UpstreamError, UpstreamResponse};
use vault_core::{
    CredentialFields, CredentialId, CredentialType, Patch, Principal, Store, SystemClock, Vault,
};
use vault_jwt::JsonWebTokenSigner;
use vault_store_sqlite::SqliteStore;
use vault_testkit::memory::MemoryStore;

/// A token endpoint in memory: the benchmark measures cached uses, so it answers once.
#[derive(Debug)]
struct TokenEndpoint;

impl Upstream for TokenEndpoint {
    async fn send(&self, _request: OutgoingRequest) -> Result<UpstreamResponse, UpstreamError> {
        Ok(UpstreamResponse {
            status: http::StatusCode::OK,
            headers: http::HeaderMap::new(),
            body: br#"{"access_token":"bench-token","token_type":"Bearer","expires_in":3600}"#
                .to_vec(),
        })
    }
}

const RSA_KEY: &str = include_str!("../../vault-jwt/tests/keys/rsa2048.pkcs8.pem");

fn fields(kind: CredentialType) -> CredentialFields {
    let secret = |s: &str| Some(SecretString::from(s.to_owned()));
    let mut f = CredentialFields {
        name: Some(format!("bench {kind}")),
        allowed_hosts: Patch::Value(vec!["auth.example.com".to_owned()]),
        ..CredentialFields::default()
    };
    match kind {
        CredentialType::ApiKey => f.set("value", secret("sk_live_0123456789abcdef")),
        CredentialType::OAuth2 => {
            f.set("clientId", Some("client".to_owned()));
            f.set("clientSecret", secret("client-secret-0123456789"));
            f.set(
                "tokenUrl",
                Some("https://auth.example.com/token".to_owned()),
            );
        }
        CredentialType::Jwt => {
            f.set("algorithm", Some("RS256".to_owned()));
            f.set("privateKey", secret(RSA_KEY));
        }
        _ => unreachable!("not benchmarked"),
    }
    f
}

/// Benchmarks the three uses over the store `open` makes (on the benchmark's runtime: a
/// store's connections belong to the runtime that opened them).
fn bench_store<S: Store, F: Future<Output = S>>(
    c: &mut Criterion,
    label: &str,
    open: impl FnOnce() -> F,
) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let cipher = RingCipher::new(KeyEncryptionKey::generate().expect("a key"), vec![]);
    let (vault, system, ids) = runtime.block_on(async {
        let store = open().await;
        let vault = Vault::open(store, cipher, SystemClock)
            .await
            .expect("vault")
            .with_upstream(TokenEndpoint)
            .with_jwt_signer(JsonWebTokenSigner);
        let (organization, _) = vault.create_organization("bench").await.expect("org");
        let system = Principal::system(organization.id);
        let mut ids: Vec<(CredentialType, CredentialId)> = Vec::new();
        for kind in [
            CredentialType::OAuth2,
            CredentialType::Jwt,
            CredentialType::ApiKey,
        ] {
            let credential = vault
                .create_credential(&system, kind, &fields(kind))
                .await
                .expect("credential");
            // The first use fetches or signs; the benchmark measures the cached ones.
            vault
                .apply_credential(&system, credential.id)
                .await
                .expect("applied");
            ids.push((kind, credential.id));
        }
        (vault, system, ids)
    });
    let mut group = c.benchmark_group(format!("apply_credential/{label}"));
    // Every use writes an audit event: keep runs short so the in-memory log stays small.
    group.measurement_time(std::time::Duration::from_secs(3));
    for (kind, id) in ids {
        let name = match kind {
            CredentialType::OAuth2 => "oauth2 (cached token)",
            CredentialType::Jwt => "jwt RS256 (cached token)",
            _ => "api_key (opens the sealed secret)",
        };
        group.bench_function(name, |b| {
            b.iter(|| {
                let applied = runtime
                    .block_on(vault.apply_credential(&system, black_box(id)))
                    .expect("applied");
                black_box(applied)
            });
        });
    }
    group.finish();
}

/// Tasks using one api_key credential at once, as a gateway's concurrent requests would.
const TASKS: u64 = 16;

/// Uses per second of an api_key credential on an SQLite file, from [`TASKS`] tasks on a
/// two-thread runtime.
fn bench_concurrent_sqlite(c: &mut Criterion, path: &str) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime");
    let cipher = RingCipher::new(KeyEncryptionKey::generate().expect("a key"), vec![]);
    let (vault, system, id) = runtime.block_on(async {
        let store = SqliteStore::open(path).await.expect("sqlite");
        let vault = Vault::open(store, cipher, SystemClock)
            .await
            .expect("vault");
        let (organization, _) = vault.create_organization("bench").await.expect("org");
        let system = Principal::system(organization.id);
        let kind = CredentialType::ApiKey;
        let credential = vault
            .create_credential(&system, kind, &fields(kind))
            .await
            .expect("credential");
        (Arc::new(vault), system, credential.id)
    });
    let mut group = c.benchmark_group("apply_credential/sqlite, 16 tasks");
    group.measurement_time(Duration::from_secs(5));
    group.throughput(Throughput::Elements(1));
    group.bench_function("api_key", |b| {
        b.iter_custom(|uses| {
            runtime.block_on(async {
                let started = Instant::now();
                let tasks: Vec<_> = (0..TASKS)
                    .map(|task| {
                        let (vault, system) = (vault.clone(), system.clone());
                        // Each task's share; the first takes the remainder.
                        let share = uses / TASKS + if task == 0 { uses % TASKS } else { 0 };
                        tokio::spawn(async move {
                            for _ in 0..share {
                                black_box(
                                    vault.apply_credential(&system, id).await.expect("applied"),
                                );
                            }
                        })
                    })
                    .collect();
                for task in tasks {
                    task.await.expect("a task");
                }
                started.elapsed()
            })
        });
    });
    group.finish();
}

fn apply(c: &mut Criterion) {
    bench_store(c, "memory", MemoryStore::new_async);
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("bench.db");
    bench_store(c, "sqlite", || async {
        SqliteStore::open(path.to_str().expect("UTF-8"))
            .await
            .expect("sqlite")
    });
    let concurrent = dir.path().join("concurrent.db");
    bench_concurrent_sqlite(c, concurrent.to_str().expect("UTF-8"));
}

criterion_group!(benches, apply);
criterion_main!(benches);
