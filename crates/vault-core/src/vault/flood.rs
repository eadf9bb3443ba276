//! Bounds on the audit events of failed authentications, which a caller can cause at will.
//!
//! A failed authentication that names no organization (a malformed or unknown access key,
//! an identity-provider token whose signature did not verify) can be sent by anyone,
//! without a key, as fast as the network allows. Auditing each one would let a keyless
//! flood fill the disk through the audit log, and take the store's write capacity from
//! the organizations. So such events are written up to a budget: a token bucket of
//! [`BURST`] events, refilled at [`PER_SECOND`]. Past it they are only counted, and the count
//! is logged at once, then at most once a minute.
//!
//! Failures attributed to an organization (a revoked or expired key of its own, a refused
//! token of its identity provider) are all audited, but a key replayed in a loop must not
//! write a row per attempt either. So they are counted the same way, per key (or subject)
//! and reason ([`Repeats`]): the first failure is written at once, the others within
//! [`REPEAT_WINDOW`] of it are counted, and their count is written as one event (its
//! `count`, its time the last failure's) when the window has ended: at the next failed
//! authentication (of any key, or of none), at the server's periodic flush, or at
//! shutdown. A process that is killed loses the counts of its open windows; their first
//! failures are stored.

use std::collections::HashMap;

use time::{Duration, OffsetDateTime};

use crate::ids::{AccessKeyId, OrganizationId};

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

/// How long repeated failures of one key and reason are gathered into one audit event.
pub(super) const REPEAT_WINDOW: Duration = Duration::minutes(1);
/// Most open windows: past it, every count is written out and counting starts afresh.
const MAX_WINDOWS: usize = 10_000;

/// What repeats: one organization's key (or identity-provider subject) failing for one
/// reason.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(super) struct Repeat {
    pub(super) organization: OrganizationId,
    pub(super) key: Option<AccessKeyId>,
    pub(super) subject: Option<String>,
    pub(super) reason: String,
}

/// An audit event due: `count` failures of `repeat`, the last at `at`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Due {
    pub(super) repeat: Repeat,
    pub(super) count: u32,
    pub(super) at: OffsetDateTime,
}

#[derive(Debug)]
struct Window {
    opened_at: OffsetDateTime,
    /// Failures counted since the one written at the opening, not yet written.
    pending: u32,
    last_at: OffsetDateTime,
}

/// The open windows of repeated failures (see the module's documentation).
#[derive(Debug, Default)]
pub(super) struct Repeats {
    windows: HashMap<Repeat, Window>,
    /// When the earliest open window ends: until then, no window needs a look.
    first_end: Option<OffsetDateTime>,
}

impl Repeats {
    /// Counts one failure at `now`; returns the events to write now: the counts of windows
    /// that have ended, and this failure itself when it opens a window.
    pub(super) fn record(&mut self, repeat: Repeat, now: OffsetDateTime) -> Vec<Due> {
        let mut due = self.flush(now, false);
        if let Some(window) = self.windows.get_mut(&repeat) {
            window.pending = window.pending.saturating_add(1);
            window.last_at = window.last_at.max(now);
            return due;
        }
        if self.windows.len() >= MAX_WINDOWS {
            due.extend(self.take(|_| true));
        }
        self.windows.insert(
            repeat.clone(),
            Window {
                opened_at: now,
                pending: 0,
                last_at: now,
            },
        );
        let end = now + REPEAT_WINDOW;
        self.first_end = Some(self.first_end.map_or(end, |first| first.min(end)));
        due.push(Due {
            repeat,
            count: 1,
            at: now,
        });
        due
    }

    /// The counts of windows that have ended by `now` (all of them when `everything`, as
    /// at shutdown), closing those windows.
    pub(super) fn flush(&mut self, now: OffsetDateTime, everything: bool) -> Vec<Due> {
        // Cheap when nothing has ended: this runs on every failed authentication.
        let any_ended = self
            .first_end
            .is_some_and(|end| now >= end || now < end - REPEAT_WINDOW);
        if !(everything || any_ended) {
            return Vec::new();
        }
        self.take(|window| everything || ended(window, now))
    }

    fn take(&mut self, mut closing: impl FnMut(&Window) -> bool) -> Vec<Due> {
        let mut due = Vec::new();
        self.windows.retain(|repeat, window| {
            if !closing(window) {
                return true;
            }
            if window.pending > 0 {
                due.push(Due {
                    repeat: repeat.clone(),
                    count: window.pending,
                    at: window.last_at,
                });
            }
            false
        });
        self.first_end = self
            .windows
            .values()
            .map(|window| window.opened_at + REPEAT_WINDOW)
            .min();
        due
    }
}

/// A window ends `REPEAT_WINDOW` after it opened (or when the clock steps back past its
/// opening, so that no count waits for a time that may never come).
fn ended(window: &Window, now: OffsetDateTime) -> bool {
    now - window.opened_at >= REPEAT_WINDOW || now < window.opened_at
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;

    fn revoked(organization: OrganizationId, key: AccessKeyId) -> Repeat {
        Repeat {
            organization,
            key: Some(key),
            subject: None,
            reason: "revoked-key".to_owned(),
        }
    }

    #[test]
    fn repeated_failures_are_written_once_then_counted_per_window() {
        let mut repeats = Repeats::default();
        let (org, key, other) = (
            OrganizationId::new(),
            AccessKeyId::new(),
            AccessKeyId::new(),
        );
        // The first failure at once, the next 149 in the same second counted.
        let first = repeats.record(revoked(org, key), START);
        assert_eq!(
            first,
            [Due {
                repeat: revoked(org, key),
                count: 1,
                at: START
            }]
        );
        for i in 1..150 {
            let now = START + Duration::milliseconds(i);
            assert!(repeats.record(revoked(org, key), now).is_empty());
        }
        // Another key, or another reason, has a window of its own.
        assert_eq!(repeats.record(revoked(org, other), START).len(), 1);
        let mut expired = revoked(org, key);
        expired.reason = "expired-key".to_owned();
        assert_eq!(repeats.record(expired, START).len(), 1);
        // Nothing is due before the window ends; then the next failure of any key writes
        // the count, and opens a new window of its own.
        assert!(
            repeats
                .flush(START + Duration::seconds(59), false)
                .is_empty()
        );
        let later = START + REPEAT_WINDOW;
        let due = repeats.record(revoked(org, other), later);
        assert!(
            due.contains(&Due {
                repeat: revoked(org, key),
                count: 149,
                at: START + Duration::milliseconds(149)
            }),
            "{due:?}"
        );
        assert!(due.contains(&Due {
            repeat: revoked(org, other),
            count: 1,
            at: later
        }));
        assert_eq!(due.len(), 2, "{due:?}");
        // At shutdown, open windows give what they hold: here nothing pending.
        assert!(repeats.flush(later, true).is_empty());
    }

    #[test]
    fn shutdown_writes_every_pending_count() {
        let mut repeats = Repeats::default();
        let (org, key) = (OrganizationId::new(), AccessKeyId::new());
        for _ in 0..10 {
            repeats.record(revoked(org, key), START);
        }
        let due = repeats.flush(START, true);
        assert_eq!(due.len(), 1);
        assert_eq!(due[0].count, 9);
        assert!(repeats.flush(START, true).is_empty(), "written once");
    }

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
