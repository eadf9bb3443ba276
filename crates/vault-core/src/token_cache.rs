//! Per-credential cache of issued tokens (OAuth2 access tokens, signed JWTs), with single
//! flight: however many callers want a token for one credential at once, one of them
//! fetches it and the others wait for that result.
//!
//! Entries are keyed by credential id *and version*: a credential changed on another
//! replica has a new version, so a stale token is never used even though only this
//! process's cache is dropped on a local update. The cache is per process and safe to lose.

use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use secrecy::SecretString;
use time::{Duration, OffsetDateTime};

use crate::ids::CredentialId;

/// Most credentials a cache holds tokens for before it starts afresh.
const CAPACITY: usize = 10_000;
/// A token is replaced this long before it expires (at most half its lifetime), so it
/// never expires in flight between the vault and the upstream.
const REFRESH_SKEW: Duration = Duration::seconds(30);

/// When to stop using a token that is valid from `now` for `lifetime`.
pub(crate) fn refresh_at(now: OffsetDateTime, lifetime: Duration) -> OffsetDateTime {
    let lifetime = lifetime.max(Duration::ZERO);
    now + lifetime - REFRESH_SKEW.min(lifetime / 2)
}

struct Cached {
    version: i64,
    token: SecretString,
    refresh_at: OffsetDateTime,
}

#[derive(Default)]
struct Slot {
    current: Mutex<Option<Cached>>,
    /// How many fetches have finished; read before queueing, to tell whether a fetch ran
    /// while this caller waited.
    attempts: AtomicU64,
    /// Held by the one caller fetching; the others queue on it. Holds the error of the
    /// last fetch when it failed, so callers that queued behind it share that error
    /// instead of each asking a failing upstream again.
    flight: futures::lock::Mutex<Option<Box<dyn std::any::Any + Send>>>,
}

impl Slot {
    fn fresh(&self, version: i64, now: OffsetDateTime) -> Option<SecretString> {
        let current = self.current.lock().unwrap_or_else(PoisonError::into_inner);
        current
            .as_ref()
            .filter(|c| c.version == version && now < c.refresh_at)
            .map(|c| c.token.clone())
    }
}

#[derive(Default)]
pub(crate) struct TokenCache {
    slots: Mutex<HashMap<CredentialId, Arc<Slot>>>,
}

impl TokenCache {
    /// The cached token of `id` at `version`, or the result of `fetch`, run by exactly one
    /// of the concurrent callers. `fetch` returns the token and when to stop using it.
    pub(crate) async fn get_or_fetch<E, F, Fut>(
        &self,
        id: CredentialId,
        version: i64,
        now: impl Fn() -> OffsetDateTime,
        fetch: F,
    ) -> Result<SecretString, E>
    where
        E: Clone + Send + 'static,
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<(SecretString, OffsetDateTime), E>>,
    {
        let slot = self.slot(id);
        if let Some(token) = slot.fresh(version, now()) {
            return Ok(token);
        }
        let seen = slot.attempts.load(Ordering::Acquire);
        let mut last_failure = slot.flight.lock().await;
        if let Some(token) = slot.fresh(version, now()) {
            return Ok(token);
        }
        if slot.attempts.load(Ordering::Acquire) != seen {
            // Someone fetched while this caller queued, and got no usable token: share
            // that failure.
            if let Some(error) = last_failure.as_ref().and_then(|e| e.downcast_ref::<E>()) {
                return Err(error.clone());
            }
        }
        let fetched = fetch().await;
        slot.attempts.fetch_add(1, Ordering::AcqRel);
        match fetched {
            Ok((token, refresh_at)) => {
                *last_failure = None;
                let mut current = slot.current.lock().unwrap_or_else(PoisonError::into_inner);
                *current = Some(Cached {
                    version,
                    token: token.clone(),
                    refresh_at,
                });
                Ok(token)
            }
            Err(error) => {
                *last_failure = Some(Box::new(error.clone()));
                Err(error)
            }
        }
    }

