//! The audit log's hash chains: the data and the store port. Every organization's audit
//! events form one chain, and the installation's own events (no organization: key
//! rotations, failed authentications with unknown keys) another. Each event written
//! carries a gapless sequence number in its chain, the digest of its canonical form, the
//! hash of the event before it, and its own hash, which links the two. The store assigns
//! them as it writes the event, inside the transaction that writes it, so the database
//! decides the order (never a replica's clock) and an event rolled back takes its number
//! with it. How the hashes are computed, and how a chain is verified and checkpointed, is
//! `vault-audit`'s: this crate has no hash function. Because a chain's numbers follow
//! commit order with no gap, "the last number delivered" is an exact cursor for streaming
//! a chain out: an audit sink keeps one per chain.

use std::fmt;
use std::future::Future;

use time::OffsetDateTime;
use uuid::Uuid;

use crate::ids::OrganizationId;
use crate::logs::AuditEvent;
use crate::store::StoreError;

/// A SHA-256 hash of the chain.
pub type ChainHash = [u8; 32];

/// The stored name of the sealed private key that signs checkpoints (an installation-wide
/// sealed value, [`Purpose::AuditSigningKey`](crate::cipher::Purpose::AuditSigningKey)).
pub const SIGNING_KEY_NAME: &str = "audit-signing-key";

/// The hash before a chain's first event.
pub const GENESIS: ChainHash = [0; 32];

/// One chain of the audit log.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AuditChain {
    /// The installation's own events: those of no organization.
    Installation,
    /// One organization's events.
    Organization(OrganizationId),
}

impl AuditChain {
    /// The chain of an event of `organization` (none: the installation's).
    #[must_use]
    pub const fn of(organization: Option<OrganizationId>) -> Self {
        match organization {
            Some(organization) => Self::Organization(organization),
            None => Self::Installation,
        }
    }

    /// The organization whose chain this is.
    #[must_use]
    pub const fn organization(self) -> Option<OrganizationId> {
        match self {
            Self::Installation => None,
            Self::Organization(organization) => Some(organization),
        }
    }

    /// The chain's key in storage and in signed checkpoints: the organization's id, or the
    /// nil UUID for the installation (no organization has it).
    #[must_use]
    pub fn key(self) -> Uuid {
        match self {
            Self::Installation => Uuid::nil(),
            Self::Organization(organization) => *organization.as_uuid(),
        }
    }

    /// The chain of a [`key`](Self::key).
    #[must_use]
    pub fn from_key(key: Uuid) -> Self {
        if key.is_nil() {
            Self::Installation
        } else {
            Self::Organization(OrganizationId::from_uuid(key))
        }
    }
}

impl fmt::Display for AuditChain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Installation => f.write_str("installation"),
            Self::Organization(organization) => write!(f, "organization {organization}"),
        }
    }
}

/// Where an event sits in its chain.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ChainLink {
    /// Its number in the chain: 1 for the first event, then one more for each.
    pub seq: u64,
    /// The SHA-256 of the event's canonical form.
    pub digest: ChainHash,
    /// The hash of the event before it ([`GENESIS`] for the first).
    pub previous: ChainHash,
    /// Its own hash, over `previous`, `seq` and `digest`: what the next event's `previous`
    /// holds.
    pub hash: ChainHash,
}

/// The last event of a chain, as the store's record of each chain says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ChainHead {
    /// The chain.
    pub chain: AuditChain,
    /// Its last event's number.
    pub seq: u64,
    /// Its last event's hash.
    pub hash: ChainHash,
}

/// Why a checkpoint was made.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CheckpointKind {
    /// The periodic checkpoint of a chain's head.
    Periodic,
    /// Retention's cut: the chain's events up to this one were deleted, and verification
    /// starts from here.
    Retention,
}

impl CheckpointKind {
    /// The wire and storage name.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Periodic => "periodic",
            Self::Retention => "retention",
        }
    }

    /// The kind of a [`as_str`](Self::as_str) name.
    #[must_use]
    pub fn parse(name: &str) -> Option<Self> {
        [Self::Periodic, Self::Retention]
            .into_iter()
            .find(|kind| kind.as_str() == name)
    }
}

