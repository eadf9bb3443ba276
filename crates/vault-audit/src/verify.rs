//! Verifying chains as a store holds them, and checkpointing what verifies.
//!
//! A chain verifies when: every checkpoint stored for it (and every one held outside)
//! carries a good signature; its events run from number 1, or from just after a retention
//! checkpoint, with no gap, each linking to the one before and matching its digest; every
//! checkpoint within that run matches the event at its number; none names a number past
//! the chain's end; and the store's record of the head is the last event.

use std::collections::BTreeMap;

use time::OffsetDateTime;
use vault_core::audit_chain::{
    AuditChain, AuditChainStore, ChainHash, ChainHead, Checkpoint, CheckpointKind, GENESIS,
};
use vault_core::logs::AuditEvent;
use vault_core::store::StoreError;

use crate::signing::{CheckpointKey, CheckpointSigner};
use crate::walk::{BreakKind, ChainBreak, ChainWalk};

/// Events read per store call.
pub const WALK_BATCH: usize = 1_000;

/// Checkpoints read per store call.
const CHECKPOINT_BATCH: usize = 1_000;

/// What verifying one chain found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChainReport {
    /// The chain.
    pub chain: AuditChain,
    /// The first event's number (after a retention cut, the one after it).
    pub first: Option<u64>,
    /// The last event's number.
    pub last: Option<u64>,
    /// Events walked.
    pub events: u64,
    /// Checkpoints whose signatures were checked (those held outside included).
    pub checkpoints: u64,
    /// Events of the chain's organization with no link: written before chains existed.
    pub unchained: u64,
    /// The first break, if any.
    pub broken: Option<ChainBreak>,
}

/// Verifies every chain the store has, or only `only`; checkpoints held `outside` are
/// checked against the chains they name (and name chains to verify even when the store
/// no longer has them).
///
/// # Errors
/// A store failure (a break is a report, not an error).
pub async fn verify_chains<S: AuditChainStore>(
    store: &S,
    key: &CheckpointKey,
    only: Option<AuditChain>,
    outside: &[Checkpoint],
) -> Result<Vec<ChainReport>, StoreError> {
    let heads = store.chain_heads().await?;
    let mut chains: BTreeMap<AuditChain, Option<ChainHead>> = BTreeMap::new();
    for head in heads {
        chains.insert(head.chain, Some(head));
    }
    for checkpoint in outside {
        chains.entry(checkpoint.chain).or_insert(None);
    }
    if let Some(only) = only {
        chains.retain(|chain, _| *chain == only);
        chains.entry(only).or_insert(None);
    }
    let mut reports = Vec::with_capacity(chains.len());
    for (chain, head) in chains {
        let outside: Vec<_> = outside
            .iter()
            .filter(|c| c.chain == chain)
            .cloned()
            .collect();
        reports.push(verify_chain(store, key, chain, head, outside).await?);
    }
    Ok(reports)
}