    /// Forgets the token of `id` (the credential changed or was deleted, or the upstream
    /// refused the token).
    pub(crate) fn invalidate(&self, id: CredentialId) {
        let removed = self
            .slots
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&id);
        if let Some(slot) = removed {
            // A caller still holding this slot must not hand out the old token either.
            *slot.current.lock().unwrap_or_else(PoisonError::into_inner) = None;
        }
    }

    fn slot(&self, id: CredentialId) -> Arc<Slot> {
        let mut slots = self.slots.lock().unwrap_or_else(PoisonError::into_inner);
        if slots.len() >= CAPACITY && !slots.contains_key(&id) {
            // Simplest bound there is: start afresh. Every token can be fetched again.
            slots.clear();
        }
        Arc::clone(slots.entry(id).or_default())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicUsize;
    use std::task::Poll;

    use futures::future::join_all;
    use secrecy::ExposeSecret;

    use super::*;

    fn at(seconds: i64) -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp(1_800_000_000 + seconds).expect("valid")
    }

    /// Returns pending once, so other futures of a `join_all` run before this one resumes.
    async fn yield_now() {
        let mut yielded = false;
        futures::future::poll_fn(|cx| {
            if yielded {
                Poll::Ready(())
            } else {
                yielded = true;
                cx.waker().wake_by_ref();
                Poll::Pending
            }
        })
        .await;
    }

    #[test]
    fn refresh_comes_before_expiry() {
        assert_eq!(refresh_at(at(0), Duration::hours(1)), at(3570));
        assert_eq!(refresh_at(at(0), Duration::seconds(20)), at(10));
        assert_eq!(refresh_at(at(0), Duration::seconds(-5)), at(0));
    }

    #[test]
    fn concurrent_callers_share_one_fetch_and_its_failure() {
        futures::executor::block_on(async {
            let cache = TokenCache::default();
            let id = CredentialId::new();
            let calls = AtomicUsize::new(0);
            let fetch = || async {
                calls.fetch_add(1, Ordering::SeqCst);
                // Yield so the other callers queue up behind this one.
                yield_now().await;
                Ok::<_, String>((SecretString::from("token-1"), at(100)))
            };
            let results =
                join_all((0..50).map(|_| cache.get_or_fetch(id, 1, || at(0), fetch))).await;
            assert!(
                results
                    .iter()
                    .all(|r| r.as_ref().map(|t| t.expose_secret() == "token-1") == Ok(true))
            );
            assert_eq!(calls.load(Ordering::SeqCst), 1);

            // A new version misses; an invalidation misses.
            let token = cache
                .get_or_fetch(
                    id,
                    2,
                    || at(0),
                    || async { Ok::<_, String>((SecretString::from("token-2"), at(100))) },
                )
                .await
                .expect("fetched");
            assert_eq!(token.expose_secret(), "token-2");
            cache.invalidate(id);
            let failures = AtomicUsize::new(0);
            let failing = || async {
                failures.fetch_add(1, Ordering::SeqCst);
                yield_now().await;
                Err::<(SecretString, OffsetDateTime), _>("endpoint down".to_owned())
            };
            let results =
                join_all((0..20).map(|_| cache.get_or_fetch(id, 2, || at(0), failing))).await;
            assert!(results.iter().all(Result::is_err));
            assert_eq!(
                failures.load(Ordering::SeqCst),
                1,
                "queued callers share one failure"
            );
        });
    }

    #[test]
    fn a_token_is_refetched_once_it_is_due() {
        futures::executor::block_on(async {
            let cache = TokenCache::default();
            let id = CredentialId::new();
            let fetch = |token: &'static str| {
                move || async move { Ok::<_, String>((SecretString::from(token), at(60))) }
            };
            let first = cache
                .get_or_fetch(id, 1, || at(0), fetch("a"))
                .await
                .expect("a");
            let cached = cache
                .get_or_fetch(id, 1, || at(59), fetch("b"))
                .await
                .expect("a");
            let due = cache
                .get_or_fetch(id, 1, || at(60), fetch("c"))
                .await
                .expect("c");
            assert_eq!(
                [
                    first.expose_secret(),
                    cached.expose_secret(),
                    due.expose_secret()
                ],
                ["a", "a", "c"]
            );
        });
    }
}
