//! Walking a chain: each event, in number order, checked against the one before. The first
//! thing wrong is reported as a [`ChainBreak`], saying what it means.

use std::fmt;

use uuid::Uuid;
use vault_core::audit_chain::{AuditChain, ChainHash, GENESIS};
use vault_core::logs::AuditEvent;

use crate::hashing::{digest, link};

/// The first thing wrong with a chain.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChainBreak {
    /// The chain.
    pub chain: AuditChain,
    /// The number where it breaks.
    pub seq: u64,
    /// The event there, when there is one.
    pub event: Option<Uuid>,
    /// What is wrong.
    pub kind: BreakKind,
}

/// What is wrong with a chain at a [`ChainBreak`].
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum BreakKind {
    /// The event's content does not match its digest: the row was modified.
    ContentChanged,
    /// The event's hash does not follow from its own number and digest: its link fields
    /// were modified.
    HashMismatch,
    /// The events numbered from `seq` up to `last` are missing: deleted, or moved to
    /// another chain.
    Missing {
        /// The last missing number.
        last: u64,
    },
    /// The event repeats a number already walked: a row was renumbered or moved in.
    Duplicate,
    /// The event does not link to the one before it: events were reordered, replaced or
    /// removed.
    Unlinked,
    /// The event belongs to another chain than the one it is stored in: it was moved
    /// between organizations.
    WrongChain,
    /// The chain does not start at its first number, and no retention checkpoint marks a
    /// cut there: its first events were deleted.
    StartMissing,
    /// The event's hash differs from the signed checkpoint at its number: the chain was
    /// rewritten after the checkpoint was signed.
    CheckpointMismatch,
    /// A signed checkpoint (in the store, or held outside) says the chain reached this
    /// number, but it ends at `last`: events were removed from its end.
    Truncated {
        /// The chain's last remaining number (0: none remain).
        last: u64,
    },
    /// The checkpoint at this number does not verify under the installation's key.
    BadSignature,
    /// The store's record of the chain's head does not match its last event: events were
    /// removed from its end, or added behind the vault's back.
    HeadMismatch {
        /// The number the record names.
        recorded: u64,
    },
}

impl fmt::Display for ChainBreak {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (chain, seq) = (self.chain, self.seq);
        let event = self
            .event
            .map(|id| format!(" (event {id})"))
            .unwrap_or_default();
        match &self.kind {
            BreakKind::ContentChanged => write!(
                f,
                "{chain}: event {seq}{event} was modified: its content does not match its digest"
            ),
            BreakKind::HashMismatch => write!(
                f,
                "{chain}: event {seq}{event} has a hash that does not follow from its number and \
                 digest: its chain fields were modified"
            ),
            BreakKind::Missing { last } if *last == seq => write!(
                f,
                "{chain}: event {seq} is missing (deleted, or moved to another organization)"
            ),
            BreakKind::Missing { last } => write!(
                f,
                "{chain}: events {seq} to {last} are missing (deleted, or moved to another \
                 organization)"
            ),
            BreakKind::Duplicate => write!(
                f,
                "{chain}: event {seq}{event} repeats a number already seen: a row was \
                 renumbered or moved in"
            ),
            BreakKind::Unlinked => write!(
                f,
                "{chain}: event {seq}{event} does not link to event {}: events were reordered, \
                 replaced or removed",
                seq.saturating_sub(1)
            ),
            BreakKind::WrongChain => write!(
                f,
                "{chain}: event {seq}{event} belongs to another chain: it was moved between \
                 organizations"
            ),
            BreakKind::StartMissing => write!(
                f,
                "{chain}: the chain starts at event {seq}{event}, and no retention checkpoint \
                 marks a cut before it: its first events were deleted"
            ),
            BreakKind::CheckpointMismatch => write!(
                f,
                "{chain}: event {seq}{event} differs from the signed checkpoint at {seq}: the \
                 chain was rewritten after the checkpoint"
            ),
            BreakKind::Truncated { last } => write!(
                f,
                "{chain}: a signed checkpoint says the chain reached event {seq}, but it ends \
                 at {last}: events were removed from its end"
            ),
            BreakKind::BadSignature => write!(
                f,
                "{chain}: the checkpoint at event {seq} does not verify under the \
                 installation's checkpoint key"
            ),
            BreakKind::HeadMismatch { recorded } => write!(
                f,
                "{chain}: the chain's head record names event {recorded}, but its last event \
                 is {seq}: events were removed from its end or added behind the vault's back"
            ),
        }
    }
}

/// A walk along one chain: what the next event must link to.
#[derive(Clone, Debug)]
pub struct ChainWalk {
    chain: AuditChain,
    last: u64,
    hash: ChainHash,
    events: u64,
}

impl ChainWalk {
    /// A walk of `chain` from its first event.
    #[must_use]
    pub const fn from_genesis(chain: AuditChain) -> Self {
        Self::after(chain, 0, GENESIS)
    }

    /// A walk of `chain` whose next event follows number `seq` with `hash`.
    #[must_use]
    pub const fn after(chain: AuditChain, seq: u64, hash: ChainHash) -> Self {
        Self {
            chain,
            last: seq,
            hash,
            events: 0,
        }
    }

    /// The last number and hash walked (or started from).
    #[must_use]
    pub const fn last(&self) -> (u64, ChainHash) {
        (self.last, self.hash)
    }

    /// The chain walked.
    #[must_use]
    pub const fn chain(&self) -> AuditChain {
        self.chain
    }

