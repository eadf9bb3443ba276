//! The chain's two hashes. An event's digest is the SHA-256 of its canonical form: every
//! field, in a fixed order, each either absent or length-prefixed, so no two events share
//! an encoding. Its hash is the SHA-256 of a fixed label, the previous event's hash, its
//! number and its digest. The PostgreSQL store computes that second hash in the database
//! (its migration `audit_chain` says how, byte for byte); tests on every store check that
//! what a store wrote verifies here.

use ring::digest::{Context, SHA256};
use uuid::Uuid;
use vault_core::audit_chain::{ChainHash, ChainLink, GENESIS};
use vault_core::logs::AuditEvent;

/// Starts every event's canonical form: a later form gets a new label.
const EVENT_LABEL: &[u8] = b"vault-audit-event-v1";

/// Starts every link's input (hex `7661756c742d61756469742d6c696e6b2d7631` in SQL).
pub const LINK_LABEL: &[u8] = b"vault-audit-link-v1";

/// The SHA-256 of `event`'s canonical form (its link, if any, left out).
#[must_use]
pub fn digest(event: &AuditEvent) -> ChainHash {
    let mut form = Canonical(Context::new(&SHA256));
    form.0.update(EVENT_LABEL);
    form.bytes(Some(event.id.as_bytes()));
    form.uuid(event.organization_id.map(|o| *o.as_uuid()));
    form.uuid(event.actor.map(|a| *a.as_uuid()));
    form.text(event.actor_subject.as_deref());
    form.text(Some(event.action.as_str()));
    form.uuid(event.target);
    form.text(Some(event.outcome.as_str()));
    form.text(event.reason.as_deref());
    // Microseconds: what every store keeps of a time.
    let micros = i64::try_from(event.at.unix_timestamp_nanos().div_euclid(1_000)).unwrap_or(0);
    form.bytes(Some(&micros.to_be_bytes()));
    form.bytes(Some(&u64::from(event.count).to_be_bytes()));
    form.text(event.via.as_deref());
    finish(form.0)
}

/// The hash of the event numbered `seq` with `digest`, following `previous`.
#[must_use]
pub fn link(previous: &ChainHash, seq: u64, digest: &ChainHash) -> ChainHash {
    let mut context = Context::new(&SHA256);
    context.update(LINK_LABEL);
    context.update(previous);
    context.update(&seq.to_be_bytes());
    context.update(digest);
    finish(context)
}

/// The link of `event` appended after `head` (the chain's last number and hash; `None`
/// for an empty chain): what a store that chains in Rust writes with it.
#[must_use]
pub fn next_link(head: Option<(u64, ChainHash)>, event: &AuditEvent) -> ChainLink {
    let (last, previous) = head.unwrap_or((0, GENESIS));
    let seq = last + 1;
    let digest = digest(event);
    ChainLink {
        seq,
        digest,
        previous,
        hash: link(&previous, seq, &digest),
    }
}

/// The SHA-256 of `bytes`.
#[must_use]
pub fn sha256(bytes: &[u8]) -> ChainHash {
    let mut context = Context::new(&SHA256);
    context.update(bytes);
    finish(context)
}

fn finish(context: Context) -> ChainHash {
    let mut hash = [0u8; 32];
    hash.copy_from_slice(context.finish().as_ref());
    hash
}

/// Writes fields into a digest: a presence byte, then a 4-byte big-endian length and
/// the bytes.
struct Canonical(Context);

impl Canonical {
    fn bytes(&mut self, field: Option<&[u8]>) {
        match field {
            None => self.0.update(&[0]),
            Some(bytes) => {
                self.0.update(&[1]);
                // Fields are ids, short names and times: far below 4 GiB.
                let len = u32::try_from(bytes.len()).unwrap_or(u32::MAX);
                self.0.update(&len.to_be_bytes());
                self.0.update(bytes);
            }
        }
    }

    fn text(&mut self, field: Option<&str>) {
        self.bytes(field.map(str::as_bytes));
    }

    fn uuid(&mut self, field: Option<Uuid>) {
        self.bytes(field.as_ref().map(Uuid::as_bytes).map(<[u8; 16]>::as_slice));
    }
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;
    use vault_core::ids::OrganizationId;
    use vault_core::logs::{AuditAction, AuditOutcome};

    use super::*;

    pub(crate) fn event() -> AuditEvent {
        AuditEvent {
            id: Uuid::from_u128(0x0193_0000_0000_7000_8000_0000_0000_0001),
            organization_id: Some(OrganizationId::from_uuid(Uuid::from_u128(7))),
            actor: None,
            actor_subject: Some("ops@example.com".to_owned()),
            action: AuditAction::CredentialUse,
            target: Some(Uuid::from_u128(9)),
            outcome: AuditOutcome::Failure,
            reason: Some("credential-expired".to_owned()),
            at: datetime!(2026-12-07 12:00:00.123_456 UTC),
            count: 1,
            via: None,
            chain: None,
        }
    }

    #[test]
    fn the_canonical_form_is_stable() {
        // A golden value, computed apart from this code (Python's hashlib over the layout
        // the module's documentation gives). A change here changes every stored digest,
        // and needs a new label.
        assert_eq!(
            hex::encode(digest(&event())),
            "e18da57ecc402ac6d3804feef06e30cf504dd5d58a645940bce34c31bd95567a"
        );
    }

    #[test]
    fn every_field_is_in_the_digest_and_absence_differs_from_emptiness() {
        let base = digest(&event());
        let changes: Vec<fn(&mut AuditEvent)> = vec![
            |e| e.id = Uuid::from_u128(1),
            |e| e.organization_id = None,
            |e| e.actor = Some(vault_core::ids::AccessKeyId::new()),
            |e| e.actor_subject = Some(String::new()),
            |e| e.action = AuditAction::CredentialUpdate,
            |e| e.target = None,
            |e| e.outcome = AuditOutcome::Success,
            |e| e.reason = None,
            |e| e.at += time::Duration::microseconds(1),
            |e| e.count = 2,
            |e| e.via = Some(String::new()),
        ];
        for change in changes {
            let mut changed = event();
            change(&mut changed);
            assert_ne!(digest(&changed), base, "{changed:?}");
        }
        // The link is not part of the content.
        let mut linked = event();
        linked.chain = Some(next_link(None, &event()));
        assert_eq!(digest(&linked), base);
    }

    #[test]
    fn links_follow_from_the_previous_hash_the_number_and_the_digest() {
        let first = next_link(None, &event());
        assert_eq!(first.seq, 1);
        assert_eq!(first.previous, GENESIS);
        assert_eq!(first.hash, link(&GENESIS, 1, &first.digest));
        let second = next_link(Some((first.seq, first.hash)), &event());
        assert_eq!(second.seq, 2);
        assert_eq!(second.previous, first.hash);
        assert_ne!(second.hash, first.hash, "the number is in the hash");
    }
}
