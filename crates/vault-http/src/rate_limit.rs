//! A per-caller rate limit: one token bucket (GCRA, governor's exact equivalent) for each
//! access key and each identity-provider subject, in this process.

use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use governor::clock::{Clock as _, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};
use vault_core::{AccessKeyId, OrganizationId, Principal};

/// How fast each caller may go.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RateLimit {
    /// Requests per second the bucket refills with; 0 turns the limit off.
    pub per_second: u32,
    /// Requests the bucket holds: the burst a caller may send at once.
    pub burst: u32,
}

impl Default for RateLimit {
    fn default() -> Self {
        Self {
            per_second: 500,
            burst: 1000,
        }
    }
}

/// Who a bucket belongs to.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum Caller {
    Key(AccessKeyId),
    Subject(OrganizationId, String),
    /// An embedder's system principal: one bucket per organization.
    System(OrganizationId),
}

/// The buckets of every caller.
pub struct RateLimiter {
    limiter: Option<DefaultKeyedRateLimiter<Caller>>,
    checks: AtomicU64,
}

impl std::fmt::Debug for RateLimiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RateLimiter")
            .field("enabled", &self.limiter.is_some())
            .finish_non_exhaustive()
    }
}

/// Buckets idle long enough to be full again are dropped every this many checks, so
/// memory follows the callers active lately, not every key ever seen.
const PRUNE_EVERY: u64 = 4096;

impl RateLimiter {
    /// Buckets of `limit` for every caller; shared by all workers of a server.
    #[must_use]
    pub fn new(limit: RateLimit) -> Self {
        let limiter = NonZeroU32::new(limit.per_second).map(|rate| {
            let burst = NonZeroU32::new(limit.burst).unwrap_or(rate);
            DefaultKeyedRateLimiter::keyed(Quota::per_second(rate).allow_burst(burst))
        });
        Self {
            limiter,
            checks: AtomicU64::new(0),
        }
    }

    /// Takes one request from the caller's bucket, or says how long until one is there.
    /// # Errors
    /// The time until the caller's next request is allowed.
    pub fn check(&self, who: &Principal) -> Result<(), Duration> {
        let Some(limiter) = &self.limiter else {
            return Ok(());
        };
        let caller = match (&who.access_key_id, &who.subject) {
            (Some(key), _) => Caller::Key(*key),
            (None, Some(subject)) => Caller::Subject(who.organization_id, subject.clone()),
            (None, None) => Caller::System(who.organization_id),
        };
        if self.checks.fetch_add(1, Ordering::Relaxed) % PRUNE_EVERY == PRUNE_EVERY - 1 {
            limiter.retain_recent();
        }
        limiter
            .check_key(&caller)
            .map_err(|not_until| not_until.wait_time_from(DefaultClock::default().now()))
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    fn key_principal() -> Principal {
        Principal {
            organization_id: OrganizationId::new(),
            access_key_id: Some(AccessKeyId::new()),
            subject: None,
            scopes: BTreeSet::new(),
        }
    }

    #[test]
    fn a_caller_gets_its_burst_then_waits() {
        let limiter = RateLimiter::new(RateLimit {
            per_second: 1,
            burst: 3,
        });
        let who = key_principal();
        for _ in 0..3 {
            assert_eq!(limiter.check(&who), Ok(()));
        }
        let wait = limiter.check(&who).expect_err("over the burst");
        assert!(
            wait > Duration::ZERO && wait <= Duration::from_secs(1),
            "{wait:?}"
        );
        // Another caller has a bucket of its own.
        assert_eq!(limiter.check(&key_principal()), Ok(()));
    }

    #[test]
    fn zero_turns_the_limit_off() {
        let limiter = RateLimiter::new(RateLimit {
            per_second: 0,
            burst: 0,
        });
        let who = key_principal();
        for _ in 0..10_000 {
            assert_eq!(limiter.check(&who), Ok(()));
        }
    }

    #[test]
    fn subjects_of_one_identity_provider_have_separate_buckets() {
        let limiter = RateLimiter::new(RateLimit {
            per_second: 1,
            burst: 1,
        });
        let organization = OrganizationId::new();
        let subject = |s: &str| Principal {
            organization_id: organization,
            access_key_id: None,
            subject: Some(s.to_owned()),
            scopes: BTreeSet::new(),
        };
        assert_eq!(limiter.check(&subject("alice")), Ok(()));
        assert!(limiter.check(&subject("alice")).is_err());
        assert_eq!(limiter.check(&subject("bob")), Ok(()));
    }
}