    /// How many events were walked.
    #[must_use]
    pub const fn events(&self) -> u64 {
        self.events
    }

    /// Checks `event` as the chain's next one, and moves past it.
    ///
    /// # Errors
    /// The break it shows.
    pub fn step(&mut self, event: &AuditEvent) -> Result<(), ChainBreak> {
        let fail = |seq, kind| ChainBreak {
            chain: self.chain,
            seq,
            event: Some(event.id),
            kind,
        };
        let Some(link_of) = event.chain else {
            return Err(fail(self.last + 1, BreakKind::HashMismatch));
        };
        let seq = link_of.seq;
        let expected = self.last + 1;
        if seq < expected {
            return Err(fail(seq, BreakKind::Duplicate));
        }
        if seq > expected {
            return Err(ChainBreak {
                event: None,
                ..fail(expected, BreakKind::Missing { last: seq - 1 })
            });
        }
        if vault_core::audit_chain::AuditChain::of(event.organization_id) != self.chain {
            return Err(fail(seq, BreakKind::WrongChain));
        }
        if link_of.previous != self.hash {
            return Err(fail(seq, BreakKind::Unlinked));
        }
        if digest(event) != link_of.digest {
            return Err(fail(seq, BreakKind::ContentChanged));
        }
        if link(&link_of.previous, seq, &link_of.digest) != link_of.hash {
            return Err(fail(seq, BreakKind::HashMismatch));
        }
        self.last = seq;
        self.hash = link_of.hash;
        self.events += 1;
        Ok(())
    }
}

impl fmt::Display for ChainWalk {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} at {} ({})",
            self.chain,
            self.last,
            hex::encode(self.hash)
        )
    }
}

#[cfg(test)]
mod tests {
    use time::OffsetDateTime;
    use vault_core::ids::OrganizationId;
    use vault_core::logs::{AuditAction, AuditOutcome};

    use super::*;
    use crate::hashing::next_link;

    pub(crate) fn chain_of(organization: OrganizationId, n: usize) -> Vec<AuditEvent> {
        let mut events: Vec<AuditEvent> = Vec::new();
        for i in 0..n {
            let mut event = AuditEvent {
                id: Uuid::now_v7(),
                organization_id: Some(organization),
                actor: None,
                actor_subject: None,
                action: AuditAction::CredentialUse,
                target: None,
                outcome: AuditOutcome::Success,
                reason: None,
                at: vault_core::clock::truncate_to_micros(OffsetDateTime::now_utc()),
                count: u32::try_from(i).expect("small") + 1,
                via: None,
                chain: None,
            };
            let head = events
                .last()
                .and_then(|e| e.chain)
                .map(|link| (link.seq, link.hash));
            event.chain = Some(next_link(head, &event));
            events.push(event);
        }
        events
    }

    fn walk(events: &[AuditEvent]) -> Result<u64, ChainBreak> {
        let chain = AuditChain::of(events[0].organization_id);
        let mut walk = ChainWalk::from_genesis(chain);
        for event in events {
            walk.step(event)?;
        }
        Ok(walk.events())
    }

    fn kind(events: &[AuditEvent]) -> (u64, BreakKind) {
        let broken = walk(events).expect_err("a break");
        (broken.seq, broken.kind)
    }

    #[test]
    fn an_intact_chain_walks_and_each_tampering_breaks_it_where_it_happened() {
        let org = OrganizationId::new();
        let events = chain_of(org, 6);
        assert_eq!(walk(&events), Ok(6));

        let mut modified = events.clone();
        modified[2].reason = Some("edited".to_owned());
        assert_eq!(kind(&modified), (3, BreakKind::ContentChanged));

        let mut deleted = events.clone();
        deleted.remove(3);
        assert_eq!(kind(&deleted), (4, BreakKind::Missing { last: 4 }));

        // Rows swapped by their numbers: each keeps its fields, but the one now walked
        // third links to the fourth.
        let mut swapped = events.clone();
        swapped.swap(2, 4);
        let (a, b) = (
            swapped[2].chain.expect("link"),
            swapped[4].chain.expect("link"),
        );
        swapped[2].chain = Some(vault_core::audit_chain::ChainLink { seq: 3, ..a });
        swapped[4].chain = Some(vault_core::audit_chain::ChainLink { seq: 5, ..b });
        assert_eq!(kind(&swapped), (3, BreakKind::Unlinked));

        let mut moved = events.clone();
        moved[1].organization_id = Some(OrganizationId::new());
        assert_eq!(kind(&moved), (2, BreakKind::WrongChain));

        let mut relinked = events.clone();
        let mut link = relinked[4].chain.expect("link");
        link.hash[0] ^= 1;
        relinked[4].chain = Some(link);
        assert_eq!(kind(&relinked), (5, BreakKind::HashMismatch));

        let mut repeated = events.clone();
        repeated.insert(3, events[2].clone());
        assert_eq!(kind(&repeated), (3, BreakKind::Duplicate));
    }

    #[test]
    fn a_walk_resumes_after_a_known_link() {
        let events = chain_of(OrganizationId::new(), 4);
        let link = events[1].chain.expect("link");
        let mut walk = ChainWalk::after(AuditChain::of(events[0].organization_id), 2, link.hash);
        for event in &events[2..] {
            walk.step(event).expect("walks");
        }
        assert_eq!(walk.last(), (4, events[3].chain.expect("link").hash));
    }
}
