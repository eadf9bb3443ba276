//! The key hierarchy of several replicas on one store, with a key manager that counts its
//! calls: a rotation reaches running replicas through the hand-over, without the key
//! manager, and through the key manager only when a replica missed a step.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use vault_cipher_ring::{KeyEncryptionKey, StaticKeyManager};
use vault_core::cipher::{Plaintext, Purpose};
use vault_core::key_manager::BoxFuture;
use vault_core::{Aad, Cipher, KeyManager, KeyManagerError, WrappedKeyring};
use vault_testkit::memory::MemoryStore;

use super::*;

/// A key manager of its own kind that counts unwraps, and whose key "version" the test
/// moves (as a Transit key rotation would).
struct Counting {
    inner: StaticKeyManager,
    unwraps: AtomicUsize,
    version: AtomicUsize,
}

impl Counting {
    fn new() -> Arc<Self> {
        Arc::new(Self {
            inner: StaticKeyManager::new(&KeyEncryptionKey::generate().expect("key"), &[]),
            unwraps: AtomicUsize::new(0),
            version: AtomicUsize::new(1),
        })
    }

    fn unwraps(&self) -> usize {
        self.unwraps.load(Ordering::SeqCst)
    }
}

impl KeyManager for Counting {
    fn kind(&self) -> &'static str {
        "counting"
    }

    fn describe(&self) -> String {
        "a counting key manager".to_owned()
    }

    fn wrap<'a>(
        &'a self,
        plaintext: &'a [u8],
        context: &'a str,
    ) -> BoxFuture<'a, Result<WrappedKeyring, KeyManagerError>> {
        Box::pin(async move {
            let mut wrapped = self.inner.wrap(plaintext, context).await?;
            wrapped.manager = self.kind().to_owned();
            wrapped.key = format!("counting v{}", self.version.load(Ordering::SeqCst));
            Ok(wrapped)
        })
    }

    fn unwrap<'a>(
        &'a self,
        wrapped: &'a WrappedKeyring,
        context: &'a str,
    ) -> BoxFuture<'a, Result<Plaintext, KeyManagerError>> {
        self.unwraps.fetch_add(1, Ordering::SeqCst);
        self.inner.unwrap(wrapped, context)
    }

    fn check(&self) -> BoxFuture<'_, Result<(), KeyManagerError>> {
        self.inner.check()
    }
}

fn no_statics() -> StaticKeys {
    StaticKeys {
        keys: Vec::new(),
        source: KeySource::None,
    }
}

async fn replica(store: &MemoryStore, manager: &Arc<Counting>) -> (RingCipher, KeyHierarchy) {
    let manager: Arc<dyn KeyManager> = manager.clone();
    open_with(
        store,
        manager,
        Duration::from_millis(1),
        no_statics(),
        |kind, _| anyhow::bail!("no {kind} here"),
    )
    .await
    .expect("opens")
}

/// A value sealed by one cipher opens in the other.
fn agree(sealer: &RingCipher, opener: &RingCipher) {
    let aad = Aad::installation(Purpose::KeyCheck);
    let sealed = sealer.seal(b"shared", &aad).expect("seal");
    assert_eq!(
        opener.open(&sealed, &aad).expect("opens").as_slice(),
        b"shared"
    );
}

