//! `vault-server keys ...`: the operator's key commands. Each opens the vault as a server
//! does (so the key manager unwraps the keyring first) and works beside running servers.

use std::io::Write;

use anyhow::{Context, bail};
use vault_core::vault::OPERATOR_SUBJECT;
use vault_core::versions::SealedKind;
use vault_core::{KeyId, Store};

use crate::app::{ServerVault, VaultJob, dev_key_notice, with_vault};
use crate::keyring::{KeyHierarchy, KeySource};
use crate::settings::Settings;

/// `vault-server keys status`: how many sealed rows each key still protects.
#[derive(Debug)]
pub struct KeysStatus;

impl VaultJob for KeysStatus {
    type Output = ();

    async fn run<S: Store>(self, vault: ServerVault<S>, keys: KeyHierarchy) -> anyhow::Result<()> {
        dev_key_notice(keys.source())?;
        let status = vault.key_status().await?;
        let mut out = std::io::stdout().lock();
        // Connections and webhooks before credentials: scripts read the last three columns.
        writeln!(
            out,
            "{:<20} {:>8} {:>9} {:>12} {:>12} {:>10} {:>6}",
            "key id", "current", "webhooks", "connections", "credentials", "versions", "meta"
        )?;
        for key in &status.keys {
            writeln!(
                out,
                "{:<20} {:>8} {:>9} {:>12} {:>12} {:>10} {:>6}",
                key.key_id.as_str(),
                if key.key_id == status.current {
                    "yes"
                } else {
                    ""
                },
                key.webhooks,
                key.connections,
                key.credentials,
                key.versions,
                key.meta
            )?;
        }
        let old = status.rows_under_old_keys();
        describe_keyring(&mut out, &keys)?;
        if let KeySource::DevFile(file) = keys.source() {
            // A key found on disk says nothing about the keys the servers run with.
            writeln!(
                out,
                "\nread with the DEVELOPMENT key file {}, not a configured ENCRYPTION_KEY: \
                 run this with the servers' ENCRYPTION_KEY and ENCRYPTION_KEYS_PREVIOUS \
                 before removing any key",
                file.display()
            )?;
        } else if old == 0 {
            writeln!(
                out,
                "\nevery sealed row is under the current key: older keys can be removed from ENCRYPTION_KEYS_PREVIOUS"
            )?;
        } else {
            writeln!(
                out,
                "\n{old} sealed rows are still under older keys: run `vault-server keys rewrap`"
            )?;
        }
        Ok(())
    }
}

/// What a full rewrap did.
#[derive(Debug, Default)]
struct Rewrapped {
    rows: u64,
    changed: u64,
    failures: Vec<vault_core::RewrapFailure>,
}

