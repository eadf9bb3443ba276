//! The audit chain as the API shows it: each event's link, and `GET
//! /audit-events/checkpoints`, the organization's signed checkpoints with the key that
//! checks them, for a third party to keep copies of. [`CheckpointDocument`] is also what
//! `vault-server audit verify --from-checkpoint` reads back.

use std::collections::BTreeMap;

use actix_web::web::{Data, Query};
use actix_web::{HttpRequest, HttpResponse};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use vault_core::audit_chain::{AuditChain, ChainLink, Checkpoint, CheckpointKind};
use vault_core::ids::OrganizationId;
use vault_core::{Store, Vault};

use crate::ApiConfig;
use crate::auth::authenticate;
use crate::error::ApiError;
use crate::usage::log_request;

/// The installation's checkpoint key, as the API publishes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckpointKeyInfo {
    /// The key's id, as each checkpoint names it.
    pub key_id: String,
    /// The raw Ed25519 public key, in standard base64.
    pub public_key: String,
}

/// Where an event sits in its chain, as the API shows it (hashes in lower-case hex).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ChainLinkView {
    sequence: u64,
    digest: String,
    previous_hash: String,
    hash: String,
}

impl ChainLinkView {
    pub(crate) fn new(link: &ChainLink) -> Self {
        Self {
            sequence: link.seq,
            digest: hex::encode(link.digest),
            previous_hash: hex::encode(link.previous),
            hash: hex::encode(link.hash),
        }
    }
}

/// A signed checkpoint as the API shows it, and as a copy kept outside reads back.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CheckpointDocument {
    /// The organization whose chain it is (`null`: the installation's own chain).
    pub organization_id: Option<OrganizationId>,
    /// The number of the event checkpointed.
    pub sequence: u64,
    /// That event's hash, in lower-case hex.
    pub hash: String,
    /// When it was signed.
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// `periodic` or `retention`.
    pub kind: String,
    /// The signing key's id.
    pub key_id: String,
    /// The Ed25519 signature, in standard base64.
    pub signature: String,
}

impl CheckpointDocument {
    /// The document of `checkpoint`.
    #[must_use]
    pub fn new(checkpoint: &Checkpoint) -> Self {
        Self {
            organization_id: checkpoint.chain.organization(),
            sequence: checkpoint.seq,
            hash: hex::encode(checkpoint.hash),
            at: checkpoint.at,
            kind: checkpoint.kind.as_str().to_owned(),
            key_id: checkpoint.key_id.clone(),
            signature: STANDARD.encode(&checkpoint.signature),
        }
    }

    /// The checkpoint it describes.
    ///
    /// # Errors
    /// Which field is malformed.
    pub fn checkpoint(&self) -> Result<Checkpoint, String> {
        let hash = hex::decode(&self.hash)
            .ok()
            .and_then(|bytes| <[u8; 32]>::try_from(bytes).ok())
            .ok_or("hash: must be 64 hex digits")?;
        let kind =
            CheckpointKind::parse(&self.kind).ok_or("kind: must be periodic or retention")?;
        let signature = STANDARD
            .decode(&self.signature)
            .map_err(|_| "signature: must be base64")?;
        Ok(Checkpoint {
            chain: AuditChain::of(self.organization_id),
            seq: self.sequence,
            hash,
            at: self.at,
            kind,
            key_id: self.key_id.clone(),
            signature,
        })
    }
}

/// A page of checkpoints, newest first, with the key that checks them.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CheckpointPage {
    /// Always `Ed25519`.
    algorithm: &'static str,
    key_id: Option<String>,
    public_key: Option<String>,
    items: Vec<CheckpointDocument>,
    next_cursor: Option<String>,
}

#[utoipa::path(
    get,
    path = "/audit-events/checkpoints",
    operation_id = "listAuditCheckpoints",
    tag = "usage",
    summary = "List audit checkpoints",
    description = "The signed checkpoints of the organization's audit chain, newest first, \
        with the Ed25519 public key that checks them. Keep copies outside the vault: \
        `vault-server audit verify --from-checkpoint` proves against one that no event \
        was removed since. Needs `audit:read`.",
    params(
        ("limit" = Option<u32>, Query, minimum = 1, maximum = 100, description = "Page size (default 50)"),
        ("cursor" = Option<String>, Query, description = "`nextCursor` of the previous page"),
    ),
    responses(
        (status = 200, description = "A page", body = crate::openapi::AuditCheckpointList),
        (status = 400, response = crate::openapi::ProblemResponse),
        (status = 422, response = crate::openapi::ProblemResponse),
    )
)]
pub(crate) async fn checkpoints<S: Store>(
    req: HttpRequest,
    query: Query<BTreeMap<String, String>>,
    vault: Data<Vault<S>>,
    config: Data<ApiConfig>,
) -> Result<HttpResponse, ApiError> {
    let who = authenticate(&req, &vault).await?;
    let request = log_request(query, &["cursor"])?;
    let page = vault
        .list_audit_checkpoints(&who, request.limit, request.cursor.as_deref())
        .await?;
    let key = config.checkpoint_key.as_ref();
    Ok(HttpResponse::Ok().json(CheckpointPage {
        algorithm: "Ed25519",
        key_id: key.map(|k| k.key_id.clone()),
        public_key: key.map(|k| k.public_key.clone()),
        items: page.items.iter().map(CheckpointDocument::new).collect(),
        next_cursor: page.next_cursor,
    }))
}

