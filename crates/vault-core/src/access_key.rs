//! Access keys to the vault's own API: scopes, the token format, and what is stored.
//!
//! A token looks like `vlt_<40 base62 chars><6 base62 chars of CRC-32>`: the prefix lets
//! secret scanners recognise a leaked key, and the checksum lets them (and us) reject
//! a mistyped or random string without a database lookup. Only an HMAC of the token is
//! stored; the token itself is shown once, at creation.

use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::credential::check_text;
use crate::ids::{AccessKeyId, OrganizationId};
use crate::validation::FieldError;

/// What an access key may do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Scope {
    /// List and read credentials (never their secret values).
    #[serde(rename = "credentials:read")]
    CredentialsRead,
    /// Create, update and delete credentials.
    #[serde(rename = "credentials:write")]
    CredentialsWrite,
    /// Create, list and revoke access keys.
    #[serde(rename = "access-keys:manage")]
    AccessKeysManage,
    /// Apply credentials to requests (the proxy, the apply use case) and read the request
    /// log. Separate from `credentials:read`: a dashboard can list credentials without
    /// being able to call upstreams with them.
    #[serde(rename = "credentials:use")]
    CredentialsUse,
    /// Read the audit log.
    #[serde(rename = "audit:read")]
    AuditRead,
    /// See which encryption keys protect how many of the organization's sealed rows
    /// (installation-wide figures are for the operator's `vault-server keys status`).
    #[serde(rename = "keys:read")]
    KeysRead,
    /// Add a destination to a credential (an `allowedHosts` entry, a token endpoint, an
    /// audience) without re-entering its secret values. Changing where a secret may go
    /// is as sensitive as reading it, so `credentials:write` alone cannot.
    #[serde(rename = "credentials:route")]
    CredentialsRoute,
    /// Use every credential of the organization without a grant. Without it, a key with
    /// `credentials:use` uses only the credentials granted to it (see [`crate::grants`]).
    #[serde(rename = "credentials:use-all")]
    CredentialsUseAll,
    /// Create, change and delete webhook subscriptions, and read and replay their
    /// deliveries. A subscription sends names and dates of credentials outside the vault,
    /// so it is a scope of its own.
    #[serde(rename = "webhooks:manage")]
    WebhooksManage,
    /// Export the organization's credentials, secret values included, in a bundle sealed
    /// to a passphrase or a public key (see [`crate::bundle`]). Whoever holds it takes
    /// every secret out of the vault at once, so no key has it unless asked for by name:
    /// not the bootstrap admin, not a key made with every scope its creator holds.
    #[serde(rename = "credentials:export")]
    CredentialsExport,
}

impl Scope {
    /// The scopes of an organization's first key: every one but `credentials:export`,
    /// which an operator issues by name (`vault-server access-keys create`).
    pub const DEFAULT: [Self; 9] = [
        Self::CredentialsRead,
        Self::CredentialsWrite,
        Self::AccessKeysManage,
        Self::CredentialsUse,
        Self::AuditRead,
        Self::KeysRead,
        Self::CredentialsRoute,
        Self::CredentialsUseAll,
        Self::WebhooksManage,
    ];

    /// Every scope: the default ones and `credentials:export`.
    pub const ALL: [Self; 10] = {
        let mut all = [Self::CredentialsExport; 10];
        let mut i = 0;
        while i < Self::DEFAULT.len() {
            all[i] = Self::DEFAULT[i];
            i += 1;
        }
        all
    };

    /// The wire name.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::CredentialsRead => "credentials:read",
            Self::CredentialsWrite => "credentials:write",
            Self::AccessKeysManage => "access-keys:manage",
            Self::CredentialsUse => "credentials:use",
            Self::AuditRead => "audit:read",
            Self::KeysRead => "keys:read",
            Self::CredentialsRoute => "credentials:route",
            Self::CredentialsUseAll => "credentials:use-all",
            Self::WebhooksManage => "webhooks:manage",
            Self::CredentialsExport => "credentials:export",
        }
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Scope {
    type Err = FieldError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL.into_iter().find(|x| x.as_str() == s).ok_or_else(|| {
            FieldError::new(
                "scopes",
                "each scope must be one of credentials:read, credentials:write, credentials:route, credentials:use, credentials:use-all, credentials:export, access-keys:manage, audit:read, keys:read, webhooks:manage",
            )
        })
    }
}