#[tokio::test]
async fn replicas_follow_rotations_through_the_hand_over_and_the_key_manager_when_behind() {
    let store = MemoryStore::new();
    let manager = Counting::new();
    let (cipher_a, a) = replica(&store, &manager).await;
    assert_eq!(manager.unwraps(), 0, "the first start wraps a new keyring");
    let (cipher_b, b) = replica(&store, &manager).await;
    assert_eq!(manager.unwraps(), 1, "the next start unwraps it, once");
    assert_eq!(cipher_a.current_key_id(), cipher_b.current_key_id());

    let new_key = b.rotate(&store, &cipher_b, "test").await.expect("rotate");
    assert_eq!(cipher_b.current_key_id(), new_key);
    assert!(a.refresh(&store, &cipher_a).await.expect("refresh"));
    assert_eq!(
        cipher_a.current_key_id(),
        new_key,
        "A seals under the new key"
    );
    assert_eq!(manager.unwraps(), 1, "through the hand-over alone");
    agree(&cipher_a, &cipher_b);
    assert!(
        !a.refresh(&store, &cipher_a).await.expect("refresh"),
        "nothing new"
    );

    // A cleared hand-over keeps the generation: nobody reloads for it.
    assert!(b.clear_handover(&store).await.expect("clear"));
    assert!(
        store
            .get_keyring()
            .await
            .expect("read")
            .expect("keyring")
            .handover
            .is_none()
    );
    assert!(!a.refresh(&store, &cipher_a).await.expect("refresh"));

    // A replica that missed a rotation cannot open the next hand-over (sealed under a key
    // it never had): it asks the key manager.
    b.rotate(&store, &cipher_b, "test").await.expect("rotate");
    let newest = b.rotate(&store, &cipher_b, "test").await.expect("rotate");
    assert!(a.refresh(&store, &cipher_a).await.expect("refresh"));
    assert_eq!(cipher_a.current_key_id(), newest);
    assert_eq!(manager.unwraps(), 2, "one call for the missed steps");
    assert_eq!(a.keyring_key_ids().len(), 4);
    agree(&cipher_b, &cipher_a);
}

#[tokio::test]
async fn the_keyring_is_wrapped_again_only_when_the_key_managers_key_changed() {
    let store = MemoryStore::new();
    let manager = Counting::new();
    let (cipher, hierarchy) = replica(&store, &manager).await;
    let before = store.get_keyring().await.expect("read").expect("keyring");
    assert!(
        !hierarchy
            .rewrap_keyring(&store, &cipher, "test")
            .await
            .expect("rewrap")
    );
    assert_eq!(
        store.get_keyring().await.expect("read"),
        Some(before.clone())
    );

    manager.version.store(2, Ordering::SeqCst);
    let key_before = cipher.current_key_id();
    assert!(
        hierarchy
            .rewrap_keyring(&store, &cipher, "test")
            .await
            .expect("rewrap")
    );
    let after = store.get_keyring().await.expect("read").expect("keyring");
    assert_eq!(after.generation, before.generation + 1);
    assert_eq!(after.wrapped.key, "counting v2");
    assert_eq!(hierarchy.wrapped_by().as_deref(), Some("counting v2"));
    assert_eq!(
        cipher.current_key_id(),
        key_before,
        "the keys are the same ones"
    );
}

#[tokio::test]
async fn replicas_starting_together_share_one_keyring() {
    let store = MemoryStore::new();
    let manager = Counting::new();
    let opened = futures::future::join_all((0..4).map(|_| replica(&store, &manager))).await;
    let current = opened[0].0.current_key_id();
    assert!(
        opened
            .iter()
            .all(|(cipher, _)| cipher.current_key_id() == current)
    );
    assert_eq!(
        store
            .get_keyring()
            .await
            .expect("read")
            .expect("keyring")
            .generation,
        1
    );
}

#[tokio::test]
async fn a_change_made_meanwhile_refuses_a_rotation_and_writes_nothing() {
    let store = MemoryStore::new();
    let manager = Counting::new();
    let (cipher_a, a) = replica(&store, &manager).await;
    let (cipher_b, b) = replica(&store, &manager).await;
    b.rotate(&store, &cipher_b, "test").await.expect("rotate");
    let stored = store.get_keyring().await.expect("read");
    let refused = a
        .rotate(&store, &cipher_a, "test")
        .await
        .expect_err("A holds an older generation");
    assert!(refused.to_string().contains("run it again"), "{refused:#}");
    assert_eq!(store.get_keyring().await.expect("read"), stored);
}
