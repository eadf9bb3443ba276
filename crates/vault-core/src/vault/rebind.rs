//! The one-time rebind of credentials' current secrets to their version.
//!
//! Releases before it sealed a credential's current secrets bound to (organization, id,
//! purpose) only, so an older blob put back over the row (by someone with write access to
//! the database) opened as if it were current. Current rows are now bound to the version
//! column too. Rows of earlier releases are opened under the old binding and sealed again
//! under the new one when a vault opens, in batches, each row replaced only if it did not
//! change meanwhile; then a marker records that it is done, and from then on nothing opens
//! a row under the old binding. The use path never does: an unbound row fails like a
//! tampered one.
//!
//! The limit: whoever can write the database can also delete the marker and put back a
//! blob of an earlier release, which the next start then rebinds; and a whole row rolled
//! back (blob and version together) is a consistent older row. Telling either from a
//! backup restore needs state outside the database.

use super::OpenError;
use crate::cipher::{Aad, Cipher, CipherError, KeyId, Purpose};
use crate::store::Store;
use crate::versions::{SealedKind, SealedRef, SealedRow};

/// The `vault_meta` name of the marker: every current row is bound to its version.
pub(super) const BOUND_MARKER_NAME: &str = "credentials-bound-to-version";
const BOUND_MARKER_PLAINTEXT: &[u8] = b"credential rows bound to their version v1";
/// Rows read per batch.
const BATCH: usize = 500;
/// Full passes before giving up until the next start (a pass repeats only when a row
/// changed under it, e.g. written by a replica of an earlier release).
const MAX_PASSES: usize = 3;

/// What one pass over every credential found.
#[derive(Debug, Default)]
struct Pass {
    rebound: u64,
    /// Changed between read and write: read again in another pass.
    changed: u64,
    /// Under a key that is not configured: rebound once the key is back.
    missing_key: u64,
    /// Opens under neither binding: never will.
    unreadable: u64,
}

/// Binds every credential's current secrets to its version, once per database.
///
/// # Errors
/// When the store or the cipher's random generator fails; rows that cannot be opened are
/// logged, not errors.
pub(super) async fn bind_current_rows<S: Store>(
    store: &S,
    cipher: &dyn Cipher,
) -> Result<(), OpenError> {
    if store.get_meta(BOUND_MARKER_NAME).await?.is_some() {
        return Ok(());
    }
    for _ in 0..MAX_PASSES {
        let pass = one_pass(store, cipher).await?;
        if pass.rebound > 0 || pass.unreadable > 0 {
            tracing::info!(
                rebound = pass.rebound,
                unreadable = pass.unreadable,
                "bound the current secrets of stored credentials to their versions"
            );
        }
        if pass.missing_key > 0 {
            tracing::warn!(
                rows = pass.missing_key,
                "credentials sealed under a key that is not configured are not yet bound to \
                 their versions: add the key to ENCRYPTION_KEYS_PREVIOUS and start again"
            );
            return Ok(());
        }
        if pass.changed == 0 {
            let marker = cipher.seal(
                BOUND_MARKER_PLAINTEXT,
                &Aad::installation(Purpose::MigrationMarker),
            )?;
            // Racing replicas: the first marker wins, and any is as good.
            store
                .insert_meta_if_absent(BOUND_MARKER_NAME, &marker)
                .await?;
            return Ok(());
        }
    }
    tracing::warn!(
        "credentials kept changing while being bound to their versions (a replica of an \
         earlier release still writing?); the binding continues at the next start"
    );
    Ok(())
}

async fn one_pass<S: Store>(store: &S, cipher: &dyn Cipher) -> Result<Pass, OpenError> {
    // No key has an empty id, so "not under it" is every credential.
    let every_key = KeyId::new("");
    let mut pass = Pass::default();
    let mut after: Option<SealedRef> = None;
    loop {
        let rows = store
            .sealed_batch(SealedKind::Credential, &every_key, after.as_ref(), BATCH)
            .await?;
        for row in &rows {
            rebind_row(store, cipher, row, &mut pass).await?;
        }
        match rows.last() {
            Some(last) if rows.len() == BATCH => after = Some(last.reference.clone()),
            _ => return Ok(pass),
        }
    }
}

async fn rebind_row<S: Store>(
    store: &S,
    cipher: &dyn Cipher,
    row: &SealedRow,
    pass: &mut Pass,
) -> Result<(), OpenError> {
    let SealedRef::Credential {
        organization_id,
        id,
        version,
    } = row.reference
    else {
        return Ok(());
    };
    let bound = Aad::credential_secrets(organization_id, id, version);
    if cipher.open(&row.sealed, &bound).is_ok() {
        return Ok(());
    }
    let unbound = Aad::unbound_credential_secrets(organization_id, id);
    match cipher.open(&row.sealed, &unbound) {
        // The plaintext is wiped when dropped (`Plaintext` is zeroizing).
        Ok(plaintext) => {
            let sealed = cipher.seal(&plaintext, &bound)?;
            if store.replace_sealed(row, &sealed).await? {
                pass.rebound += 1;
            } else {
                pass.changed += 1;
            }
        }
        Err(CipherError::UnknownKey(_)) => pass.missing_key += 1,
        Err(_) => {
            tracing::warn!(credential = %id, "a credential's sealed secrets open under no binding; it stays unusable");
            pass.unreadable += 1;
        }
    }
    Ok(())
}