/// Wraps the keyring again under the key manager's current key when it is not (a key
/// manager's own rotation, a migration), waits until every replica holds the keyring's
/// last change, moves every sealed row to the current key, and drops the hand-over once no
/// row is left behind.
async fn rewrap_everything<S: Store>(
    vault: &ServerVault<S>,
    keys: &KeyHierarchy,
    batch: usize,
) -> anyhow::Result<Rewrapped> {
    use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
    let mut err = std::io::stderr().lock();
    if keys
        .rewrap_keyring(vault.store(), vault.cipher(), OPERATOR_SUBJECT)
        .await?
    {
        writeln!(
            err,
            "wrapped the keyring again with {}",
            keys.manager().describe()
        )?;
    }
    let waited = keys.wait_for_replicas(vault.store()).await?;
    if !waited.is_zero() {
        writeln!(
            err,
            "waited {} ms for every server to load the keyring's last change",
            waited.as_millis()
        )?;
    }
    let total = vault.key_status().await?.rows_under_old_keys();
    let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
    bar.set_style(
        ProgressStyle::with_template("rewrapping {bar:40} {pos}/{len} rows  {per_sec}  eta {eta}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let mut done = Rewrapped::default();
    for kind in SealedKind::ALL {
        let mut after = None;
        loop {
            let batch = vault
                .rewrap_batch(kind, after.as_ref(), batch.max(1))
                .await
                .context("the rewrap stopped; run it again to continue where it was")?;
            bar.inc(batch.scanned as u64);
            done.rows += batch.rewrapped;
            done.changed += batch.changed_meanwhile;
            done.failures.extend(batch.failures);
            match batch.next {
                Some(next) => after = Some(next),
                None => break,
            }
        }
    }
    bar.finish_and_clear();
    if done.failures.is_empty() && vault.key_status().await?.rows_under_old_keys() == 0 {
        keys.clear_handover(vault.store()).await?;
    }
    Ok(done)
}

/// Refuses to go on when rows could not be moved, naming the missing keys.
fn refuse_failures(failures: &[vault_core::RewrapFailure]) -> anyhow::Result<()> {
    if failures.is_empty() {
        return Ok(());
    }
    let mut missing: Vec<String> = failures
        .iter()
        .map(|f| match &f.error {
            vault_core::CipherError::UnknownKey(key) => format!("key {key} is not configured"),
            other => other.to_string(),
        })
        .collect();
    missing.sort();
    missing.dedup();
    bail!(
        "{} sealed rows could not be rewrapped: {}. Add the missing keys to ENCRYPTION_KEYS_PREVIOUS and run the rewrap again",
        failures.len(),
        missing.join("; ")
    )
}

/// `vault-server keys rewrap`: moves every sealed row to the current key, in batches,
/// while servers keep serving (first wrapping the keyring again under the key manager's
/// current key, if a key manager's own key was rotated). Safe to interrupt and to run
/// again.
#[derive(Debug)]
pub struct Rewrap {
    /// Rows per batch.
    pub batch: usize,
}

impl VaultJob for Rewrap {
    type Output = ();

    async fn run<S: Store>(self, vault: ServerVault<S>, keys: KeyHierarchy) -> anyhow::Result<()> {
        dev_key_notice(keys.source())?;
        let done = rewrap_everything(&vault, &keys, self.batch).await?;
        let after = vault.key_status().await?;
        let mut out = std::io::stdout().lock();
        writeln!(
            out,
            "rewrapped {} sealed rows to key {} ({} changed meanwhile and were already sealed under it); {} rows remain under older keys",
            done.rows,
            after.current,
            done.changed,
            after.rows_under_old_keys()
        )?;
        refuse_failures(&done.failures)
    }
}

/// `vault-server keys rotate`: a new key-encryption key, current from now on, wrapped by
/// the key manager with the others; `keys rewrap` then moves rows onto it.
#[derive(Debug)]
pub struct Rotate;

impl VaultJob for Rotate {
    type Output = KeyId;

    async fn run<S: Store>(
        self,
        vault: ServerVault<S>,
        keys: KeyHierarchy,
    ) -> anyhow::Result<KeyId> {
        dev_key_notice(keys.source())?;
        let id = keys
            .rotate(vault.store(), vault.cipher(), OPERATOR_SUBJECT)
            .await?;
        let mut out = std::io::stdout().lock();
        writeln!(
            out,
            "key {id} is now the current key-encryption key (keyring generation {}), wrapped by {}.\n\
             Running servers load it within {} ms. Run `vault-server keys rewrap` to move every sealed row onto it.",
            keys.generation().unwrap_or_default(),
            keys.manager().describe(),
            keys.refresh_interval().as_millis()
        )?;
        Ok(id)
    }
}

/// `vault-server keys migrate`: moves the installation onto the configured key manager.
/// The keyring is wrapped again by it (from the manager that wrapped it, whose settings
/// must still be given), or, coming from the static key, was created at start under it;
/// then every row moves onto the keyring's current key, and the old keys open nothing any
/// more. Resumable: each step is done once and skipped when done. Audited when complete.
#[derive(Debug)]
pub struct Migrate {
    /// Rows per batch.
    pub batch: usize,
}

impl VaultJob for Migrate {
    type Output = ();

    async fn run<S: Store>(self, vault: ServerVault<S>, keys: KeyHierarchy) -> anyhow::Result<()> {
        dev_key_notice(keys.source())?;
        if keys.generation().is_none() {
            bail!(
                "nothing to migrate: the static key manager without a keyring is ENCRYPTION_KEY \
                 itself. Set VAULT_KEY_MANAGER (and its settings) to the key manager to migrate \
                 to, keep ENCRYPTION_KEY set, and run this again"
            );
        }
        let done = rewrap_everything(&vault, &keys, self.batch).await?;
        refuse_failures(&done.failures)?;
        let status = vault.key_status().await?;
        let keyring = keys.keyring_key_ids();
        let outside: u64 = status
            .keys
            .iter()
            .filter(|k| !keyring.contains(&k.key_id))
            .map(vault_core::versions::KeyUsage::total)
            .sum();
        if outside > 0 {
            bail!(
                "{outside} sealed rows are still under keys outside the keyring (changed while \
                 the migration ran): run `vault-server keys migrate` again"
            );
        }
        keys.audit_migrated(vault.store(), OPERATOR_SUBJECT).await?;
        let mut out = std::io::stdout().lock();
        writeln!(
            out,
            "migrated: the keyring is wrapped by {}, and every sealed row ({} moved now) is under its current key {}.",
            keys.manager().describe(),
            done.rows,
            status.current
        )?;
        let statics = keys.static_key_ids();
        if !statics.is_empty() && keys.manager().kind() != "static" {
            writeln!(
                out,
                "ENCRYPTION_KEY and ENCRYPTION_KEYS_PREVIOUS ({}) no longer open anything: remove them from every server's environment.",
                statics
                    .iter()
                    .map(KeyId::as_str)
                    .collect::<Vec<_>>()
                    .join(", ")
            )?;
        }
        Ok(())
    }
}

/// The keyring's line of `keys status`: who wraps it, and its generation.
fn describe_keyring(out: &mut impl Write, keys: &KeyHierarchy) -> std::io::Result<()> {
    match keys.generation() {
        Some(generation) => writeln!(
            out,
            "\nkeyring generation {generation} ({} keys), wrapped by {} ({})",
            keys.keyring_key_ids().len(),
            keys.wrapped_by().unwrap_or_default(),
            keys.manager().describe()
        ),
        None => writeln!(
            out,
            "\nno keyring: ENCRYPTION_KEY is the key-encryption key"
        ),
    }
}

/// `vault-server keys status`.
///
/// # Errors
/// Any start-up failure.
pub async fn keys_status(settings: &Settings) -> anyhow::Result<()> {
    with_vault(settings, KeysStatus).await
}

/// `vault-server keys rewrap`.
///
/// # Errors
/// Any start-up failure, a store failure (run it again), or rows under missing keys.
pub async fn rewrap(settings: &Settings, batch: usize) -> anyhow::Result<()> {
    with_vault(settings, Rewrap { batch }).await
}

/// `vault-server keys rotate`.
///
/// # Errors
/// Any start-up failure, the key manager failing, or the keyring changed meanwhile.
pub async fn rotate(settings: &Settings) -> anyhow::Result<()> {
    with_vault(settings, Rotate).await.map(|_| ())
}

/// `vault-server keys migrate`.
///
/// # Errors
/// Any start-up failure, the key manager failing, rows under missing keys.
pub async fn migrate(settings: &Settings, batch: usize) -> anyhow::Result<()> {
    with_vault(settings, Migrate { batch }).await
}

/// `vault-server keys generate`: a fresh key for `ENCRYPTION_KEY`.
///
/// # Errors
/// When the system random generator fails.
pub fn generate_key() -> anyhow::Result<()> {
    let key = vault_cipher_ring::KeyEncryptionKey::generate().context("cannot generate a key")?;
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "{}",
        secrecy::ExposeSecret::expose_secret(&key.to_base64())
    )?;
    Ok(())
}
