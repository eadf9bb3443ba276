//! Checks of the audit log's hash chains (`AuditChainStore`, issue 20): every write of an
//! audit event, through every port, extends its chain without a gap; checkpoints are kept
//! once; a cut keeps the chain verifiable; audit sinks' cursors only move forward. Then
//! the tamper checks: what someone with write access to the database could do to the
//! rows, each found by verification.

use std::future::Future;

use time::OffsetDateTime;
use uuid::Uuid;
use vault_audit::{BreakKind, ChainReport, CheckpointSigner, verify_chains};
use vault_core::Store;
use vault_core::audit_chain::{AuditChain, CheckpointKind};
use vault_core::credential::CredentialType;
use vault_core::ids::OrganizationId;
use vault_core::logs::{AuditAction, LogRecord};

use super::fixtures::{
    delete, insert, insert_key, must, new_organization, revoke_key, sample_access_key,
    sample_audit_event, sample_credential, sample_time, update,
};

/// Changes a store's audit rows behind its back, as someone with write access to its
/// database could: what the tamper checks do to a chain before verifying it. Each method
/// panics if it cannot do what it says.
pub trait Tamper: Send + Sync {
    /// Sets the `reason` of event `event`, nothing else.
    fn set_reason(&self, event: Uuid, reason: &str) -> impl Future<Output = ()> + Send;

    /// Deletes event `event`.
    fn delete_event(&self, event: Uuid) -> impl Future<Output = ()> + Send;

    /// Swaps the chain numbers of events `a` and `b`, each row otherwise unchanged.
    fn swap_numbers(&self, a: Uuid, b: Uuid) -> impl Future<Output = ()> + Send;

    /// Sets the organization of event `event` to `to`, nothing else.
    fn move_event(&self, event: Uuid, to: OrganizationId) -> impl Future<Output = ()> + Send;

    /// Cuts `chain`'s tail as someone hiding it would: deletes its events numbered `from`
    /// and above and its checkpoints at those numbers, and sets its head record to the
    /// event before (its number, hash and previous hash).
    fn cut_tail(&self, chain: AuditChain, from: u64) -> impl Future<Output = ()> + Send;
}

/// Appends `n` audit events of `organization` (none: the installation's); their ids in
/// order.
async fn append<S: Store>(store: &S, organization: Option<OrganizationId>, n: usize) -> Vec<Uuid> {
    let mut ids = Vec::with_capacity(n);
    for _ in 0..n {
        let event = sample_audit_event(organization);
        ids.push(event.id);
        must(
            store.append_log(LogRecord::Audit(event)).await,
            "append_log of an audit event",
        );
    }
    ids
}

/// The ids of `chain`'s events in chain order, checking their numbers run from `first`
/// with no gap.
async fn chain_ids<S: Store>(store: &S, chain: AuditChain, first: u64) -> Vec<Uuid> {
    let events = must(store.chain_events(chain, 0, 10_000).await, "chain_events");
    for (i, event) in events.iter().enumerate() {
        let link = event
            .chain
            .unwrap_or_else(|| panic!("{chain}: an event without a link"));
        assert_eq!(
            link.seq,
            first + i as u64,
            "{chain}: chain numbers are not consecutive from {first}"
        );
    }
    events.into_iter().map(|e| e.id).collect()
}

/// Verifies every chain with a fresh key (so no stored checkpoint can verify: call only on
/// stores without checkpoints), or with `signer`'s.
async fn reports<S: Store>(store: &S, signer: &CheckpointSigner) -> Vec<ChainReport> {
    must(
        verify_chains(store, signer.public_key(), None, &[]).await,
        "verify_chains",
    )
}

fn signer() -> CheckpointSigner {
    CheckpointSigner::generate().expect("a checkpoint signer")
}

fn report_of(reports: &[ChainReport], chain: AuditChain) -> &ChainReport {
    reports
        .iter()
        .find(|r| r.chain == chain)
        .unwrap_or_else(|| panic!("no report of {chain}: {reports:?}"))
}

