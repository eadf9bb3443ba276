//! The stored keyring, wrapped by the key manager: unwrapped once at start (created on the
//! first start with a key manager), rotated, wrapped again under another key or manager,
//! and followed by every running replica.
//!
//! How replicas follow a change without calling the key manager (Vault's keyring upgrade
//! entries do the same): each change also stores the new keyring sealed under the key that
//! was current before it, the hand-over. A replica notices the generation move within
//! `keyring_refresh_interval_ms`, opens the hand-over with the keys it holds, and installs
//! the new keyring. A replica that missed several changes unwraps through the key manager
//! instead. `keys rewrap` waits two intervals after a change before moving rows onto the
//! new key, and clears the hand-over once every row is there, so the old key alone opens
//! nothing any more.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{Context, anyhow, bail};
use time::OffsetDateTime;
use vault_cipher_ring::{KeyEncryptionKey, KeyringHandle, RingCipher, key_id_of};
use vault_core::keyring::{Keyring, StoredKeyring};
use vault_core::logs::{AuditAction, AuditEvent, AuditOutcome, LogRecord};
use vault_core::store::{LogStore, MetaStore};
use vault_core::{Aad, Cipher, KeyId, KeyManager, KeyManagerError, WrappedKeyring};

use super::environment::{KeySource, StaticKeys};
use super::managers;
use crate::settings::Settings;

/// What every wrap of the keyring is bound to (Transit's framed header, KMS's encryption
/// context, GCM's additional data in a token).
pub const CONTEXT: &str = "vault keyring v1";

/// The key hierarchy of this process: the key manager, the keyring it unwrapped (none
/// while the static `ENCRYPTION_KEY` is the only key), and the cipher it is installed in.
pub struct KeyHierarchy {
    /// The configured key manager.
    manager: Arc<dyn KeyManager>,
    /// The manager that wrapped the stored keyring, when it is another (a migration).
    wrapped_by: Option<Arc<dyn KeyManager>>,
    handle: KeyringHandle,
    state: Mutex<State>,
    refresh_interval: Duration,
    source: KeySource,
}

#[derive(Default)]
struct State {
    generation: Option<i64>,
    keyring: Option<Keyring>,
    /// Which key manager's key wrapped the stored keyring ([`WrappedKeyring::key`]).
    wrapped_by: Option<String>,
}

impl std::fmt::Debug for KeyHierarchy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyHierarchy")
            .field("manager", &self.manager.describe())
            .field("generation", &self.generation())
            .finish_non_exhaustive()
    }
}

/// Unwraps (or, on the first start with a key manager, creates) the keyring and builds the
/// cipher over it and the static keys.
///
/// # Errors
/// The key manager unreachable, refusing, or its key unusable; a keyring wrapped by a
/// manager whose settings are missing; a keyring that does not decode. Nothing is written
/// then.
pub async fn open<S: MetaStore + LogStore>(
    store: &S,
    settings: &Settings,
    statics: StaticKeys,
) -> anyhow::Result<(RingCipher, KeyHierarchy)> {
    let kind = settings.key_manager.as_str();
    let manager = managers::build(kind, settings, &statics)?;
    let refresh_interval = Duration::from_millis(settings.keyring_refresh_interval_ms.max(1));
    open_with(
        store,
        manager,
        refresh_interval,
        statics,
        |other, statics| managers::build(other, settings, statics),
    )
    .await
}

