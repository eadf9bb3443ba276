//! A per-caller rate limit: one token bucket (GCRA, governor's exact equivalent) for each
//! access key and each identity-provider subject, in this process; and a budget of failed
//! authentications per source address, checked before authentication.

use std::collections::HashMap;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use actix_web::HttpRequest;
use governor::clock::{Clock as _, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};
use vault_core::{AccessKeyId, OrganizationId, Principal};

use crate::source::SourceAddresses;

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

/// How many failed authentications each source address may cause.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FailureLimit {
    /// Failures per minute a source's budget regains; 0 turns the limit off.
    pub per_minute: u32,
    /// Failures a source may cause at once.
    pub burst: u32,
}

impl Default for FailureLimit {
    fn default() -> Self {
        Self {
            per_minute: 60,
            burst: 60,
        }
    }
}

/// Budgets of failed authentications per source address, checked before a presented key
/// is even looked up: once a source has spent its failures, its requests get a 429 and
/// cost no store read and no audit row, whatever key they carry (a source cannot be told
/// whether its next key would have worked). Successes spend nothing.
///
/// A GCRA per source, as governor keeps one, written here because the check must not
/// spend: governor can only take a cell, and a success must not take one.
pub struct FailureLimiter {
    /// The time one failure takes to return, and the most the budget runs ahead.
    quota: Option<(Duration, Duration)>,
    sources: SourceAddresses,
    /// Per source: the theoretical arrival time of the next failure.
    buckets: Mutex<HashMap<Source, Instant>>,
    checks: AtomicU64,
}

impl std::fmt::Debug for FailureLimiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FailureLimiter")
            .field("enabled", &self.quota.is_some())
            .field("sources", &self.sources)
            .finish_non_exhaustive()
    }
}

/// Whose budget a failure spends: an IPv4 address, or an IPv6 /64 (one host usually holds a
/// whole /64, and could otherwise take a fresh budget per address).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Source {
    V4(u32),
    V6(u64),
}

impl From<IpAddr> for Source {
    fn from(address: IpAddr) -> Self {
        match address.to_canonical() {
            IpAddr::V4(a) => Self::V4(u32::from(a)),
            IpAddr::V6(a) => Self::V6((u128::from(a) >> 64) as u64),
        }
    }
}

/// Most sources remembered: past it (after dropping the full buckets) the table starts
/// afresh, like the authentication cache. Filling it takes that many addresses.
const MAX_SOURCES: usize = 100_000;

impl FailureLimiter {
    /// Budgets of `limit` per source, found as `sources` says.
    #[must_use]
    pub fn new(limit: FailureLimit, sources: SourceAddresses) -> Self {
        let quota = NonZeroU32::new(limit.per_minute).map(|rate| {
            let interval = Duration::from_secs(60) / rate.get();
            let burst = limit.burst.max(1);
            (interval, interval * (burst - 1))
        });
        Self {
            quota,
            sources,
            buckets: Mutex::default(),
            checks: AtomicU64::new(0),
        }
    }

    /// The request's source, when the limit is on.
    pub(crate) fn source_of(&self, req: &HttpRequest) -> Option<IpAddr> {
        self.quota.and(self.sources.of(req))
    }

    /// Whether `source` may still fail once more; otherwise how long until it may. Spends
    /// nothing.
    /// # Errors
    /// The time until the source's next failure is allowed.
    pub(crate) fn check(&self, source: IpAddr) -> Result<(), Duration> {
        let Some((_, tolerance)) = self.quota else {
            return Ok(());
        };
        let now = Instant::now();
        let buckets = self.buckets.lock().unwrap_or_else(PoisonError::into_inner);
        match buckets.get(&Source::from(source)) {
            Some(next_at) if next_at.saturating_duration_since(now) > tolerance => {
                Err(next_at.saturating_duration_since(now) - tolerance)
            }
            _ => Ok(()),
        }
    }

    /// Spends one failure of `source`'s budget.
    pub(crate) fn failed(&self, source: IpAddr) {
        let Some((interval, _)) = self.quota else {
            return;
        };
        let now = Instant::now();
        let mut buckets = self.buckets.lock().unwrap_or_else(PoisonError::into_inner);
        if self.checks.fetch_add(1, Ordering::Relaxed) % PRUNE_EVERY == PRUNE_EVERY - 1
            || buckets.len() >= MAX_SOURCES
        {
            // A bucket whose next arrival is past is full again: as if never seen.
            buckets.retain(|_, next_at| *next_at > now);
            if buckets.len() >= MAX_SOURCES {
                buckets.clear();
            }
        }
        let next_at = buckets.entry(Source::from(source)).or_insert(now);
        *next_at = (*next_at).max(now) + interval;
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    fn failures(per_minute: u32, burst: u32) -> FailureLimiter {
        FailureLimiter::new(
            FailureLimit { per_minute, burst },
            SourceAddresses::default(),
        )
    }

    #[test]
    fn a_source_may_fail_its_burst_then_waits_and_successes_spend_nothing() {
        let limiter = failures(60, 3);
        let source: IpAddr = "192.0.2.1".parse().expect("ip");
        for _ in 0..100 {
            // Checks alone (successful requests) spend nothing.
            assert_eq!(limiter.check(source), Ok(()));
        }
        for _ in 0..3 {
            assert_eq!(limiter.check(source), Ok(()));
            limiter.failed(source);
        }
        let wait = limiter.check(source).expect_err("spent");
        assert!(
            wait > Duration::from_millis(900) && wait <= Duration::from_secs(1),
            "{wait:?}"
        );
        // Another source, and another /64, have budgets of their own; the same /64 shares.
        assert_eq!(limiter.check("192.0.2.2".parse().expect("ip")), Ok(()));
        let v6: IpAddr = "2001:db8::1".parse().expect("ip");
        for _ in 0..3 {
            limiter.failed(v6);
        }
        assert!(
            limiter
                .check("2001:db8::ffff:2".parse().expect("ip"))
                .is_err()
        );
        assert_eq!(
            limiter.check("2001:db8:0:1::1".parse().expect("ip")),
            Ok(())
        );
    }

    #[test]
    fn zero_failures_per_minute_turns_the_failure_limit_off() {
        let limiter = failures(0, 0);
        let source: IpAddr = "192.0.2.1".parse().expect("ip");
        for _ in 0..10_000 {
            limiter.failed(source);
        }
        assert_eq!(limiter.check(source), Ok(()));
    }

    fn key_principal() -> Principal {
        Principal {
            organization_id: OrganizationId::new(),
            access_key_id: Some(AccessKeyId::new()),
            subject: None,
            scopes: BTreeSet::new(),
            expires_at: None,
            groups: Vec::new(),
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
            expires_at: None,
            groups: Vec::new(),
        };
        assert_eq!(limiter.check(&subject("alice")), Ok(()));
        assert!(limiter.check(&subject("alice")).is_err());
        assert_eq!(limiter.check(&subject("bob")), Ok(()));
    }
}