/// Every port that writes an audit event (credential create, update and delete, access-key
/// issue and revocation, log appends) extends the event's chain: one chain per
/// organization and one for events of none, numbered from 1 in the order written, each
/// linked to the one before, and the head record at the last.
pub async fn every_audit_write_extends_its_chain<S: Store>(store: &S) {
    let org = new_organization(store).await;
    let other = new_organization(store).await;
    let credential = sample_credential(org, CredentialType::BearerToken);
    let id = credential.credential.id;
    let mut expected = Vec::new();
    must(insert(store, &credential).await, "insert_credential");
    expected.extend(append(store, Some(org), 1).await);
    let mut next = credential.clone();
    next.credential.version += 1;
    must(update(store, org, &next, 1).await, "update_credential");
    let key = sample_access_key(org);
    must(insert_key(store, &key).await, "insert_access_key");
    must(
        revoke_key(store, org, key.key.id, sample_time()).await,
        "revoke_access_key",
    );
    must(delete(store, org, id).await, "delete_credential");
    let others = append(store, Some(other), 2).await;
    let installation = append(store, None, 2).await;

    let chain = AuditChain::Organization(org);
    let ids = chain_ids(store, chain, 1).await;
    assert_eq!(
        ids.len(),
        6,
        "{chain}: not one link per audit write: {ids:?}"
    );
    assert_eq!(
        ids[1], expected[0],
        "{chain}: the chain is not in the order written"
    );
    let actions: Vec<_> = must(store.chain_events(chain, 1, 100).await, "chain_events")
        .into_iter()
        .map(|e| e.action)
        .collect();
    assert_eq!(
        actions,
        [
            AuditAction::CredentialCreate,
            AuditAction::CredentialUse,
            AuditAction::CredentialUpdate,
            AuditAction::AccessKeyCreate,
            AuditAction::AccessKeyRevoke,
            AuditAction::CredentialDelete,
        ],
        "{chain}: the chain does not hold each write's event in order"
    );
    assert_eq!(
        chain_ids(store, AuditChain::Organization(other), 1).await,
        others,
        "another organization's events are not a chain of their own"
    );
    assert_eq!(
        chain_ids(store, AuditChain::Installation, 1).await,
        installation,
        "events of no organization are not the installation's chain"
    );
    let heads = must(store.chain_heads().await, "chain_heads");
    let head = heads
        .iter()
        .find(|h| h.chain == chain)
        .expect("a head record of the organization's chain");
    let last = must(store.chain_events(chain, 6, 1).await, "chain_events")[0]
        .chain
        .expect("a link");
    assert_eq!(
        (head.seq, head.hash),
        (6, last.hash),
        "the head record is not the last event"
    );
    let signer = signer();
    for report in reports(store, &signer).await {
        assert_eq!(
            report.broken, None,
            "an untouched chain does not verify: {report:?}"
        );
    }
    assert_eq!(
        must(store.chain_events(chain, 4, 2).await, "chain_events")
            .iter()
            .map(|e| e.chain.expect("a link").seq)
            .collect::<Vec<_>>(),
        [4, 5],
        "chain_events does not start at its number or stop at its limit"
    );
}

/// Audit events written at once from many tasks (log appends and credential writes of
/// one organization) still make one chain with no gap and no repeat, which verifies.
pub async fn concurrent_writes_make_one_gapless_chain<S: Store>(store: &S) {
    let org = new_organization(store).await;
    let writers = (0..8).map(|i| async move {
        if i % 2 == 0 {
            append(store, Some(org), 12).await;
        } else {
            for _ in 0..6 {
                let credential = sample_credential(org, CredentialType::ApiKey);
                must(insert(store, &credential).await, "insert_credential");
            }
        }
    });
    futures::future::join_all(writers).await;
    let chain = AuditChain::Organization(org);
    let ids = chain_ids(store, chain, 1).await;
    assert_eq!(
        ids.len(),
        4 * 12 + 4 * 6,
        "{chain}: events missing from the chain"
    );
    let signer = signer();
    let report = reports(store, &signer).await;
    assert_eq!(report_of(&report, chain).broken, None, "{report:?}");
}