/// [`open`] with the key manager given, and `build` for the one that wrapped the stored
/// keyring when it is of another kind.
async fn open_with<S: MetaStore + LogStore>(
    store: &S,
    manager: Arc<dyn KeyManager>,
    refresh_interval: Duration,
    statics: StaticKeys,
    build: impl FnOnce(&str, &StaticKeys) -> anyhow::Result<Arc<dyn KeyManager>>,
) -> anyhow::Result<(RingCipher, KeyHierarchy)> {
    let kind = manager.kind();
    let stored = store
        .get_keyring()
        .await
        .context("cannot read the stored keyring")?;
    let (cipher, state, wrapped_by) = match stored {
        Some(stored) => {
            let wrapped_by = (stored.wrapped.manager != kind)
                .then(|| {
                    build(&stored.wrapped.manager, &statics).with_context(|| {
                        format!(
                            "the stored keyring is wrapped by the {} key manager ({}), not by \
                             {kind}: give that manager's settings too, to unwrap it while \
                             migrating (`vault-server keys migrate`)",
                            stored.wrapped.manager, stored.wrapped.key
                        )
                    })
                })
                .transpose()?;
            // The configured key, even when an earlier one wrapped the keyring: a setting
            // naming no usable key must stop the start, not wait for the next rewrap.
            checked(&*manager).await?;
            let unwrapping = wrapped_by.as_ref().unwrap_or(&manager);
            let keyring = unwrap(&**unwrapping, &stored.wrapped).await?;
            let cipher = RingCipher::with_keyring(&keyring, &statics.keys);
            let state = State {
                generation: Some(stored.generation),
                keyring: Some(keyring),
                wrapped_by: Some(stored.wrapped.key.clone()),
            };
            (cipher, state, wrapped_by)
        }
        None if kind == "static" => {
            let (current, previous) = statics
                .keys
                .split_first()
                .ok_or_else(|| anyhow!("the static key manager needs ENCRYPTION_KEY"))?;
            let cipher = RingCipher::new(
                KeyEncryptionKey::from_bytes(current.to_bytes()),
                previous
                    .iter()
                    .map(|k| KeyEncryptionKey::from_bytes(k.to_bytes()))
                    .collect(),
            );
            (cipher, State::default(), None)
        }
        None => {
            let (cipher, state) = create(store, &*manager, &statics).await?;
            (cipher, state, None)
        }
    };
    let hierarchy = KeyHierarchy {
        manager,
        wrapped_by,
        handle: cipher.keyring_handle(),
        state: Mutex::new(state),
        refresh_interval,
        source: statics.source,
    };
    Ok((cipher, hierarchy))
}

/// The first keyring of a key manager: one fresh key, wrapped, and handed over (sealed
/// under `ENCRYPTION_KEY`, when there is one) to replicas still running on the static key.
/// Of replicas starting together one writes it; the others unwrap the one written.
async fn create<S: MetaStore + LogStore>(
    store: &S,
    manager: &dyn KeyManager,
    statics: &StaticKeys,
) -> anyhow::Result<(RingCipher, State)> {
    let key = KeyEncryptionKey::generate().context("cannot generate a key")?;
    let keyring = Keyring::new(key.to_bytes());
    let wrapped = manager
        .wrap(&keyring.encode(), CONTEXT)
        .await
        .map_err(|error| failed(manager, error, "cannot wrap a new keyring"))?;
    let handover = match statics.keys.first() {
        Some(current) => Some(
            RingCipher::new(KeyEncryptionKey::from_bytes(current.to_bytes()), Vec::new())
                .seal(&keyring.encode(), &Aad::keyring_handover(1))
                .context("cannot seal the keyring's hand-over")?,
        ),
        None => None,
    };
    let stored = StoredKeyring {
        generation: 1,
        wrapped,
        handover,
        changed_at: OffsetDateTime::now_utc(),
    };
    if !store
        .save_keyring(&stored, None)
        .await
        .context("cannot store the new keyring")?
    {
        // Another replica stored one first: use that one.
        let theirs = store
            .get_keyring()
            .await
            .context("cannot read the stored keyring")?
            .ok_or_else(|| anyhow!("the keyring another replica stored is gone"))?;
        let keyring = unwrap(manager, &theirs.wrapped).await?;
        let cipher = RingCipher::with_keyring(&keyring, &statics.keys);
        return Ok((
            cipher,
            State {
                generation: Some(theirs.generation),
                keyring: Some(keyring),
                wrapped_by: Some(theirs.wrapped.key),
            },
        ));
    }
    audit(store, AuditAction::KeyringRotate, None).await?;
    tracing::info!(
        key_manager = manager.describe(),
        key_id = %key.key_id(),
        "created the keyring, wrapped by the key manager"
    );
    let cipher = RingCipher::with_keyring(&keyring, &statics.keys);
    Ok((
        cipher,
        State {
            generation: Some(1),
            keyring: Some(keyring),
            wrapped_by: Some(stored.wrapped.key),
        },
    ))
}

