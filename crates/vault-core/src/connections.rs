//! OAuth2 connections: the tokens an `oauth2` credential with the authorization-code grant
//! obtains when a user connects it, and how replicas share their refresh.
//!
//! One row per connected credential holds the sealed tokens and a *generation*, which
//! every write of new tokens increments by compare-and-set. A refresh is one replica's
//! job at a time: it takes a short *lease* on the current generation (a conditional write,
//! no lock held), calls the token endpoint with no database connection held, and writes
//! the rotated tokens only if the generation and its lease are still what it took. The
//! rotated refresh token is therefore durable before the new access token is used, and a
//! replica that died mid-refresh only delays the next one until its lease lapses.

use std::fmt;

use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::cipher::SealedBlob;
use crate::ids::{AccessKeyId, CredentialId, OrganizationId};

/// Where a credential's connection stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ConnectionStatus {
    /// Never connected: a user must approve it once.
    Pending,
    /// Tokens are held and refreshed.
    Connected,
    /// The provider refused the refresh token (`invalid_grant`): a user must connect it
    /// again. Uses fail fast until then.
    NeedsReconnect,
}

impl ConnectionStatus {
    /// The wire and storage name.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Connected => "connected",
            Self::NeedsReconnect => "needs-reconnect",
        }
    }

    /// The status named `raw`.
    #[must_use]
    pub fn parse(raw: &str) -> Option<Self> {
        [Self::Pending, Self::Connected, Self::NeedsReconnect]
            .into_iter()
            .find(|s| s.as_str() == raw)
    }
}

impl fmt::Display for ConnectionStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One replica's claim on refreshing one generation of a connection, until `until`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Lease {
    /// Random per refresh attempt: only its taker may write the result.
    pub holder: Uuid,
    /// When others may take it over (the holder is presumed dead).
    pub until: OffsetDateTime,
}

/// A credential's connection as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Connection {
    /// The organization.
    pub organization_id: OrganizationId,
    /// The `oauth2` credential.
    pub credential_id: CredentialId,
    /// Connected or needing a reconnect (a pending connection has no row).
    pub status: ConnectionStatus,
    /// Incremented by every write of new tokens; the tokens are sealed bound to it, so an
    /// older blob put back over the row does not open.
    pub generation: i64,
    /// [`ConnectionTokens`], sealed (none once the provider refused them).
    pub sealed: Option<SealedBlob>,
    /// When the access token expires, as the provider said.
    pub access_expires_at: Option<OffsetDateTime>,
    /// A refresh in flight.
    pub lease: Option<Lease>,
    /// Why it needs a reconnect: the provider's OAuth2 error code (`invalid_grant`).
    pub reason: Option<String>,
    /// When a user last connected it.
    pub connected_at: OffsetDateTime,
    /// When the row last changed.
    pub updated_at: OffsetDateTime,
}

impl Connection {
    /// This connection as the next generation needing a reconnect for `reason`, its
    /// tokens dropped and its lease released.
    #[must_use]
    pub fn needing_reconnect(&self, reason: &str, now: OffsetDateTime) -> Self {
        Self {
            status: ConnectionStatus::NeedsReconnect,
            generation: self.generation + 1,
            sealed: None,
            access_expires_at: None,
            lease: None,
            reason: Some(reason.to_owned()),
            updated_at: now,
            ..self.clone()
        }
    }
}

/// What a write of a connection expects to replace.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Expected {
    /// The generation the row must be at; `None`: no row may exist yet.
    pub generation: Option<i64>,
    /// The lease the row must hold (a refresh's result); `None`: any.
    pub holder: Option<Uuid>,
}

/// The tokens of a connection, as sealed. Never serialized except into a sealed payload.
pub struct ConnectionTokens {
    /// The access token.
    pub access_token: SecretString,
    /// The refresh token, when the provider issued one.
    pub refresh_token: Option<SecretString>,
}

impl fmt::Debug for ConnectionTokens {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConnectionTokens")
            .field("refresh_token", &self.refresh_token.is_some())
            .finish_non_exhaustive()
    }
}

#[derive(Serialize, Deserialize)]
struct TokensPayload<'a> {
    #[serde(borrow)]
    access: std::borrow::Cow<'a, str>,
    #[serde(borrow, default, skip_serializing_if = "Option::is_none")]
    refresh: Option<std::borrow::Cow<'a, str>>,
}

impl ConnectionTokens {
    /// The payload to seal.
    #[must_use]
    pub fn to_plaintext(&self) -> crate::cipher::Plaintext {
        let payload = TokensPayload {
            access: self.access_token.expose_secret().into(),
            refresh: self
                .refresh_token
                .as_ref()
                .map(|r| r.expose_secret().into()),
        };
        zeroize::Zeroizing::new(serde_json::to_vec(&payload).unwrap_or_default())
    }

    /// The tokens an opened payload holds, if it is one.
    #[must_use]
    pub fn from_plaintext(plaintext: &[u8]) -> Option<Self> {
        let payload: TokensPayload<'_> = serde_json::from_slice(plaintext).ok()?;
        Some(Self {
            access_token: SecretString::from(payload.access.into_owned()),
            refresh_token: payload.refresh.map(|r| SecretString::from(r.into_owned())),
        })
    }
}

/// The keyed hash a connect state is stored under: the state itself, which only the
/// user's browser and the provider see, is never stored.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct StateHash(pub [u8; 32]);

impl fmt::Debug for StateHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("StateHash(..)")
    }
}

/// A connect flow in progress: single use, bound to the credential and the principal
/// that started it, and short-lived.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConnectState {
    /// The keyed hash of the `state` parameter.
    pub hash: StateHash,
    /// The organization.
    pub organization_id: OrganizationId,
    /// The credential being connected.
    pub credential_id: CredentialId,
    /// The access key that started it, if one did.
    pub access_key_id: Option<AccessKeyId>,
    /// The identity-provider subject that started it, if one did.
    pub subject: Option<String>,
    /// The redirect URI of the authorization request, which the code exchange repeats.
    pub redirect_uri: String,
    /// When it stops being accepted.
    pub expires_at: OffsetDateTime,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip_and_never_show_in_debug() {
        let tokens = ConnectionTokens {
            access_token: SecretString::from("acc-canary"),
            refresh_token: Some(SecretString::from("ref-canary")),
        };
        let plaintext = tokens.to_plaintext();
        let back = ConnectionTokens::from_plaintext(&plaintext).expect("tokens");
        assert_eq!(back.access_token.expose_secret(), "acc-canary");
        assert_eq!(
            back.refresh_token.as_ref().map(ExposeSecret::expose_secret),
            Some("ref-canary")
        );
        let shown = format!("{back:?} {:?}", StateHash([7; 32]));
        assert!(!shown.contains("canary") && !shown.contains('7'), "{shown}");
    }

    #[test]
    fn statuses_round_trip() {
        for status in [
            ConnectionStatus::Pending,
            ConnectionStatus::Connected,
            ConnectionStatus::NeedsReconnect,
        ] {
            assert_eq!(ConnectionStatus::parse(status.as_str()), Some(status));
        }
    }
}
