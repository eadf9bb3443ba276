//! Credentials, and each credential's grants, kept in memory by a store, so that a use or
//! a read by id need not reach the database. A change of a credential or of its grants is
//! a change of that credential id. The store tells the cache of every change it makes, and of every change it
//! hears of from elsewhere (PostgreSQL's notifications); what nobody announces is served
//! for at most [`FRESH_FOR`].
//!
//! A read racing a change never keeps the old row: an entry is kept only if no change of
//! it was heard while it was read ([`CredentialCache::mark`] before, [`keep`] after). A
//! store's own writes keep what they wrote ([`ForgetAfter::wrote`]), or forget it when they
//! fail or are cancelled. The cache serves nothing until the store says it may
//! ([`CredentialCache::serve`]): PostgreSQL's only while it listens for changes.
//!
//! [`keep`]: CredentialCache::keep

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use crate::credential::StoredCredential;
use crate::grants::Grant;
use crate::ids::{CredentialId, OrganizationId};

/// How long an entry is served: the bound on staleness when a change is never announced.
pub const FRESH_FOR: Duration = Duration::from_secs(1);

/// Most credentials kept; past this the cache starts afresh.
const CAPACITY: usize = 10_000;

/// Credentials read recently, by id.
#[derive(Debug, Default)]
pub struct CredentialCache {
    entries: Mutex<Entries>,
    /// Whether entries may be served (and kept).
    serving: AtomicBool,
    /// The store was closed: nothing is served from memory any more.
    closed: AtomicBool,
}

/// What the cache holds, and the changes it heard, numbered: a read or a write keeps its
/// row only if no change of that credential was heard since it began.
#[derive(Debug, Default)]
struct Entries {
    /// Each with when the read (or write) that found it began.
    kept: HashMap<CredentialId, (Instant, StoredCredential)>,
    /// Each credential's grants, with when the read began and their organization.
    grants: HashMap<CredentialId, (Instant, OrganizationId, Vec<Grant>)>,
    /// The number of the last change heard.
    heard: u64,
    /// The number of the last change heard of each credential.
    changed: HashMap<CredentialId, u64>,
    /// What began before this keeps nothing: everything was forgotten (or `changed`).
    floor: u64,
}

impl Entries {
    /// Whether nothing changed credential `id` since `mark`.
    fn unchanged_since(&self, mark: &Mark, id: CredentialId) -> bool {
        mark.heard >= self.floor && self.changed.get(&id).is_none_or(|last| *last <= mark.heard)
    }

    fn keep(&mut self, mark: &Mark, stored: &StoredCredential) {
        if self.kept.len() >= CAPACITY {
            self.kept.clear();
        }
        self.kept
            .insert(stored.credential.id, (mark.at, stored.clone()));
    }

    /// Numbers a change of `id` (of every credential for `None`) and forgets it.
    fn change(&mut self, id: Option<CredentialId>) {
        self.heard += 1;
        match id {
            Some(id) => {
                self.kept.remove(&id);
                self.grants.remove(&id);
                if self.changed.len() >= CAPACITY {
                    self.changed.clear();
                    self.floor = self.heard;
                }
                self.changed.insert(id, self.heard);
            }
            None => {
                self.kept.clear();
                self.grants.clear();
                self.changed.clear();
                self.floor = self.heard;
            }
        }
    }
}

impl CredentialCache {
    /// A cache that serves nothing until [`Self::serve`] says it may.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    fn entries(&self) -> MutexGuard<'_, Entries> {
        self.entries.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The cached credential, if the cache serves and has it, fresh.
    pub fn get(&self, organization: OrganizationId, id: CredentialId) -> Option<StoredCredential> {
        if !self.serving.load(Ordering::Acquire) {
            return None;
        }
        self.entries()
            .kept
            .get(&id)
            .filter(|(read, stored)| {
                read.elapsed() < FRESH_FOR && stored.credential.organization_id == organization
            })
            .map(|(_, stored)| stored.clone())
    }

