//! A budget for audit events that cost a caller nothing to cause.
//!
//! A failed authentication that names no organization (a malformed or unknown access key,
//! an identity-provider token whose signature did not verify) can be sent by anyone,
//! without a key, as fast as the network allows. Auditing each one would let a keyless
//! flood fill the disk through the audit log, and take the store's write capacity from
//! the organizations. So such events are written up to a budget: a token bucket of
//! [`BURST`] events, refilled at [`PER_SECOND`]. Past it they are only counted; the count is
//! logged when the budget returns. Failures attributed to an organization (a revoked or
//! expired key of its own) are always audited: causing them takes one of its keys.

use time::{Duration, OffsetDateTime};

/// Events the budget allows at once.
pub(super) const BURST: u32 = 100;
/// Events the budget regains per second.
pub(super) const PER_SECOND: u32 = 10;

/// What the budget says about one more event.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Verdict {
    /// Write it; `suppressed` events were dropped since the last one written.
    Write { suppressed: u64 },
    /// Drop it; it is the first dropped since the last one written.
    FirstDropped,
    /// Drop it.
    Dropped,
}

/// A token bucket over the vault's clock, kept as GCRA does: one instant, the theoretical
/// arrival time of the next event, in exact clock arithmetic (no float drift).
#[derive(Debug, Default)]
pub(super) struct AuditBudget {
    next_at: Option<OffsetDateTime>,
    suppressed: u64,
}

/// The time one event's worth of budget takes to return.
const INTERVAL: Duration = Duration::nanoseconds(1_000_000_000 / PER_SECOND as i64);

impl AuditBudget {
    pub(super) fn admit(&mut self, now: OffsetDateTime) -> Verdict {
        let next_at = self.next_at.map_or(now, |at| at.max(now));
        // Up to BURST - 1 intervals ahead of the clock: BURST events at once, then one per
        // interval. A clock that steps back only makes the debt look larger.
        if next_at - now <= INTERVAL * (BURST - 1) {
            self.next_at = Some(next_at + INTERVAL);
            Verdict::Write {
                suppressed: std::mem::take(&mut self.suppressed),
            }
        } else {
            self.suppressed += 1;
            if self.suppressed == 1 {
                Verdict::FirstDropped
            } else {
                Verdict::Dropped
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;

    const START: OffsetDateTime = datetime!(2026-11-27 12:00 UTC);

    #[test]
    fn a_burst_is_written_then_the_rest_is_counted_until_the_budget_returns() {
        let mut budget = AuditBudget::default();
        for _ in 0..BURST {
            assert_eq!(budget.admit(START), Verdict::Write { suppressed: 0 });
        }
        assert_eq!(budget.admit(START), Verdict::FirstDropped);
        for _ in 0..999 {
            assert_eq!(budget.admit(START), Verdict::Dropped);
        }
        // A tenth of a second later: one event's worth, which reports the 1,000 dropped.
        let later = START + Duration::milliseconds(100);
        assert_eq!(budget.admit(later), Verdict::Write { suppressed: 1000 });
        assert_eq!(budget.admit(later), Verdict::FirstDropped);
    }

    #[test]
    fn the_budget_refills_at_its_rate_up_to_the_burst() {
        let mut budget = AuditBudget::default();
        for _ in 0..BURST {
            budget.admit(START);
        }
        // An hour idle refills the burst, not more.
        let later = START + Duration::hours(1);
        let written = (0..BURST * 2)
            .filter(|_| matches!(budget.admit(later), Verdict::Write { .. }))
            .count();
        assert_eq!(written, BURST as usize);
        // Over the next ten seconds, at most PER_SECOND a second get through.
        let written = (1..=1000)
            .filter(|ms| {
                let now = later + Duration::milliseconds(ms * 10);
                matches!(budget.admit(now), Verdict::Write { .. })
            })
            .count();
        assert_eq!(written, (PER_SECOND * 10) as usize);
    }

    #[test]
    fn a_clock_stepping_back_refills_nothing() {
        let mut budget = AuditBudget::default();
        for _ in 0..BURST {
            budget.admit(START);
        }
        let earlier = START - Duration::hours(1);
        assert_eq!(budget.admit(earlier), Verdict::FirstDropped);
        assert_eq!(budget.admit(START), Verdict::Dropped);
        assert_eq!(
            budget.admit(START + INTERVAL),
            Verdict::Write { suppressed: 2 }
        );
    }
}
