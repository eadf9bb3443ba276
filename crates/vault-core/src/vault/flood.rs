//! A budget for audit events that cost a caller nothing to cause.
//!
//! A failed authentication that names no organization (a malformed or unknown access key,
//! an identity-provider token whose signature did not verify) can be sent by anyone,
//! without a key, as fast as the network allows. Auditing each one would let a keyless
//! flood fill the disk through the audit log, and take the store's write capacity from
//! the organizations. So such events are written up to a budget: a token bucket of
//! [`BURST`] events, refilled at [`PER_SECOND`]. Past it they are only counted, and the count
//! is logged at once, then at most once a minute. Failures attributed to an organization (a revoked or
//! expired key of its own) are always audited: causing them takes one of its keys.

use time::{Duration, OffsetDateTime};

/// Events the budget allows at once.
pub(super) const BURST: u32 = 100;
/// Events the budget regains per second.
pub(super) const PER_SECOND: u32 = 10;
/// How often, at most, dropped events are reported in the server log: under a steady
/// flood, one line a minute, not one per event (the log must not become the amplifier).
const REPORT_EVERY: Duration = Duration::minutes(1);

/// What the budget says about one more event.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Admission {
    /// Whether to write it.
    pub(super) write: bool,
    /// When due, the number of events dropped since the last report, to log now.
    pub(super) report: Option<u64>,
}

/// A token bucket over the vault's clock, kept as GCRA does: one instant, the theoretical
/// arrival time of the next event, in exact clock arithmetic (no float drift).
#[derive(Debug, Default)]
pub(super) struct AuditBudget {
    next_at: Option<OffsetDateTime>,
    dropped: u64,
    reported_at: Option<OffsetDateTime>,
}

/// The time one event's worth of budget takes to return.
const INTERVAL: Duration = Duration::nanoseconds(1_000_000_000 / PER_SECOND as i64);

impl AuditBudget {
    pub(super) fn admit(&mut self, now: OffsetDateTime) -> Admission {
        let next_at = self.next_at.map_or(now, |at| at.max(now));
        // Up to BURST - 1 intervals ahead of the clock: BURST events at once, then one per
        // interval. A clock that steps back only makes the debt look larger.
        let write = next_at - now <= INTERVAL * (BURST - 1);
        if write {
            self.next_at = Some(next_at + INTERVAL);
        } else {
            self.dropped += 1;
        }
        // The first drop is reported at once (a flood has begun), then at most once per
        // REPORT_EVERY.
        let due = self
            .reported_at
            .is_none_or(|at| now - at >= REPORT_EVERY || now < at);
        let report = (self.dropped > 0 && due).then(|| {
            self.reported_at = Some(now);
            std::mem::take(&mut self.dropped)
        });
        Admission { write, report }
    }
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;

    const START: OffsetDateTime = datetime!(2026-11-27 12:00 UTC);

    fn written(budget: &mut AuditBudget, at: impl IntoIterator<Item = OffsetDateTime>) -> usize {
        at.into_iter()
            .filter(|now| budget.admit(*now).write)
            .count()
    }

    #[test]
    fn a_burst_is_written_then_one_event_per_interval() {
        let mut budget = AuditBudget::default();
        assert_eq!(
            written(&mut budget, (0..1000).map(|_| START)),
            BURST as usize
        );
        // A tenth of a second later: one event's worth.
        let later = START + INTERVAL;
        assert_eq!(written(&mut budget, (0..1000).map(|_| later)), 1);
    }

    #[test]
    fn the_budget_refills_at_its_rate_up_to_the_burst() {
        let mut budget = AuditBudget::default();
        written(&mut budget, (0..BURST).map(|_| START));
        // An hour idle refills the burst, not more.
        let later = START + Duration::hours(1);
        assert_eq!(
            written(&mut budget, (0..BURST * 2).map(|_| later)),
            BURST as usize
        );
        // Over the next ten seconds, PER_SECOND a second get through.
        let steps = (1..=1000).map(|ms| later + Duration::milliseconds(ms * 10));
        assert_eq!(written(&mut budget, steps), (PER_SECOND * 10) as usize);
    }

    #[test]
    fn drops_are_reported_at_once_then_at_most_once_a_minute() {
        let mut budget = AuditBudget::default();
        let mut reports = Vec::new();
        // Ten minutes of a steady flood, 1,000 bad keys a second.
        for ms in 0..600_000 {
            let now = START + Duration::milliseconds(ms);
            if let Some(dropped) = budget.admit(now).report {
                reports.push((ms, dropped));
            }
        }
        // The first drop (once the burst is spent, about the 100th event) at once, then one
        // report a minute.
        assert!(
            matches!(reports.first(), Some(&(ms, 1)) if (100..200).contains(&ms)),
            "{reports:?}"
        );
        assert_eq!(reports.len(), 10, "{reports:?}");
        let written = u64::from(BURST) + 600 * u64::from(PER_SECOND);
        let dropped: u64 = reports.iter().map(|(_, n)| n).sum();
        // Every drop is in a report but the last minute's few, not yet due.
        assert!(dropped <= 600_000 - written, "{dropped}");
        assert!(dropped > 600_000 - written - 60_000, "{dropped}");
    }

    #[test]
    fn a_clock_stepping_back_refills_nothing() {
        let mut budget = AuditBudget::default();
        written(&mut budget, (0..BURST).map(|_| START));
        let earlier = START - Duration::hours(1);
        assert!(!budget.admit(earlier).write);
        assert!(!budget.admit(START).write);
        assert!(budget.admit(START + INTERVAL).write);
    }
}
