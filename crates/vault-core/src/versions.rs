//! Credential versions (the history of a credential's secret values) and the sealed rows a
//! key rotation re-wraps.

use std::collections::BTreeMap;

use time::OffsetDateTime;

use crate::cipher::{KeyId, SealedBlob};
use crate::ids::{AccessKeyId, CredentialId, OrganizationId};

/// One value a credential's secret fields have had. Every change of the secret values
/// (create, an update with new secrets, a restore) adds one; the newest is the current one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SecretVersion {
    /// The credential.
    pub credential_id: CredentialId,
    /// Its organization.
    pub organization_id: OrganizationId,
    /// 1, 2, 3, ... per credential.
    pub number: i64,
    /// The secret fields, sealed with [`Aad::credential_version`](crate::cipher::Aad::credential_version).
    pub sealed: SealedBlob,
    /// Non-reversible hints of the values, as shown for the credential.
    pub secret_hints: BTreeMap<String, String>,
    /// When this version was made.
    pub created_at: OffsetDateTime,
    /// The access key that made it (`None`: the vault itself).
    pub created_by: Option<AccessKeyId>,
    /// The version this one restored, when it was made by a restore.
    pub restored_from: Option<i64>,
}

/// A version without its sealed values, as lists show it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VersionInfo {
    /// 1, 2, 3, ... per credential.
    pub number: i64,
    /// Non-reversible hints of the values.
    pub secret_hints: BTreeMap<String, String>,
    /// When this version was made.
    pub created_at: OffsetDateTime,
    /// The access key that made it.
    pub created_by: Option<AccessKeyId>,
    /// The version this one restored, if any.
    pub restored_from: Option<i64>,
}

impl From<&SecretVersion> for VersionInfo {
    fn from(v: &SecretVersion) -> Self {
        Self {
            number: v.number,
            secret_hints: v.secret_hints.clone(),
            created_at: v.created_at,
            created_by: v.created_by,
            restored_from: v.restored_from,
        }
    }
}

/// The kinds of sealed rows a store keeps.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SealedKind {
    /// Installation-wide values (the key-check value, the access-key hash key).
    Meta,
    /// A credential's current secret fields.
    Credential,
    /// A credential version's secret fields.
    Version,
    /// An OAuth2 connection's tokens.
    Connection,
    /// A webhook subscription's signing secret.
    Webhook,
}

impl SealedKind {
    /// Every kind, in the order a rewrap visits them.
    pub const ALL: [Self; 5] = [
        Self::Meta,
        Self::Credential,
        Self::Version,
        Self::Connection,
        Self::Webhook,
    ];
}

/// Which sealed row: enough to rebuild its associated data and to find it again.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SealedRef {
    /// A `vault_meta` value, by name.
    Meta(String),
    /// A credential's current secrets.
    Credential {
        /// Its organization.
        organization_id: OrganizationId,
        /// The credential.
        id: CredentialId,
        /// The credential's version, which its current secrets are bound to.
        version: i64,
    },
    /// A credential version's secrets.
    Version {
        /// Its organization.
        organization_id: OrganizationId,
        /// The credential.
        credential_id: CredentialId,
        /// The version number.
        number: i64,
    },
    /// An OAuth2 connection's tokens.
    Connection {
        /// Its organization.
        organization_id: OrganizationId,
        /// The `oauth2` credential.
        credential_id: CredentialId,
        /// The connection's generation, which its tokens are bound to.
        generation: i64,
    },
    /// A webhook subscription's signing secret.
    Webhook {
        /// Its organization.
        organization_id: OrganizationId,
        /// The subscription.
        id: crate::ids::WebhookId,
    },
}

impl SealedRef {
    /// The kind of row.
    #[must_use]
    pub const fn kind(&self) -> SealedKind {
        match self {
            Self::Meta(_) => SealedKind::Meta,
            Self::Credential { .. } => SealedKind::Credential,
            Self::Version { .. } => SealedKind::Version,
            Self::Connection { .. } => SealedKind::Connection,
            Self::Webhook { .. } => SealedKind::Webhook,
        }
    }
}

/// A sealed row, as a rewrap reads it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SealedRow {
    /// Which row.
    pub reference: SealedRef,
    /// Its sealed value now.
    pub sealed: SealedBlob,
}

/// How many sealed rows of each kind one key-encryption key still protects.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyUsage {
    /// The key.
    pub key_id: KeyId,
    /// Credentials (current secrets).
    pub credentials: u64,
    /// Credential versions.
    pub versions: u64,
    /// Installation-wide values.
    pub meta: u64,
    /// OAuth2 connections' tokens.
    pub connections: u64,
    /// Webhook subscriptions' signing secrets.
    pub webhooks: u64,
}

impl KeyUsage {
    /// A key that protects nothing (yet).
    #[must_use]
    pub const fn none(key_id: KeyId) -> Self {
        Self {
            key_id,
            credentials: 0,
            versions: 0,
            meta: 0,
            connections: 0,
            webhooks: 0,
        }
    }

    /// Rows of every kind.
    #[must_use]
    pub const fn total(&self) -> u64 {
        self.credentials + self.versions + self.meta + self.connections + self.webhooks
    }
}