/// A checkpoint is stored once per chain and number (a second one there is refused and
/// changes nothing), and listed newest first, below `before`, per chain.
pub async fn checkpoints_are_kept_once_and_listed_newest_first<S: Store>(store: &S) {
    let org = new_organization(store).await;
    let chain = AuditChain::Organization(org);
    let signer = signer();
    let at = sample_time();
    for seq in [3, 1, 2] {
        let checkpoint = signer.sign(
            chain,
            seq,
            [u8::try_from(seq).expect("small"); 32],
            CheckpointKind::Periodic,
            at,
        );
        assert!(
            must(
                store.insert_checkpoint(&checkpoint).await,
                "insert_checkpoint"
            ),
            "a new checkpoint was not stored"
        );
    }
    let again = signer.sign(chain, 2, [9; 32], CheckpointKind::Retention, at);
    assert!(
        !must(store.insert_checkpoint(&again).await, "insert_checkpoint"),
        "a second checkpoint at a number was stored"
    );
    let other = signer.sign(
        AuditChain::Installation,
        2,
        [8; 32],
        CheckpointKind::Periodic,
        at,
    );
    must(store.insert_checkpoint(&other).await, "insert_checkpoint");
    let listed = must(
        store.list_checkpoints(chain, None, 10).await,
        "list_checkpoints",
    );
    assert_eq!(
        listed.iter().map(|c| c.seq).collect::<Vec<_>>(),
        [3, 2, 1],
        "checkpoints are not listed newest first, per chain"
    );
    assert_eq!(
        listed[1].hash, [2; 32],
        "a refused checkpoint replaced the stored one"
    );
    assert!(
        listed.iter().all(|c| signer.public_key().verifies(c)),
        "a checkpoint does not read back as it was signed"
    );
    let page = must(
        store.list_checkpoints(chain, Some(3), 1).await,
        "list_checkpoints",
    );
    assert_eq!(
        page.iter().map(|c| c.seq).collect::<Vec<_>>(),
        [2],
        "before or limit ignored"
    );
}

/// A cut stores its retention checkpoint (in place of a checkpoint at that number) and
/// deletes the chain's events up to it, no other chain's; the chain then verifies from
/// the checkpoint, and grows on from there.
pub async fn a_cut_keeps_the_chain_verifiable<S: Store>(store: &S) {
    let org = new_organization(store).await;
    let other = new_organization(store).await;
    let ids = append(store, Some(org), 5).await;
    let others = append(store, Some(other), 3).await;
    let chain = AuditChain::Organization(org);
    let third = must(store.chain_events(chain, 3, 1).await, "chain_events")[0]
        .chain
        .expect("a link");
    let signer = signer();
    // A periodic checkpoint already at the cut's number: the cut replaces it, so the cut
    // is on record.
    let periodic = signer.sign(
        chain,
        3,
        third.hash,
        CheckpointKind::Periodic,
        sample_time(),
    );
    must(
        store.insert_checkpoint(&periodic).await,
        "insert_checkpoint",
    );
    let cut = signer.sign(
        chain,
        3,
        third.hash,
        CheckpointKind::Retention,
        OffsetDateTime::now_utc(),
    );
    assert_eq!(
        must(store.cut_chain(&cut).await, "cut_chain"),
        3,
        "cut_chain did not delete 3 events"
    );
    assert_eq!(
        chain_ids(store, chain, 4).await,
        ids[3..],
        "the cut did not leave events 4 and 5"
    );
    assert_eq!(
        chain_ids(store, AuditChain::Organization(other), 1).await,
        others,
        "a cut touched another chain"
    );
    append(store, Some(org), 1).await;
    let reports = reports(store, &signer).await;
    let report = report_of(&reports, chain);
    assert_eq!(
        report.broken, None,
        "a cut chain does not verify: {report:?}"
    );
    assert_eq!(
        (report.first, report.last),
        (Some(4), Some(6)),
        "{report:?}"
    );
    let kept = must(
        store.list_checkpoints(chain, None, 10).await,
        "list_checkpoints",
    );
    assert_eq!(kept.len(), 1, "the cut's checkpoint was not stored");
    assert_eq!(kept[0].kind, CheckpointKind::Retention);
}