/// Verifies one chain (see the module's documentation).
///
/// # Errors
/// A store failure.
pub async fn verify_chain<S: AuditChainStore>(
    store: &S,
    key: &CheckpointKey,
    chain: AuditChain,
    head: Option<ChainHead>,
    outside: Vec<Checkpoint>,
) -> Result<ChainReport, StoreError> {
    let mut report = ChainReport {
        chain,
        first: None,
        last: None,
        events: 0,
        checkpoints: 0,
        unchained: store.count_unchained(chain).await?,
        broken: None,
    };
    let mut checkpoints = all_checkpoints(store, chain).await?;
    checkpoints.extend(outside);
    report.checkpoints = checkpoints.len() as u64;
    if let Some(bad) = checkpoints.iter().find(|c| !key.verifies(c)) {
        report.broken = Some(at_checkpoint(chain, bad.seq, BreakKind::BadSignature));
        return Ok(report);
    }
    let signed: BTreeMap<u64, ChainHash> = checkpoints.iter().map(|c| (c.seq, c.hash)).collect();
    let first = store.chain_events(chain, 1, 1).await?.into_iter().next();
    let start = match start_of(chain, first.as_ref(), &checkpoints) {
        Ok(start) => start,
        Err(broken) => {
            report.first = Some(broken.seq);
            report.broken = Some(broken);
            return Ok(report);
        }
    };
    let end = walk_on(store, start, None, &signed).await?;
    report.events = end.walk.events();
    let (last, last_hash) = end.walk.last();
    if report.events > 0 {
        report.first = Some(last + 1 - report.events);
        report.last = Some(last);
    }
    if end.broken.is_some() {
        report.broken = end.broken;
        return Ok(report);
    }
    // A checkpoint past the end: the tail was cut off.
    if let Some(beyond) = checkpoints
        .iter()
        .filter(|c| c.seq > last)
        .min_by_key(|c| c.seq)
    {
        report.broken = Some(at_checkpoint(
            chain,
            beyond.seq,
            BreakKind::Truncated { last },
        ));
        return Ok(report);
    }
    let recorded = head.map_or((0, GENESIS), |head| (head.seq, head.hash));
    if recorded != (last, last_hash) {
        report.broken = Some(at_checkpoint(
            chain,
            last,
            BreakKind::HeadMismatch {
                recorded: recorded.0,
            },
        ));
    }
    Ok(report)
}

/// Where a walk of `chain` starts, given its first stored event: from the genesis when
/// that is number 1; after the latest retention cut (whose checkpoint's hash the event
/// must follow) when it is the number after the cut, or when every event was cut.
///
/// # Errors
/// [`BreakKind::StartMissing`] when the chain starts later with no cut to explain it.
fn start_of(
    chain: AuditChain,
    first: Option<&AuditEvent>,
    checkpoints: &[Checkpoint],
) -> Result<ChainWalk, ChainBreak> {
    let cut = checkpoints
        .iter()
        .filter(|c| c.kind == CheckpointKind::Retention)
        .max_by_key(|c| c.seq)
        .map(|c| (c.seq, c.hash));
    match first.and_then(|e| e.chain.map(|link| (e.id, link.seq))) {
        None => Ok(ChainWalk::after(
            chain,
            cut.map_or(0, |c| c.0),
            cut.map_or(GENESIS, |c| c.1),
        )),
        Some((_, 1)) => Ok(ChainWalk::from_genesis(chain)),
        Some((id, seq)) => match cut.filter(|(cut, _)| *cut == seq - 1) {
            Some((cut, hash)) => Ok(ChainWalk::after(chain, cut, hash)),
            None => Err(ChainBreak {
                event: Some(id),
                ..at_checkpoint(chain, seq, BreakKind::StartMissing)
            }),
        },
    }
}

/// What a retention cut of a chain came to.
#[derive(Debug)]
pub enum Cut {
    /// No event of the chain is older than the cutoff.
    Nothing,
    /// The events through `through` were deleted (`deleted` of them) under a signed
    /// retention checkpoint; `more` when older events may remain past the batch.
    Done {
        /// The last number cut.
        through: u64,
        /// How many events were deleted.
        deleted: u64,
        /// Whether the whole batch was old, so the next may be too.
        more: bool,
    },
    /// The events to cut do not verify: nothing was cut or signed.
    Broken(ChainBreak),
}