/// One call to the key manager.
async fn unwrap(manager: &dyn KeyManager, wrapped: &WrappedKeyring) -> anyhow::Result<Keyring> {
    let plaintext = manager.unwrap(wrapped, CONTEXT).await.map_err(|error| {
        failed(
            manager,
            error,
            &format!("cannot unwrap the keyring ({})", wrapped.key),
        )
    })?;
    Keyring::decode(&plaintext).context("the unwrapped keyring is malformed")
}

/// The configured key is there and usable (which the unwrap of a keyring wrapped under an
/// earlier key would not show).
async fn checked(manager: &dyn KeyManager) -> anyhow::Result<()> {
    manager
        .check()
        .await
        .map_err(|error| failed(manager, error, "the configured key is not usable"))
}

/// A key manager's refusal, with what was being done, which manager, and which settings
/// to look at (never their values).
fn failed(manager: &dyn KeyManager, error: KeyManagerError, doing: &str) -> anyhow::Error {
    let hint = managers::hint(manager.kind(), &error);
    anyhow::Error::new(error).context(format!("{doing} with {}; {hint}", manager.describe()))
}

/// An installation-wide audit event of the keyring (no organization).
async fn audit<S: LogStore>(
    store: &S,
    action: AuditAction,
    subject: Option<&str>,
) -> anyhow::Result<()> {
    store
        .append_log(LogRecord::Audit(AuditEvent {
            id: uuid::Uuid::now_v7(),
            organization_id: None,
            actor: None,
            actor_subject: subject.map(str::to_owned),
            action,
            target: None,
            outcome: AuditOutcome::Success,
            reason: None,
            at: OffsetDateTime::now_utc(),
            count: 1,
            via: None,
            chain: None,
        }))
        .await
        .context("cannot write the audit event of the keyring's change")
}

impl KeyHierarchy {
    /// The configured key manager.
    #[must_use]
    pub fn manager(&self) -> &Arc<dyn KeyManager> {
        &self.manager
    }

    /// Where the static keys came from.
    #[must_use]
    pub const fn source(&self) -> &KeySource {
        &self.source
    }

    /// The stored keyring's generation this process holds (`None`: no stored keyring).
    #[must_use]
    pub fn generation(&self) -> Option<i64> {
        self.lock().generation
    }

    /// The ids of the keyring's keys (empty without a stored keyring).
    #[must_use]
    pub fn keyring_key_ids(&self) -> Vec<KeyId> {
        self.lock()
            .keyring
            .as_ref()
            .map(|k| k.keys().map(key_id_of).collect())
            .unwrap_or_default()
    }

    /// The ids of `ENCRYPTION_KEY` and `ENCRYPTION_KEYS_PREVIOUS`.
    #[must_use]
    pub fn static_key_ids(&self) -> Vec<KeyId> {
        self.handle.static_key_ids()
    }