/// An audit sink's cursors: none at first; saved per chain and per sink, each on its own;
/// moved forward only (a lower number changes nothing, the same one again is accepted);
/// and one sink's never another's. Cursors name chains, not rows: no organization or event
/// needs to exist.
pub async fn sink_cursors_move_forward_only_per_sink_and_chain<S: Store>(store: &S) {
    // Names of this check's own, so it holds on a store other checks share.
    let sink = format!("siem-{}", Uuid::new_v4().simple());
    let other_sink = format!("archive-{}", Uuid::new_v4().simple());
    let org = AuditChain::Organization(OrganizationId::new());
    let second = AuditChain::Organization(OrganizationId::new());
    let installation = AuditChain::Installation;
    let cursors = async |sink: &str| {
        let mut cursors = must(store.sink_cursors(sink).await, "sink_cursors");
        cursors.sort_unstable();
        cursors
    };
    let save = async |sink: &str, chain: AuditChain, seq: u64| {
        must(
            store.save_sink_cursor(sink, chain, seq).await,
            "save_sink_cursor",
        );
    };
    let expect = |mut expected: Vec<(AuditChain, u64)>| {
        expected.sort_unstable();
        expected
    };

    assert!(
        cursors(&sink).await.is_empty(),
        "a sink that never saved a cursor has one"
    );
    save(&sink, org, 5).await;
    save(&sink, installation, 2).await;
    assert_eq!(
        cursors(&sink).await,
        expect(vec![(org, 5), (installation, 2)]),
        "a cursor is not kept per chain"
    );
    save(&sink, org, 9).await;
    assert_eq!(
        cursors(&sink).await,
        expect(vec![(org, 9), (installation, 2)]),
        "a cursor did not move forward, or moved another chain's"
    );
    save(&sink, org, 3).await;
    save(&sink, installation, 1).await;
    assert_eq!(
        cursors(&sink).await,
        expect(vec![(org, 9), (installation, 2)]),
        "a lower number moved a cursor back"
    );
    save(&sink, org, 9).await;
    assert_eq!(
        cursors(&sink).await,
        expect(vec![(org, 9), (installation, 2)]),
        "saving the same number again changed a cursor"
    );

    assert!(
        cursors(&other_sink).await.is_empty(),
        "one sink's cursors are another's"
    );
    save(&other_sink, org, 1).await;
    save(&other_sink, second, 4).await;
    assert_eq!(
        cursors(&other_sink).await,
        expect(vec![(org, 1), (second, 4)]),
        "a second sink's cursors are not its own"
    );
    assert_eq!(
        cursors(&sink).await,
        expect(vec![(org, 9), (installation, 2)]),
        "a second sink's saves moved the first's cursors"
    );
}

/// A chain of `n` events of a new organization, checkpointed at its end by `signer`
/// (returned as a copy held outside); the chain, its event ids and the checkpoint.
async fn checkpointed_chain<S: Store>(
    store: &S,
    signer: &CheckpointSigner,
    n: usize,
) -> (AuditChain, Vec<Uuid>, vault_core::audit_chain::Checkpoint) {
    let org = new_organization(store).await;
    let ids = append(store, Some(org), n).await;
    let chain = AuditChain::Organization(org);
    let head = must(store.chain_heads().await, "chain_heads")
        .into_iter()
        .find(|h| h.chain == chain)
        .expect("a head record");
    let checkpoint = signer.sign(
        chain,
        head.seq,
        head.hash,
        CheckpointKind::Periodic,
        sample_time(),
    );
    must(
        store.insert_checkpoint(&checkpoint).await,
        "insert_checkpoint",
    );
    (chain, ids, checkpoint)
}

async fn break_of<S: Store>(
    store: &S,
    signer: &CheckpointSigner,
    chain: AuditChain,
    outside: &[vault_core::audit_chain::Checkpoint],
) -> (u64, BreakKind) {
    let reports = must(
        verify_chains(store, signer.public_key(), Some(chain), outside).await,
        "verify_chains",
    );
    let broken = report_of(&reports, chain)
        .broken
        .clone()
        .unwrap_or_else(|| panic!("{chain}: tampering went unnoticed: {reports:?}"));
    (broken.seq, broken.kind)
}