/// Retention's cut of one chain: of its first `limit` events, the run older than
/// `cutoff` is checked (from the chain's start, against every signed checkpoint within
/// it), and only then deleted under a retention checkpoint signed at its last event, so
/// the chain verifies from there and a cut never launders a tampered stretch.
///
/// # Errors
/// A store failure.
pub async fn cut_chain_before<S: AuditChainStore>(
    store: &S,
    signer: &CheckpointSigner,
    chain: AuditChain,
    cutoff: OffsetDateTime,
    limit: usize,
    now: OffsetDateTime,
) -> Result<Cut, StoreError> {
    let events = store.chain_events(chain, 0, limit).await?;
    let old = events.iter().take_while(|e| e.at < cutoff).count();
    if old == 0 {
        return Ok(Cut::Nothing);
    }
    let checkpoints = all_checkpoints(store, chain).await?;
    let mut walk = match start_of(chain, events.first(), &checkpoints) {
        Ok(walk) => walk,
        Err(broken) => return Ok(Cut::Broken(broken)),
    };
    let signed: BTreeMap<u64, &Checkpoint> = checkpoints.iter().map(|c| (c.seq, c)).collect();
    for event in &events[..old] {
        if let Err(broken) = walk.step(event) {
            return Ok(Cut::Broken(broken));
        }
        let (seq, hash) = walk.last();
        if let Some(checkpoint) = signed.get(&seq) {
            let kind = if !signer.public_key().verifies(checkpoint) {
                Some(BreakKind::BadSignature)
            } else {
                (checkpoint.hash != hash).then_some(BreakKind::CheckpointMismatch)
            };
            if let Some(kind) = kind {
                return Ok(Cut::Broken(ChainBreak {
                    event: Some(event.id),
                    ..at_checkpoint(chain, seq, kind)
                }));
            }
        }
    }
    let (through, hash) = walk.last();
    let checkpoint = signer.sign(chain, through, hash, CheckpointKind::Retention, now);
    let deleted = store.cut_chain(&checkpoint).await?;
    Ok(Cut::Done {
        through,
        deleted,
        more: old == limit,
    })
}

/// Where a walk ended.
struct WalkEnd {
    walk: ChainWalk,
    broken: Option<ChainBreak>,
}

/// Walks on from `walk` to the chain's end (or through number `until`), checking each
/// event against `signed` checkpoints at its number.
async fn walk_on<S: AuditChainStore>(
    store: &S,
    mut walk: ChainWalk,
    until: Option<u64>,
    signed: &BTreeMap<u64, ChainHash>,
) -> Result<WalkEnd, StoreError> {
    loop {
        let from = walk.last().0 + 1;
        let events = store.chain_events(walk.chain(), from, WALK_BATCH).await?;
        let full = events.len() == WALK_BATCH;
        for event in &events {
            let seq = event.chain.map_or(0, |link| link.seq);
            if until.is_some_and(|until| seq > until) {
                return Ok(WalkEnd { walk, broken: None });
            }
            if let Err(broken) = walk.step(event) {
                return Ok(WalkEnd {
                    walk,
                    broken: Some(broken),
                });
            }
            if signed.get(&seq).is_some_and(|hash| *hash != walk.last().1) {
                let chain = walk.chain();
                return Ok(WalkEnd {
                    walk,
                    broken: Some(ChainBreak {
                        event: Some(event.id),
                        ..at_checkpoint(chain, seq, BreakKind::CheckpointMismatch)
                    }),
                });
            }
        }
        if !full {
            return Ok(WalkEnd { walk, broken: None });
        }
    }
}

fn at_checkpoint(chain: AuditChain, seq: u64, kind: BreakKind) -> ChainBreak {
    ChainBreak {
        chain,
        seq,
        event: None,
        kind,
    }
}

/// Every checkpoint of `chain`.
///
/// # Errors
/// A store failure.
pub async fn all_checkpoints<S: AuditChainStore>(
    store: &S,
    chain: AuditChain,
) -> Result<Vec<Checkpoint>, StoreError> {
    let mut all = Vec::new();
    let mut before = None;
    loop {
        let page = store
            .list_checkpoints(chain, before, CHECKPOINT_BATCH)
            .await?;
        let full = page.len() == CHECKPOINT_BATCH;
        before = page.last().map(|c| c.seq);
        all.extend(page);
        if !full {
            return Ok(all);
        }
    }
}