    /// How often replicas look for a change.
    #[must_use]
    pub const fn refresh_interval(&self) -> Duration {
        self.refresh_interval
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Which key manager's key wraps the stored keyring (`None`: no stored keyring).
    #[must_use]
    pub fn wrapped_by(&self) -> Option<String> {
        self.lock().wrapped_by.clone()
    }

    /// Installs `keyring` of `generation`, wrapped by `wrapped_by`.
    fn adopt(&self, generation: i64, keyring: Keyring, wrapped_by: String) {
        self.handle.install(&keyring);
        let mut state = self.lock();
        state.generation = Some(generation);
        state.keyring = Some(keyring);
        state.wrapped_by = Some(wrapped_by);
    }

    /// Follows a change another process made: through the hand-over when this process
    /// holds the key it is sealed under, else through the key manager. Returns whether the
    /// keyring changed.
    ///
    /// # Errors
    /// The store fails, or neither way opens the new keyring (this process keeps the keys
    /// it has, and tries again at the next interval).
    pub async fn refresh<S: MetaStore>(
        &self,
        store: &S,
        cipher: &dyn Cipher,
    ) -> anyhow::Result<bool> {
        let Some(stored) = store.get_keyring().await? else {
            return Ok(false);
        };
        if self.generation() == Some(stored.generation) {
            return Ok(false);
        }
        let handed_over = stored.handover.as_ref().and_then(|handover| {
            cipher
                .open(handover, &Aad::keyring_handover(stored.generation))
                .ok()
                .and_then(|plain| Keyring::decode(&plain).ok())
        });
        let keyring = match handed_over {
            Some(keyring) => keyring,
            None => {
                let manager = self.manager_for(&stored.wrapped)?;
                unwrap(&*manager, &stored.wrapped).await?
            }
        };
        self.adopt(stored.generation, keyring, stored.wrapped.key.clone());
        tracing::info!(
            generation = stored.generation,
            current_key = %self.handle.current_key_id(),
            "loaded a changed keyring"
        );
        Ok(true)
    }

    /// The manager that can unwrap `wrapped`: the configured one, or the one that wrapped
    /// it at start.
    fn manager_for(&self, wrapped: &WrappedKeyring) -> anyhow::Result<Arc<dyn KeyManager>> {
        if wrapped.manager == self.manager.kind() {
            return Ok(self.manager.clone());
        }
        self.wrapped_by
            .iter()
            .find(|m| m.kind() == wrapped.manager)
            .cloned()
            .ok_or_else(|| {
                anyhow!(
                    "the keyring is wrapped by the {} key manager, which is not configured",
                    wrapped.manager
                )
            })
    }

    /// The stored keyring, which must be the one this process holds.
    async fn current_stored<S: MetaStore>(
        &self,
        store: &S,
    ) -> anyhow::Result<Option<StoredKeyring>> {
        let stored = store
            .get_keyring()
            .await
            .context("cannot read the stored keyring")?;
        if stored.as_ref().map(|s| s.generation) != self.generation() {
            bail!("the keyring changed while this command ran: run it again");
        }
        Ok(stored)
    }

    /// `keys rotate`: a new key-encryption key, current from now on, wrapped by the key
    /// manager with the others. Returns its id.
    ///
    /// # Errors
    /// The key manager fails, or the keyring changed meanwhile (nothing is written then).
    pub async fn rotate<S: MetaStore + LogStore>(
        &self,
        store: &S,
        cipher: &dyn Cipher,
        subject: &str,
    ) -> anyhow::Result<KeyId> {
        let stored = self.current_stored(store).await?;
        let key = KeyEncryptionKey::generate().context("cannot generate a key")?;
        let rotated = match &self.lock().keyring {
            Some(keyring) => keyring.rotated(key.to_bytes())?,
            None => Keyring::new(key.to_bytes()),
        };
        self.save(store, cipher, stored.as_ref(), rotated).await?;
        audit(store, AuditAction::KeyringRotate, Some(subject)).await?;
        Ok(key.key_id())
    }

    /// Wraps the keyring again under the configured key manager's current key, when it is
    /// under another manager or another key (a key manager's own rotation, or a migration).
    /// Returns whether it did.
    ///
    /// # Errors
    /// The key manager fails, or the keyring changed meanwhile.
    pub async fn rewrap_keyring<S: MetaStore + LogStore>(
        &self,
        store: &S,
        cipher: &dyn Cipher,
        subject: &str,
    ) -> anyhow::Result<bool> {
        let Some(stored) = self.current_stored(store).await? else {
            return Ok(false);
        };
        let Some(keyring) = self.lock().keyring.clone() else {
            return Ok(false);
        };
        let probe = self.wrap(&keyring).await?;
        if probe.manager == stored.wrapped.manager && probe.key == stored.wrapped.key {
            return Ok(false);
        }
        self.save_wrapped(store, cipher, Some(&stored), keyring, probe)
            .await?;
        audit(store, AuditAction::KeyringRewrap, Some(subject)).await?;
        Ok(true)
    }

    async fn wrap(&self, keyring: &Keyring) -> anyhow::Result<WrappedKeyring> {
        self.manager
            .wrap(&keyring.encode(), CONTEXT)
            .await
            .map_err(|error| failed(&*self.manager, error, "cannot wrap the keyring"))
    }

    async fn save<S: MetaStore>(
        &self,
        store: &S,
        cipher: &dyn Cipher,
        stored: Option<&StoredKeyring>,
        keyring: Keyring,
    ) -> anyhow::Result<()> {
        let wrapped = self.wrap(&keyring).await?;
        self.save_wrapped(store, cipher, stored, keyring, wrapped)
            .await
    }

    /// Stores the next generation, handed over under the key current now, and installs it.
    async fn save_wrapped<S: MetaStore>(
        &self,
        store: &S,
        cipher: &dyn Cipher,
        stored: Option<&StoredKeyring>,
        keyring: Keyring,
        wrapped: WrappedKeyring,
    ) -> anyhow::Result<()> {
        let generation = stored.map_or(1, |s| s.generation + 1);
        let handover = cipher
            .seal(&keyring.encode(), &Aad::keyring_handover(generation))
            .context("cannot seal the keyring's hand-over")?;
        let wrapped_by = wrapped.key.clone();
        let next = StoredKeyring {
            generation,
            wrapped,
            handover: Some(handover),
            changed_at: OffsetDateTime::now_utc(),
        };
        if !store
            .save_keyring(&next, stored.map(|s| s.generation))
            .await
            .context("cannot store the keyring")?
        {
            bail!("the keyring changed while this command ran: run it again");
        }
        self.adopt(generation, keyring, wrapped_by);
        Ok(())
    }

    /// Waits until every replica has had two intervals to load the keyring's last change,
    /// so none meets a row sealed under a key it does not hold yet.
    ///
    /// # Errors
    /// The store fails.
    pub async fn wait_for_replicas<S: MetaStore>(&self, store: &S) -> anyhow::Result<Duration> {
        let Some(stored) = store.get_keyring().await? else {
            return Ok(Duration::ZERO);
        };
        let settle = self.refresh_interval * 2;
        let since = (OffsetDateTime::now_utc() - stored.changed_at)
            .try_into()
            .unwrap_or(Duration::ZERO);
        let wait = settle.saturating_sub(since);
        if !wait.is_zero() {
            tokio::time::sleep(wait).await;
        }
        Ok(wait)
    }

    /// Drops the hand-over once nothing needs it (every row under the current key), at the
    /// same generation: no replica reloads for it.
    ///
    /// # Errors
    /// The store fails.
    pub async fn clear_handover<S: MetaStore>(&self, store: &S) -> anyhow::Result<bool> {
        let Some(stored) = store.get_keyring().await? else {
            return Ok(false);
        };
        if stored.handover.is_none() {
            return Ok(false);
        }
        let cleared = StoredKeyring {
            handover: None,
            ..stored.clone()
        };
        Ok(store
            .save_keyring(&cleared, Some(stored.generation))
            .await?)
    }

    /// Records that a migration to the configured key manager is complete.
    ///
    /// # Errors
    /// The audit event cannot be written.
    pub async fn audit_migrated<S: LogStore>(
        &self,
        store: &S,
        subject: &str,
    ) -> anyhow::Result<()> {
        audit(store, AuditAction::KeyringMigrate, Some(subject)).await
    }
}

#[cfg(test)]
mod tests;
