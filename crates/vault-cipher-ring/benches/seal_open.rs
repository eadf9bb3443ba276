//! Seal and open of a typical credential payload (~200 bytes of JSON).
//!
//! Run with `cargo bench -p vault-cipher-ring --bench seal_open`.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use vault_cipher_ring::{KeyEncryptionKey, RingCipher};
use vault_core::{Aad, Cipher, CredentialId, OrganizationId};

/// The secret fields of an OAuth2 credential as the vault seals them: about 200 bytes.
const PAYLOAD: &[u8] = br#"{"clientSecret":"9fTq2vXcR7LmZp4WsKdY8hBnJ3eAuG6o","value":"sk_live_51HkYtGLzN8qWvXrP0aBcDeFgHiJkLmNoPqRsTuVwXyZ","password":"correct horse battery staple","headers":{"X-Extra":"abc123","X-Tenant":"acme"}}"#;

fn seal_open(c: &mut Criterion) {
    let key = KeyEncryptionKey::generate().expect("system RNG");
    let cipher = RingCipher::new(key, vec![]);
    let aad = Aad::credential_secrets(OrganizationId::new(), CredentialId::new(), 1);
    let blob = cipher.seal(PAYLOAD, &aad).expect("seal");

    let mut group = c.benchmark_group("cipher");
    group.throughput(Throughput::Bytes(PAYLOAD.len() as u64));
    group.bench_function("seal+open 200B", |b| {
        b.iter(|| {
            let blob = cipher.seal(black_box(PAYLOAD), &aad).expect("seal");
            cipher.open(black_box(&blob), &aad).expect("open")
        });
    });
    group.bench_function("seal 200B", |b| {
        b.iter(|| cipher.seal(black_box(PAYLOAD), &aad).expect("seal"));
    });
    group.bench_function("open 200B", |b| {
        b.iter(|| cipher.open(black_box(&blob), &aad).expect("open"));
    });
    group.finish();
}

criterion_group!(benches, seal_open);
criterion_main!(benches);