    /// The cached grants of credential `id`, if the cache serves and has them, fresh.
    pub fn get_grants(&self, organization: OrganizationId, id: CredentialId) -> Option<Vec<Grant>> {
        if !self.serving.load(Ordering::Acquire) {
            return None;
        }
        self.entries()
            .grants
            .get(&id)
            .filter(|(read, of, _)| read.elapsed() < FRESH_FOR && *of == organization)
            .map(|(_, _, grants)| grants.clone())
    }

    /// Keeps credential `id`'s `grants`, read after `mark`, unless a change of it was
    /// heard since.
    pub fn keep_grants(
        &self,
        mark: &Mark,
        organization: OrganizationId,
        id: CredentialId,
        grants: &[Grant],
    ) {
        if !self.serving.load(Ordering::Acquire) {
            return;
        }
        let mut entries = self.entries();
        if entries.unchanged_since(mark, id) {
            if entries.grants.len() >= CAPACITY {
                entries.grants.clear();
            }
            entries
                .grants
                .insert(id, (mark.at, organization, grants.to_vec()));
        }
    }

    /// Where changes stand before a read or a write; give it to [`Self::keep`] or
    /// [`ForgetAfter::wrote`].
    pub fn mark(&self) -> Mark {
        Mark {
            heard: self.entries().heard,
            at: Instant::now(),
        }
    }

    /// Keeps `stored`, read after `mark`, unless a change of it was heard since.
    pub fn keep(&self, mark: &Mark, stored: &StoredCredential) {
        if !self.serving.load(Ordering::Acquire) {
            return;
        }
        // Checked under the lock that hearing a change takes too: a change heard after
        // this removes the entry after it is inserted.
        let mut entries = self.entries();
        if entries.unchanged_since(mark, stored.credential.id) {
            entries.keep(mark, stored);
        }
    }

    /// Forgets credential `id` (all of them for `None`).
    pub fn forget(&self, id: Option<CredentialId>) {
        self.entries().change(id);
    }

    /// Forgets credential `id` when the returned guard is dropped, unless told what was
    /// written ([`ForgetAfter::wrote`]): after a write returns or is cancelled.
    #[must_use]
    pub const fn forget_after(&self, id: CredentialId) -> ForgetAfter<'_> {
        ForgetAfter {
            cache: self,
            id,
            done: false,
        }
    }

    /// Starts (or stops) serving entries. Either way everything is forgotten, and a read
    /// that began before the switch keeps nothing. Once closed, never serves again.
    pub fn serve(&self, serving: bool) {
        let serving = serving && !self.closed.load(Ordering::Acquire);
        self.forget(None);
        self.serving.store(serving, Ordering::Release);
        self.forget(None);
    }

    /// Serves nothing from now on.
    pub fn close(&self) {
        self.closed.store(true, Ordering::Release);
        self.serve(false);
    }
}

/// Where changes stood, and when, as a read or a write began.
#[derive(Debug)]
pub struct Mark {
    heard: u64,
    at: Instant,
}

/// See [`CredentialCache::forget_after`].
#[derive(Debug)]
pub struct ForgetAfter<'a> {
    cache: &'a CredentialCache,
    id: CredentialId,
    done: bool,
}

impl ForgetAfter<'_> {
    /// The write, begun after `mark`, committed `stored`: keep it, unless a change of it
    /// was heard since. Either way, reads that began before now keep nothing.
    pub fn wrote(mut self, mark: &Mark, stored: &StoredCredential) {
        self.done = true;
        let serving = self.cache.serving.load(Ordering::Acquire);
        let mut entries = self.cache.entries();
        let unchanged = entries.unchanged_since(mark, self.id);
        entries.change(Some(self.id));
        if serving && unchanged {
            entries.keep(mark, stored);
        }
    }
}

