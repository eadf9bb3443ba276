//! A key rotation moves an OAuth2 connection's tokens too: the vault's rewrap finds them
//! under the old key, re-wraps them bound to their generation, and the store keeps the
//! rest of the row as it was.

use secrecy::{ExposeSecret, SecretString};
use vault_cipher_ring::{KeyEncryptionKey, RingCipher};
use vault_core::connections::{ConnectionTokens, Expected};
use vault_core::logs::AuditAction;
use vault_core::store::{ConnectionStore, CredentialStore, CredentialWrite, OrganizationStore};
use vault_core::versions::SealedKind;
use vault_core::{Aad, Cipher, CredentialType, SystemClock, Vault};
use vault_store_sqlite::SqliteStore;
use vault_testkit::store_suite::{
    sample_change_audit, sample_connection, sample_credential, sample_organization,
};

/// The same key, twice (a key is not `Clone`).
fn copy(key: &KeyEncryptionKey) -> KeyEncryptionKey {
    KeyEncryptionKey::parse(key.to_base64().expose_secret()).expect("the same key")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rewrap_moves_connection_tokens_bound_to_their_generation() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("vault.db");
    let store = SqliteStore::open(path.to_str().expect("a UTF-8 path"))
        .await
        .expect("a fresh SQLite store");
    let (old, new) = (
        KeyEncryptionKey::generate().expect("a key"),
        KeyEncryptionKey::generate().expect("another key"),
    );
    let (old_id, new_id) = (old.key_id(), new.key_id());
    drop(
        Vault::open(
            store.clone(),
            RingCipher::new(copy(&old), vec![]),
            SystemClock,
        )
        .await
        .expect("the vault opens under the old key"),
    );

    // A connected credential whose tokens were sealed under the old key at generation 3.
    let organization = sample_organization();
    store
        .insert_organization(&organization)
        .await
        .expect("insert_organization");
    let credential = sample_credential(organization.id, CredentialType::OAuth2);
    let id = credential.credential.id;
    let created = sample_change_audit(
        organization.id,
        AuditAction::CredentialCreate,
        *id.as_uuid(),
    );
    store
        .insert_credential(
            &credential,
            &CredentialWrite {
                versions: &[],
                keep_versions: 0,
                audit: &created,
            },
        )
        .await
        .expect("insert_credential");
    let tokens = ConnectionTokens {
        access_token: SecretString::from("access-canary"),
        refresh_token: Some(SecretString::from("refresh-canary")),
    };
    let bound = Aad::connection_tokens(organization.id, id, 3);
    let sealed = RingCipher::new(copy(&old), vec![])
        .seal(&tokens.to_plaintext(), &bound)
        .expect("seal");
    let connection = vault_core::connections::Connection {
        sealed: Some(sealed),
        lease: None,
        ..sample_connection(&credential, 3)
    };
    let insert = Expected {
        generation: None,
        holder: None,
    };
    assert!(
        store
            .save_connection(&connection, insert, None)
            .await
            .expect("save_connection")
    );

    let vault = Vault::open(
        store.clone(),
        RingCipher::new(copy(&new), vec![copy(&old)]),
        SystemClock,
    )
    .await
    .expect("the vault opens under the new key, the old one kept");
    let before = vault.key_status().await.expect("key_status");
    let connections_under = |status: &vault_core::vault::KeyStatus, key: &vault_core::KeyId| {
        status
            .keys
            .iter()
            .find(|k| k.key_id == *key)
            .map_or(0, |k| k.connections)
    };
    assert_eq!(connections_under(&before, &old_id), 1);
    let batch = vault
        .rewrap_batch(SealedKind::Connection, None, 100)
        .await
        .expect("rewrap_batch");
    assert!(batch.failures.is_empty(), "{:?}", batch.failures);
    assert_eq!((batch.scanned, batch.rewrapped), (1, 1));
    let after = vault.key_status().await.expect("key_status");
    assert_eq!(connections_under(&after, &old_id), 0);
    assert_eq!(connections_under(&after, &new_id), 1);

    let stored = store
        .get_connection(organization.id, id)
        .await
        .expect("get_connection")
        .expect("the connection");
    let rewrapped = stored.sealed.clone().expect("its tokens");
    assert_eq!(rewrapped.key_id, new_id);
    assert_eq!(
        vault_core::connections::Connection {
            sealed: None,
            ..stored
        },
        vault_core::connections::Connection {
            sealed: None,
            ..connection
        },
        "the rewrap changed more than the tokens"
    );
    // Only the new key needed now, and only at the generation the tokens are bound to.
    let only_new = RingCipher::new(copy(&new), vec![]);
    let opened = only_new.open(&rewrapped, &bound).expect("the tokens open");
    let opened = ConnectionTokens::from_plaintext(&opened).expect("tokens");
    assert_eq!(opened.access_token.expose_secret(), "access-canary");
    assert!(
        only_new
            .open(&rewrapped, &Aad::connection_tokens(organization.id, id, 4))
            .is_err(),
        "tokens opened at another generation"
    );
}