/// The prefix of every access key.
pub const TOKEN_PREFIX: &str = "vlt_";
const BODY_CHARS: usize = 40;
const CHECKSUM_CHARS: usize = 6;
const TOKEN_LEN: usize = TOKEN_PREFIX.len() + BODY_CHARS + CHECKSUM_CHARS;
const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// A presented or freshly generated access-key token.
pub struct AccessToken(SecretString);

impl AccessToken {
    /// Builds a token from random bytes: 40 base62 characters (about 238 bits), drawn by
    /// rejection sampling so every character is equally likely, then the checksum.
    /// Returns `None` if `random` ran out before 40 characters were drawn (the caller
    /// passes enough bytes that this practically never happens, and retries if it does).
    #[must_use]
    pub fn from_random(random: &[u8]) -> Option<Self> {
        let mut token = String::with_capacity(TOKEN_LEN);
        token.push_str(TOKEN_PREFIX);
        // 248 = 4 * 62: bytes at or above it would bias the first characters.
        for &b in random.iter().filter(|&&b| b < 248).take(BODY_CHARS) {
            token.push(char::from(BASE62[usize::from(b % 62)]));
        }
        if token.len() != TOKEN_PREFIX.len() + BODY_CHARS {
            return None;
        }
        let checksum = checksum(&token);
        token.push_str(&checksum);
        Some(Self(SecretString::from(token)))
    }

    /// Checks a presented token's shape and checksum.
    ///
    /// # Errors
    /// When the prefix, length, alphabet or checksum is wrong.
    pub fn parse(presented: &str) -> Result<Self, MalformedToken> {
        if presented.len() != TOKEN_LEN
            || !presented.starts_with(TOKEN_PREFIX)
            || !presented[TOKEN_PREFIX.len()..]
                .bytes()
                .all(|b| b.is_ascii_alphanumeric())
        {
            return Err(MalformedToken);
        }
        let (body, sum) = presented.split_at(TOKEN_LEN - CHECKSUM_CHARS);
        if checksum(body) != sum {
            return Err(MalformedToken);
        }
        Ok(Self(SecretString::from(presented.to_owned())))
    }

    /// The token text, for showing once at creation and for hashing.
    #[must_use]
    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }
}

impl fmt::Debug for AccessToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AccessToken(vlt_[REDACTED])")
    }
}

/// A string that is not an access key of ours.
#[derive(Debug, thiserror::Error)]
#[error("not a well-formed vault access key")]
pub struct MalformedToken;

fn checksum(body: &str) -> String {
    let mut n = crc32fast::hash(body.as_bytes());
    let mut out = [b'0'; CHECKSUM_CHARS];
    for slot in out.iter_mut().rev() {
        *slot = BASE62[(n % 62) as usize];
        n /= 62;
    }
    out.iter().map(|&b| char::from(b)).collect()
}

/// HMAC-SHA-256 of a token under the installation's access-key hash key.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct TokenHash(pub [u8; 32]);

impl fmt::Debug for TokenHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // A hash is not the key, but printing it would still help an offline guesser.
        f.write_str("TokenHash([REDACTED])")
    }
}

/// HMAC-SHA-256, under the access-key hash key, of what a stored key may do and where it
/// belongs (see [`binding_message`]). Checked on every authentication from the store, so a
/// row moved to another organization, or whose scopes or expiry were edited in the
/// database, no longer authenticates.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct KeyBinding(pub [u8; 32]);

impl fmt::Debug for KeyBinding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("KeyBinding([REDACTED])")
    }
}