/// What checkpointing a chain came to.
#[derive(Debug)]
pub enum Checkpointed {
    /// Nothing new since the last checkpoint.
    UpToDate,
    /// A checkpoint was signed and stored at this number.
    Signed(u64),
    /// The chain does not verify from its last checkpoint: nothing was signed.
    Broken(ChainBreak),
}

/// What the events of a chain since its last checkpoint came to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Recent {
    /// The chain's last checkpoint, if it has one (its signature checked).
    pub checkpoint: Option<Checkpoint>,
    /// The last number verified, and its hash: the checkpoint's when nothing followed it.
    pub verified: (u64, ChainHash),
    /// The first break after the checkpoint (or the checkpoint's bad signature).
    pub broken: Option<ChainBreak>,
}

/// Verifies `head`'s chain from its last checkpoint (whose signature is checked first)
/// to the head, or to `limit` events past the checkpoint: what each periodic checkpoint
/// vouches for, and what a look at a chain's state can afford.
///
/// # Errors
/// A store failure.
pub async fn verify_recent<S: AuditChainStore>(
    store: &S,
    key: &CheckpointKey,
    head: &ChainHead,
    limit: Option<u64>,
) -> Result<Recent, StoreError> {
    let chain = head.chain;
    let checkpoint = store
        .list_checkpoints(chain, None, 1)
        .await?
        .into_iter()
        .next();
    let walk = match &checkpoint {
        Some(latest) if !key.verifies(latest) => {
            return Ok(Recent {
                verified: (0, GENESIS),
                broken: Some(at_checkpoint(chain, latest.seq, BreakKind::BadSignature)),
                checkpoint,
            });
        }
        Some(latest) => ChainWalk::after(chain, latest.seq, latest.hash),
        // No checkpoint yet (so no retention cut either): from the chain's start.
        None => ChainWalk::from_genesis(chain),
    };
    let from = checkpoint.as_ref().map_or(0, |c| c.seq);
    let through = limit.map_or(head.seq, |limit| head.seq.min(from.saturating_add(limit)));
    let end = if through > from {
        walk_on(store, walk, Some(through), &BTreeMap::new()).await?
    } else {
        WalkEnd { walk, broken: None }
    };
    Ok(Recent {
        checkpoint,
        verified: end.walk.last(),
        broken: end.broken,
    })
}

/// Signs a periodic checkpoint of `head`'s chain, but only once the events since the
/// chain's last checkpoint (whose signature is checked first) verify up to the head: a
/// checkpoint never vouches for a chain altered since the one before it.
///
/// # Errors
/// A store failure.
pub async fn checkpoint_chain<S: AuditChainStore>(
    store: &S,
    signer: &CheckpointSigner,
    head: ChainHead,
    now: OffsetDateTime,
) -> Result<Checkpointed, StoreError> {
    if store
        .list_checkpoints(head.chain, None, 1)
        .await?
        .first()
        .is_some_and(|latest| latest.seq >= head.seq)
    {
        return Ok(Checkpointed::UpToDate);
    }
    let recent = verify_recent(store, signer.public_key(), &head, None).await?;
    if let Some(broken) = recent.broken {
        return Ok(Checkpointed::Broken(broken));
    }
    let (seq, hash) = recent.verified;
    sign_at(store, signer, head.chain, seq, hash, now).await
}

async fn sign_at<S: AuditChainStore>(
    store: &S,
    signer: &CheckpointSigner,
    chain: AuditChain,
    seq: u64,
    hash: ChainHash,
    now: OffsetDateTime,
) -> Result<Checkpointed, StoreError> {
    if seq == 0 {
        return Ok(Checkpointed::UpToDate);
    }
    let checkpoint = signer.sign(chain, seq, hash, CheckpointKind::Periodic, now);
    store.insert_checkpoint(&checkpoint).await?;
    Ok(Checkpointed::Signed(seq))
}