/// Events past the last checkpoint that one look at the chain verifies, at most: the
/// server checkpoints every few minutes, so more is rare, and a look stays quick.
const STATUS_WALK_LIMIT: u64 = 10_000;

/// The state of the organization's chain, as `GET /audit-events/chain` shows it.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ChainStatus {
    /// `intact`, `broken`, or `empty` (no event yet).
    status: &'static str,
    /// The chain's last event.
    head: Option<ChainPoint>,
    /// The last signed checkpoint, its signature checked.
    last_checkpoint: Option<CheckpointDocument>,
    /// The last number verified: the head, unless more than 10,000 events followed the
    /// checkpoint (the rest are verified at the next checkpoint).
    verified_through: u64,
    /// The first break found, when the chain is broken.
    #[serde(rename = "break")]
    broken: Option<ChainBreakView>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ChainPoint {
    sequence: u64,
    hash: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ChainBreakView {
    sequence: u64,
    event_id: Option<uuid::Uuid>,
    /// What is wrong there, in words.
    detail: String,
}

#[utoipa::path(
    get,
    path = "/audit-events/chain",
    operation_id = "getAuditChainStatus",
    tag = "usage",
    summary = "Check the audit chain",
    description = "The state of the organization's audit chain: its head, its last signed \
        checkpoint (signature checked), and whether the events since that checkpoint \
        verify (each links to the one before and matches its digest). For the whole \
        chain from its start, against checkpoints kept outside, run `vault-server audit \
        verify`. Needs `audit:read`.",
    responses(
        (status = 200, description = "The chain's state", body = crate::openapi::AuditChainStatus),
    )
)]
pub(crate) async fn chain_status<S: Store>(
    req: HttpRequest,
    vault: Data<Vault<S>>,
    config: Data<ApiConfig>,
) -> Result<HttpResponse, ApiError> {
    let who = authenticate(&req, &vault).await?;
    let Some(head) = vault.audit_chain_head(&who).await? else {
        return Ok(HttpResponse::Ok().json(ChainStatus {
            status: "empty",
            head: None,
            last_checkpoint: None,
            verified_through: 0,
            broken: None,
        }));
    };
    let key = config
        .checkpoint_key
        .as_ref()
        .and_then(|k| vault_audit::CheckpointKey::from_base64(&k.public_key))
        // An embedder that configured no checkpoint key cannot vouch for the chain.
        .ok_or_else(|| {
            vault_core::VaultError::Store(vault_core::store::StoreError::Backend(
                "this server has no audit checkpoint key".into(),
            ))
        })?;
    let recent = vault_audit::verify_recent(vault.store(), &key, &head, Some(STATUS_WALK_LIMIT))
        .await
        .map_err(vault_core::VaultError::from)?;
    Ok(HttpResponse::Ok().json(ChainStatus {
        status: if recent.broken.is_some() {
            "broken"
        } else {
            "intact"
        },
        head: Some(ChainPoint {
            sequence: head.seq,
            hash: hex::encode(head.hash),
        }),
        last_checkpoint: recent.checkpoint.as_ref().map(CheckpointDocument::new),
        verified_through: if recent.broken.is_some() {
            0
        } else {
            recent.verified.0
        },
        broken: recent.broken.map(|b| ChainBreakView {
            sequence: b.seq,
            event_id: b.event,
            detail: b.to_string(),
        }),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_checkpoint_reads_back_from_its_document() {
        let checkpoint = Checkpoint {
            chain: AuditChain::Organization(OrganizationId::new()),
            seq: 9,
            hash: [0xab; 32],
            at: vault_core::clock::truncate_to_micros(OffsetDateTime::now_utc()),
            kind: CheckpointKind::Retention,
            key_id: "ed25519:0011".to_owned(),
            signature: vec![1, 2, 3],
        };
        let text = serde_json::to_string(&CheckpointDocument::new(&checkpoint)).expect("json");
        let document: CheckpointDocument = serde_json::from_str(&text).expect("parsed");
        assert_eq!(document.checkpoint(), Ok(checkpoint));
        let mut bad = document;
        bad.hash = "zz".repeat(32);
        assert!(bad.checkpoint().is_err());
    }
}