/// The bytes a [`KeyBinding`] authenticates: a version tag, then the organization, the
/// key id, its creator, its expiry (to the microsecond, as stores keep it), its scopes and
/// its token hash, each fixed-width or length-prefixed so no two keys share an encoding.
#[must_use]
pub fn binding_message(key: &AccessKey, hash: &TokenHash) -> Vec<u8> {
    let mut out = Vec::with_capacity(128);
    out.extend_from_slice(b"vault access-key binding v1\0");
    out.extend_from_slice(key.organization_id.as_uuid().as_bytes());
    out.extend_from_slice(key.id.as_uuid().as_bytes());
    match key.created_by {
        Some(creator) => {
            out.push(1);
            out.extend_from_slice(creator.as_uuid().as_bytes());
        }
        None => out.push(0),
    }
    match key.expires_at {
        Some(at) => {
            out.push(1);
            let micros = at.unix_timestamp_nanos().div_euclid(1000);
            out.extend_from_slice(&micros.to_be_bytes());
        }
        None => out.push(0),
    }
    // At most a handful of scopes, each a short fixed name: the lengths fit in a byte.
    out.push(u8::try_from(key.scopes.len()).unwrap_or(u8::MAX));
    for scope in &key.scopes {
        let name = scope.as_str().as_bytes();
        out.push(u8::try_from(name.len()).unwrap_or(u8::MAX));
        out.extend_from_slice(name);
    }
    out.extend_from_slice(&hash.0);
    out
}

/// A validated access-key name.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct AccessKeyName(String);

impl AccessKeyName {
    /// Validates a name: 1 to 200 characters, no control characters.
    ///
    /// # Errors
    /// When the name is empty, too long, or has control characters.
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let name = raw.trim();
        check_text("name", name, 1, 200, false)?;
        Ok(Self(name.to_owned()))
    }

    /// The name.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An access key as listed: never the token, never its hash.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccessKey {
    /// Id.
    pub id: AccessKeyId,
    /// Owning organization.
    pub organization_id: OrganizationId,
    /// Display name.
    pub name: AccessKeyName,
    /// What the key may do.
    pub scopes: BTreeSet<Scope>,
    /// The key that created this one (none for a bootstrap key).
    pub created_by: Option<AccessKeyId>,
    /// Creation time.
    pub created_at: OffsetDateTime,
    /// When the key stops working, if ever.
    pub expires_at: Option<OffsetDateTime>,
    /// Last successful authentication, to the minute.
    pub last_used_at: Option<OffsetDateTime>,
    /// When the key was revoked.
    pub revoked_at: Option<OffsetDateTime>,
}

impl AccessKey {
    /// True when the key may authenticate at `now`.
    #[must_use]
    pub fn is_active(&self, now: OffsetDateTime) -> bool {
        self.revoked_at.is_none() && self.expires_at.is_none_or(|at| at > now)
    }
}

/// An access key with the hash of its token, as stores keep it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredAccessKey {
    /// The key.
    pub key: AccessKey,
    /// HMAC of the token.
    pub hash: TokenHash,
    /// Binds the key to its organization, scopes and expiry. `None` only for a row written
    /// before bindings existed, until the vault binds it when it opens the store.
    pub binding: Option<KeyBinding>,
}

/// A key just created, with its token: the only time the token exists outside the caller.
#[derive(Debug)]
pub struct IssuedAccessKey {
    /// The key.
    pub key: AccessKey,
    /// The token, to show once.
    pub token: AccessToken,
}

/// Who is acting: the organization and the scopes of the access key or identity-provider
/// token that authenticated.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Principal {
    /// The organization every operation is scoped to.
    pub organization_id: OrganizationId,
    /// The access key, when one authenticated (none for an embedder acting directly, or
    /// an identity-provider token).
    pub access_key_id: Option<AccessKeyId>,
    /// The identity provider's subject, when one of its tokens authenticated (validated
    /// by [`VerifiedIdentity`](crate::identity::VerifiedIdentity)). Audit events and
    /// request-log entries record it as the actor.
    pub subject: Option<String>,
    /// Granted scopes.
    pub scopes: BTreeSet<Scope>,
    /// The groups or roles the identity-provider token names in its configured claim,
    /// which grants may be made to (empty for access keys).
    pub groups: Vec<String>,
    /// When the principal stops being valid: the access key's expiry, or the
    /// identity-provider token's `exp`. Keys it creates never outlive it.
    pub expires_at: Option<OffsetDateTime>,
}

impl Principal {
    /// An embedder acting on an organization's behalf with every scope.
    #[must_use]
    pub fn system(organization_id: OrganizationId) -> Self {
        Self {
            organization_id,
            access_key_id: None,
            subject: None,
            scopes: Scope::ALL.into_iter().collect(),
            groups: Vec::new(),
            expires_at: None,
        }
    }