impl Drop for ForgetAfter<'_> {
    fn drop(&mut self) {
        if !self.done {
            self.cache.forget(Some(self.id));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::stored_credential;

    fn serving() -> CredentialCache {
        let cache = CredentialCache::new();
        cache.serve(true);
        cache
    }

    #[test]
    fn a_kept_read_is_served_to_its_organization_only() {
        let cache = serving();
        let stored = stored_credential();
        let (organization, id) = (stored.credential.organization_id, stored.credential.id);
        let mark = cache.mark();
        cache.keep(&mark, &stored);
        assert_eq!(
            cache.get(organization, id).map(|s| s.credential.version),
            Some(stored.credential.version)
        );
        assert!(cache.get(OrganizationId::new(), id).is_none());
    }

    #[test]
    fn a_read_racing_a_change_keeps_nothing() {
        let cache = serving();
        let stored = stored_credential();
        let mark = cache.mark();
        cache.forget(Some(stored.credential.id));
        cache.keep(&mark, &stored);
        let (organization, id) = (stored.credential.organization_id, stored.credential.id);
        assert!(cache.get(organization, id).is_none());
        // Nor does a read racing everything being forgotten.
        let mark = cache.mark();
        cache.forget(None);
        cache.keep(&mark, &stored);
        assert!(cache.get(organization, id).is_none());
    }

    #[test]
    fn a_write_keeps_what_it_wrote_and_a_failed_one_forgets() {
        let cache = serving();
        let stored = stored_credential();
        let (organization, id) = (stored.credential.organization_id, stored.credential.id);
        let mark = cache.mark();
        cache.forget_after(id).wrote(&mark, &stored);
        assert!(cache.get(organization, id).is_some());
        // A read that began before that write keeps nothing.
        let before = cache.mark();
        let mark = cache.mark();
        drop(cache.forget_after(id));
        assert!(cache.get(organization, id).is_none());
        cache.keep(&before, &stored);
        assert!(cache.get(organization, id).is_none());
        cache.keep(&cache.mark(), &stored);
        assert!(cache.get(organization, id).is_some());
        // A write whose credential changed meanwhile keeps nothing either.
        cache.forget(Some(id));
        cache.forget_after(id).wrote(&mark, &stored);
        assert!(cache.get(organization, id).is_none());
    }

    #[test]
    fn grants_are_kept_per_credential_and_forgotten_with_it() {
        let cache = serving();
        let stored = stored_credential();
        let (organization, id) = (stored.credential.organization_id, stored.credential.id);
        cache.keep_grants(&cache.mark(), organization, id, &[]);
        assert_eq!(cache.get_grants(organization, id), Some(Vec::new()));
        assert!(cache.get_grants(OrganizationId::new(), id).is_none());
        // A change of the credential (a grant made or revoked) forgets them, and a read
        // racing it keeps nothing.
        let mark = cache.mark();
        cache.forget(Some(id));
        assert!(cache.get_grants(organization, id).is_none());
        cache.keep_grants(&mark, organization, id, &[]);
        assert!(cache.get_grants(organization, id).is_none());
        cache.keep_grants(&cache.mark(), organization, id, &[]);
        cache.forget(None);
        assert!(cache.get_grants(organization, id).is_none());
    }

    #[test]
    fn nothing_is_served_unless_serving_and_never_once_closed() {
        let cache = CredentialCache::new();
        let stored = stored_credential();
        let (organization, id) = (stored.credential.organization_id, stored.credential.id);
        cache.keep(&cache.mark(), &stored);
        assert!(cache.get(organization, id).is_none());
        cache.serve(true);
        cache.keep(&cache.mark(), &stored);
        assert!(cache.get(organization, id).is_some());
        cache.close();
        assert!(cache.get(organization, id).is_none());
        cache.serve(true);
        cache.keep(&cache.mark(), &stored);
        assert!(cache.get(organization, id).is_none());
    }
}