/// A signed statement that a chain reached `seq` with `hash` at `at`. Anyone holding the
/// installation's public key can check it, and a copy kept outside the vault proves the
/// chain's tail was there.
#[derive(Clone, PartialEq, Eq)]
pub struct Checkpoint {
    /// The chain.
    pub chain: AuditChain,
    /// The number of the event checkpointed.
    pub seq: u64,
    /// That event's hash.
    pub hash: ChainHash,
    /// When the checkpoint was signed.
    pub at: OffsetDateTime,
    /// Why.
    pub kind: CheckpointKind,
    /// Which signing key signed it.
    pub key_id: String,
    /// The signature over the other fields.
    pub signature: Vec<u8>,
}

impl fmt::Debug for Checkpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Checkpoint")
            .field("chain", &self.chain)
            .field("seq", &self.seq)
            .field("hash", &hex::encode(self.hash))
            .field("at", &self.at)
            .field("kind", &self.kind)
            .field("key_id", &self.key_id)
            .field("signature_len", &self.signature.len())
            .finish()
    }
}

/// The chains as the store keeps them.
///
/// # Errors
/// - Every write of an audit event (through any port) MUST give it the next number of its
///   chain and link it to the chain's previous event, inside the write's transaction: no
///   two events of a chain share a number, none is skipped, and an event rolled back
///   takes its number with it. The order is the database's (the order in which writers
///   take the chain's head), whatever the events' ids or times say.
/// - `chain_heads` MUST return the store's record of every chain that has an event.
/// - `chain_events` MUST return only the chain's events that have a link, in number order,
///   from number `from` on, at most `limit`. It reads rows as they are stored, so that a
///   row changed behind the vault's back shows as changed.
/// - `count_unchained` MUST count the chain's events without a link (written before the
///   chain began).
/// - `insert_checkpoint` MUST store the checkpoint unless the chain has one at that number,
///   and return whether it stored it.
/// - `list_checkpoints` MUST return the chain's checkpoints, newest (highest number) first,
///   below `before` when given, at most `limit`.
/// - `sink_cursors` MUST return, for the audit sink named `sink`, the number of the last
///   event it delivered of each chain it has delivered any of.
/// - `save_sink_cursor` MUST record that `sink` delivered `chain`'s events through `seq`,
///   and never move a cursor back: a lower `seq` than the stored one changes nothing.
/// - `cut_chain` MUST, in one transaction, store `checkpoint` (a retention checkpoint; it
///   replaces a checkpoint stored at that number, so the cut is always on record) and
///   delete the chain's events numbered up to its `seq`, and return how many it deleted.
pub trait AuditChainStore: Send + Sync + 'static {
    /// Every chain's head.
    fn chain_heads(&self) -> impl Future<Output = Result<Vec<ChainHead>, StoreError>> + Send;

    /// A run of one chain's events, in order.
    fn chain_events(
        &self,
        chain: AuditChain,
        from: u64,
        limit: usize,
    ) -> impl Future<Output = Result<Vec<AuditEvent>, StoreError>> + Send;

    /// How many of the chain's events have no link.
    fn count_unchained(
        &self,
        chain: AuditChain,
    ) -> impl Future<Output = Result<u64, StoreError>> + Send;

    /// Stores a checkpoint.
    fn insert_checkpoint(
        &self,
        checkpoint: &Checkpoint,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// A chain's checkpoints, newest first.
    fn list_checkpoints(
        &self,
        chain: AuditChain,
        before: Option<u64>,
        limit: usize,
    ) -> impl Future<Output = Result<Vec<Checkpoint>, StoreError>> + Send;

    /// Where an audit sink is in each chain.
    fn sink_cursors(
        &self,
        sink: &str,
    ) -> impl Future<Output = Result<Vec<(AuditChain, u64)>, StoreError>> + Send;

    /// Moves an audit sink's cursor in one chain forward.
    fn save_sink_cursor(
        &self,
        sink: &str,
        chain: AuditChain,
        seq: u64,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Retention's cut of a chain, with its checkpoint.
    fn cut_chain(
        &self,
        checkpoint: &Checkpoint,
    ) -> impl Future<Output = Result<u64, StoreError>> + Send;
}