    /// True if the principal holds `scope`.
    #[must_use]
    pub fn has(&self, scope: Scope) -> bool {
        self.scopes.contains(&scope)
    }
}

/// An organization: the unit everything is scoped to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Organization {
    /// Id.
    pub id: OrganizationId,
    /// Display name.
    pub name: String,
    /// Creation time.
    pub created_at: OffsetDateTime,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn random(seed: u8) -> Vec<u8> {
        (0..96u8)
            .map(|i| i.wrapping_mul(37).wrapping_add(seed))
            .collect()
    }

    #[test]
    fn generated_tokens_parse_and_have_the_prefix() {
        let token = AccessToken::from_random(&random(1)).expect("enough random bytes");
        assert!(token.expose().starts_with("vlt_"));
        assert_eq!(token.expose().len(), TOKEN_LEN);
        assert!(AccessToken::parse(token.expose()).is_ok());
    }

    #[test]
    fn a_changed_character_fails_the_checksum() {
        let token = AccessToken::from_random(&random(7)).expect("enough random bytes");
        let text = token.expose().to_owned();
        for i in TOKEN_PREFIX.len()..text.len() {
            let mut bytes = text.clone().into_bytes();
            bytes[i] = if bytes[i] == b'a' { b'b' } else { b'a' };
            let altered = String::from_utf8(bytes).expect("ascii");
            assert!(
                AccessToken::parse(&altered).is_err(),
                "position {i} accepted"
            );
        }
    }

    #[test]
    fn wrong_prefix_length_or_alphabet_is_rejected() {
        for bad in [
            "",
            "vlt_",
            "ghp_abc",
            "vlt_!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!",
        ] {
            assert!(AccessToken::parse(bad).is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn debug_never_shows_the_token() {
        let token = AccessToken::from_random(&random(3)).expect("enough random bytes");
        let shown = format!("{token:?}");
        assert!(!shown.contains(&token.expose()[4..]), "{shown}");
        assert!(!format!("{:?}", TokenHash([0xab; 32])).contains("ab"));
        assert!(!format!("{:?}", KeyBinding([0xab; 32])).contains("ab"));
    }

    #[test]
    fn the_binding_message_changes_with_every_bound_field() {
        let at = OffsetDateTime::from_unix_timestamp(1_800_000_000).expect("a time");
        let key = AccessKey {
            id: AccessKeyId::new(),
            organization_id: OrganizationId::new(),
            name: AccessKeyName::parse("k").expect("a name"),
            scopes: BTreeSet::from([Scope::CredentialsRead]),
            created_by: None,
            created_at: at,
            expires_at: Some(at),
            last_used_at: None,
            revoked_at: None,
        };
        let hash = TokenHash([7; 32]);
        let base = binding_message(&key, &hash);
        let changed = [
            AccessKey {
                organization_id: OrganizationId::new(),
                ..key.clone()
            },
            AccessKey {
                id: AccessKeyId::new(),
                ..key.clone()
            },
            AccessKey {
                created_by: Some(AccessKeyId::new()),
                ..key.clone()
            },
            AccessKey {
                expires_at: None,
                ..key.clone()
            },
            AccessKey {
                expires_at: Some(at + time::Duration::microseconds(1)),
                ..key.clone()
            },
            AccessKey {
                scopes: BTreeSet::from([Scope::CredentialsRead, Scope::CredentialsWrite]),
                ..key.clone()
            },
        ];
        for other in &changed {
            assert_ne!(binding_message(other, &hash), base, "{other:?}");
        }
        assert_ne!(binding_message(&key, &TokenHash([8; 32])), base);
        // What the binding leaves out may change freely: name, use and revocation times.
        let unbound = AccessKey {
            name: AccessKeyName::parse("renamed").expect("a name"),
            last_used_at: Some(at),
            revoked_at: Some(at),
            ..key.clone()
        };
        assert_eq!(binding_message(&unbound, &hash), base);
    }

    #[test]
    fn scopes_round_trip() {
        for scope in Scope::ALL {
            assert_eq!(scope.as_str().parse::<Scope>().expect("known"), scope);
        }
        assert!("admin".parse::<Scope>().is_err());
    }
}