/// A row modified in place (its reason) is found at its number.
pub async fn a_modified_event_is_found<S: Store, T: Tamper>(store: &S, tamper: &T) {
    let signer = signer();
    let (chain, ids, _) = checkpointed_chain(store, &signer, 5).await;
    tamper.set_reason(ids[2], "nothing-to-see").await;
    assert_eq!(
        break_of(store, &signer, chain, &[]).await,
        (3, BreakKind::ContentChanged)
    );
}

/// A row deleted from the middle is found as missing at its number.
pub async fn a_deleted_event_is_found<S: Store, T: Tamper>(store: &S, tamper: &T) {
    let signer = signer();
    let (chain, ids, _) = checkpointed_chain(store, &signer, 5).await;
    tamper.delete_event(ids[1]).await;
    assert_eq!(
        break_of(store, &signer, chain, &[]).await,
        (2, BreakKind::Missing { last: 2 })
    );
}

/// Two rows swapped (by their numbers) are found where the first of them now stands.
pub async fn swapped_events_are_found<S: Store, T: Tamper>(store: &S, tamper: &T) {
    let signer = signer();
    let (chain, ids, _) = checkpointed_chain(store, &signer, 5).await;
    tamper.swap_numbers(ids[1], ids[3]).await;
    assert_eq!(
        break_of(store, &signer, chain, &[]).await,
        (2, BreakKind::Unlinked)
    );
}

/// A tail cut off, with the checkpoints and the head record made to match, is invisible
/// to the store's own records, and found against a checkpoint held outside.
pub async fn a_truncated_tail_is_found_against_a_checkpoint_held_outside<S: Store, T: Tamper>(
    store: &S,
    tamper: &T,
) {
    let signer = signer();
    let (chain, _, outside) = checkpointed_chain(store, &signer, 6).await;
    tamper.cut_tail(chain, 5).await;
    let reports = must(
        verify_chains(store, signer.public_key(), Some(chain), &[]).await,
        "verify_chains",
    );
    assert_eq!(
        report_of(&reports, chain).broken,
        None,
        "a tail cut with its records cleaned up should pass without an outside checkpoint \
         (this is why copies are kept outside): {reports:?}"
    );
    assert_eq!(
        break_of(store, &signer, chain, &[outside]).await,
        (6, BreakKind::Truncated { last: 4 })
    );
}

/// An event moved to another organization leaves a gap in its chain.
pub async fn an_event_moved_between_organizations_is_found<S: Store, T: Tamper>(
    store: &S,
    tamper: &T,
) {
    let signer = signer();
    let (chain, ids, _) = checkpointed_chain(store, &signer, 5).await;
    let elsewhere = new_organization(store).await;
    tamper.move_event(ids[3], elsewhere).await;
    assert_eq!(
        break_of(store, &signer, chain, &[]).await,
        (4, BreakKind::Missing { last: 4 })
    );
    // Where it landed, it is no event of that chain.
    let (_, kind) = break_of(store, &signer, AuditChain::Organization(elsewhere), &[]).await;
    assert!(
        matches!(kind, BreakKind::StartMissing | BreakKind::ContentChanged),
        "the moved event passed in its new chain: {kind:?}"
    );
}

/// Runs the tamper checks against an adapter: one `#[tokio::test]` per check, each on a
/// fresh `(store, tamper)` from `$factory`, an async expression giving `Option<(S, T)>`
/// (`None`: the backend is missing, the test returns early).
#[macro_export]
macro_rules! audit_tamper_conformance {
    ($factory:expr) => {
        $crate::__audit_tamper_tests! {
            $factory;
            a_modified_event_is_found,
            a_deleted_event_is_found,
            swapped_events_are_found,
            a_truncated_tail_is_found_against_a_checkpoint_held_outside,
            an_event_moved_between_organizations_is_found,
        }
    };
}

/// Implementation detail of [`audit_tamper_conformance!`](crate::audit_tamper_conformance).
#[doc(hidden)]
#[macro_export]
macro_rules! __audit_tamper_tests {
    ($factory:expr; $($check:ident),+ $(,)?) => {
        $(
            #[::tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $check() {
                let Some((store, tamper)) = $factory.await else {
                    return;
                };
                $crate::store_suite::$check(&store, &tamper).await;
            }
        )+
    };
}
