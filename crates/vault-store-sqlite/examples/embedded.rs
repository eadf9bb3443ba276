//! An embedder's vault: no HTTP server, just the library. Builds a vault from the SQLite
//! store and the ring cipher, stores two credentials, and asks the vault what to attach to
//! an outgoing request: the embedder sends the request itself and never stores a secret.
//!
//! Run it with `cargo run --example embedded`.
#![expect(
    clippy::print_stdout,
    reason = "an example shows its results on stdout"
)]

use std::error::Error;

use secrecy::SecretString;
use vault_cipher_ring::{KeyEncryptionKey, RingCipher};
use vault_core::{
    CredentialFields, CredentialType, Patch, Principal, SystemClock, Vault, VaultError,
};
use vault_store_sqlite::SqliteStore;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn Error>> {
    // 1. The parts: an SQLite file and a key-encryption key. A real embedder loads the key
    //    from its secret manager; a fresh one is generated here.
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("vault.db");
    let store = SqliteStore::open(path.to_str().ok_or("a UTF-8 path")?).await?;
    let cipher = RingCipher::new(KeyEncryptionKey::generate()?, vec![]);
    // `open` checks the key against the database and refuses the wrong one. A vault that
    // also proxies, fetches OAuth2 tokens or signs JWTs adds `.with_upstream(...)` and
    // `.with_jwt_signer(...)` (see the vault-upstream and vault-jwt crates).
    let vault = Vault::open(store, cipher, SystemClock).await?;

    // 2. An organization; the embedder acts as the system within it.
    let (organization, _admin_key) = vault.create_organization("acme").await?;
    let system = Principal::system(organization.id);

    // 3. Store credentials. Secrets are sealed with AES-256-GCM before they reach the file.
    let api_key = vault
        .create_credential(
            &system,
            CredentialType::ApiKey,
            &CredentialFields {
                name: Some("Stripe".to_owned()),
                ..CredentialFields::default()
            }
            .with(
                "value",
                Some(SecretString::from("sk_live_example_0123456789")),
            ),
        )
        .await?;
    let basic = vault
        .create_credential(
            &system,
            CredentialType::BasicAuth,
            &CredentialFields {
                name: Some("Jenkins".to_owned()),
                expires_at: Patch::Value("2099-01-01T00:00:00Z".to_owned()),
                ..CredentialFields::default()
            }
            .with("username", Some("ci-bot".to_owned()))
            .with(
                "password",
                Some(SecretString::from("correct horse battery staple")),
            ),
        )
        .await?;

    // 4. Apply them. The result says what to put on the request; its Debug shows names
    //    only, and the header values are marked sensitive.
    for credential in [&api_key, &basic] {
        let applied = vault.apply_credential(&system, credential.id).await?;
        println!(
            "{} ({}):",
            credential.name.as_str(),
            credential.kind.credential_type()
        );
        for (name, value) in applied.headers() {
            let shown = format!("{} bytes, sensitive: {}", value.len(), value.is_sensitive());
            println!("    header {name}: <{shown}>");
        }
        // An HTTP client would now do: request.headers_mut().extend(applied.headers()).
    }

    // 5. A credential that cannot be applied is an error, never an empty result.
    match vault
        .apply_credential(&system, vault_core::CredentialId::new())
        .await
    {
        Err(VaultError::NotFound) => println!("an unknown id: not found"),
        other => return Err(format!("expected not found, got {other:?}").into()),
    }
    Ok(())
}
