//! Bounds on proxied requests in flight: one for the whole server, one per caller. A
//! proxied call holds its request body and then the whole upstream response in memory
//! until the response is written out, so these two numbers, times the body limits, are
//! what bound the proxy's memory. Past them a call is refused at once (503 for the server,
//! 429 for the caller, both with `Retry-After`) before its body is read: a refusal costs
//! no memory and no queue builds up.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use vault_core::{AccessKeyId, OrganizationId, Principal};

/// How many proxied calls may be in flight. 0 turns a bound off.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProxyLimits {
    /// On the whole server (this process).
    pub max_in_flight: usize,
    /// For one caller: an access key, an identity-provider subject.
    pub max_in_flight_per_caller: usize,
}

impl Default for ProxyLimits {
    fn default() -> Self {
        Self {
            max_in_flight: 32,
            max_in_flight_per_caller: 16,
        }
    }
}

/// Who a call counts against, as the rate limit tells callers apart.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum Caller {
    Key(AccessKeyId),
    Subject(OrganizationId, String),
    /// An embedder's system principal: one count per organization.
    System(OrganizationId),
}

impl Caller {
    fn of(who: &Principal) -> Self {
        match (&who.access_key_id, &who.subject) {
            (Some(key), _) => Self::Key(*key),
            (None, Some(subject)) => Self::Subject(who.organization_id, subject.clone()),
            (None, None) => Self::System(who.organization_id),
        }
    }
}

/// Why a call was not let in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Busy {
    /// The server's bound is reached.
    Server,
    /// This caller's bound is reached.
    Caller,
}

#[derive(Debug, Default)]
struct Counts {
    total: usize,
    /// Only callers with calls in flight: an entry goes when its count reaches zero, so
    /// the map never outgrows the calls in flight.
    callers: HashMap<Caller, usize>,
}

/// The calls in flight, shared by every worker of a server.
#[derive(Debug)]
pub struct InFlight {
    limits: ProxyLimits,
    counts: Mutex<Counts>,
}

impl InFlight {
    /// Counts calls against `limits`.
    #[must_use]
    pub fn new(limits: ProxyLimits) -> Self {
        Self {
            limits,
            counts: Mutex::new(Counts::default()),
        }
    }

    /// Lets one call of `who` in, or says which bound it hit. The call is counted until
    /// the returned permit is dropped.
    pub(crate) fn try_enter(self: &Arc<Self>, who: &Principal) -> Result<Permit, Busy> {
        let caller = Caller::of(who);
        let mut counts = self.counts.lock().unwrap_or_else(PoisonError::into_inner);
        let bounded = |limit: usize, count: usize| limit != 0 && count >= limit;
        if bounded(self.limits.max_in_flight, counts.total) {
            return Err(Busy::Server);
        }
        let mine = counts.callers.get(&caller).copied().unwrap_or(0);
        if bounded(self.limits.max_in_flight_per_caller, mine) {
            return Err(Busy::Caller);
        }
        counts.total += 1;
        *counts.callers.entry(caller.clone()).or_insert(0) += 1;
        Ok(Permit {
            owner: Arc::clone(self),
            caller: Some(caller),
        })
    }

    /// Calls in flight now (for tests).
    #[cfg(test)]
    fn total(&self) -> usize {
        self.counts
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .total
    }
}

/// One call in flight; dropping it lets the next one in.
#[derive(Debug)]
pub(crate) struct Permit {
    owner: Arc<InFlight>,
    caller: Option<Caller>,
}

impl Drop for Permit {
    fn drop(&mut self) {
        let Some(caller) = self.caller.take() else {
            return;
        };
        let mut counts = self
            .owner
            .counts
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        counts.total = counts.total.saturating_sub(1);
        if let Some(count) = counts.callers.get_mut(&caller) {
            *count -= 1;
            if *count == 0 {
                counts.callers.remove(&caller);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> Principal {
        Principal {
            access_key_id: Some(AccessKeyId::new()),
            ..Principal::system(OrganizationId::new())
        }
    }

    #[test]
    fn each_caller_and_the_server_have_their_bound() {
        let in_flight = Arc::new(InFlight::new(ProxyLimits {
            max_in_flight: 3,
            max_in_flight_per_caller: 2,
        }));
        let (a, b, c) = (key(), key(), key());
        let a1 = in_flight.try_enter(&a).expect("a 1");
        let a2 = in_flight.try_enter(&a).expect("a 2");
        assert_eq!(in_flight.try_enter(&a).expect_err("a 3"), Busy::Caller);
        let b1 = in_flight.try_enter(&b).expect("b 1");
        assert_eq!(in_flight.try_enter(&c).expect_err("full"), Busy::Server);
        drop(a1);
        let c1 = in_flight.try_enter(&c).expect("room again");
        drop((a2, b1, c1));
        assert_eq!(in_flight.total(), 0);
        assert!(
            in_flight.counts.lock().expect("lock").callers.is_empty(),
            "no entry outlives its calls"
        );
    }

    #[test]
    fn zero_turns_a_bound_off() {
        let in_flight = Arc::new(InFlight::new(ProxyLimits {
            max_in_flight: 0,
            max_in_flight_per_caller: 0,
        }));
        let who = key();
        let permits: Vec<Permit> = (0..1000)
            .map(|_| in_flight.try_enter(&who).expect("unbounded"))
            .collect();
        assert_eq!(in_flight.total(), 1000);
        drop(permits);
        assert_eq!(in_flight.total(), 0);
    }
}
