//! The identity-provider port: verifying a bearer token issued by an outside identity
//! provider (a signed JWT from an OIDC provider, say) into the organization, subject and
//! scopes it speaks for. Verifying a signature is CPU-bound, so the port is synchronous,
//! like the [`Cipher`](crate::cipher::Cipher) and the [`JwtSigner`](crate::jwt::JwtSigner).
//!
//! The vault asks a verifier only about tokens that are not access keys (see
//! [`Vault::authenticate`](crate::vault::Vault::authenticate)), and checks itself that the
//! organization exists.

use std::collections::BTreeSet;
use std::fmt;

use time::OffsetDateTime;

use crate::access_key::Scope;
use crate::ids::OrganizationId;
use crate::store::BoxError;

/// Longest subject accepted, in characters. OIDC caps `sub` at 255 ASCII characters.
pub const MAX_SUBJECT_CHARS: usize = 255;

/// Why a token does not authenticate. Each variant has a stable [`code`](Self::code), the
/// reason audit events record. Messages are fixed words or configured claim names: they
/// never quote the token or any value taken from it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum IdentityError {
    /// Not a compact JWS this verifier can read (segments, base64url, JSON, header).
    #[error("the token is not a well-formed JWT")]
    Malformed,
    /// The header's `alg` is `none`, an algorithm the verifier does not accept, or not the
    /// algorithm of the key the token names.
    #[error("the token's algorithm is not allowed for its key")]
    DisallowedAlgorithm,
    /// No configured key fits the token (its `kid` names none, or none has its algorithm).
    #[error("no configured key matches the token")]
    UnknownKey,
    /// The signature does not verify under the key(s) it was checked with.
    #[error("the token's signature does not verify")]
    BadSignature,
    /// `exp` has passed (beyond the leeway).
    #[error("the token has expired")]
    Expired,
    /// `nbf` is still ahead (beyond the leeway).
    #[error("the token is not valid yet")]
    NotYetValid,
    /// `iss` is missing or not the configured issuer.
    #[error("the token was not issued by the configured issuer")]
    WrongIssuer,
    /// `aud` is missing or does not name the configured audience.
    #[error("the token is not meant for this audience")]
    WrongAudience,
    /// A required claim is absent (the configured claim name, never its value).
    #[error("the token lacks the claim {0}")]
    MissingClaim(String),
    /// A claim has the wrong type or an unacceptable value (the claim name only).
    #[error("the token's claim {0} is not valid")]
    InvalidClaim(String),
    /// The verifier itself failed (a key source that cannot be read, say): not the
    /// token's fault.
    #[error("the identity verifier failed")]
    Backend(#[source] BoxError),
}

impl IdentityError {
    /// A stable machine code, as audit events record it.
    #[must_use]
    pub const fn code(&self) -> &'static str {
        match self {
            Self::Malformed => "malformed-token",
            Self::DisallowedAlgorithm => "disallowed-algorithm",
            Self::UnknownKey => "unknown-key",
            Self::BadSignature => "bad-signature",
            Self::Expired => "expired-token",
            Self::NotYetValid => "token-not-yet-valid",
            Self::WrongIssuer => "wrong-issuer",
            Self::WrongAudience => "wrong-audience",
            Self::MissingClaim(_) => "missing-claim",
            Self::InvalidClaim(_) => "invalid-claim",
            Self::Backend(_) => "identity-verifier-failed",
        }
    }
}

/// A refused token, with what its *verified* signature vouches for, when it got that far:
/// an expired token of a known organization is audited in that organization's log.
#[derive(Debug)]
pub struct IdentityRefusal {
    /// Why.
    pub error: IdentityError,
    /// The token's organization, only when its signature verified.
    pub organization_id: Option<OrganizationId>,
    /// The token's subject (validated as in [`VerifiedIdentity`]), only when its
    /// signature verified.
    pub subject: Option<String>,
}

impl IdentityRefusal {
    /// The refusal of a token whose signature did not verify (or was not checked yet):
    /// nothing in it can be trusted, so nothing of it is kept.
    #[must_use]
    pub const fn unsigned(error: IdentityError) -> Self {
        Self {
            error,
            organization_id: None,
            subject: None,
        }
    }
}

impl From<IdentityError> for IdentityRefusal {
    fn from(error: IdentityError) -> Self {
        Self::unsigned(error)
    }
}

impl fmt::Display for IdentityRefusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.error, f)
    }
}

impl std::error::Error for IdentityRefusal {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.error)
    }
}

/// What a verified token speaks for. Built only through [`VerifiedIdentity::new`], which
/// validates the subject, so the rest of the vault never sees an unchecked one.
#[derive(Clone, PartialEq, Eq)]
pub struct VerifiedIdentity {
    organization_id: OrganizationId,
    subject: String,
    scopes: BTreeSet<Scope>,
    groups: Vec<String>,
    expires_at: Option<OffsetDateTime>,
}

impl VerifiedIdentity {
    /// A verified identity.
    ///
    /// # Errors
    /// [`IdentityError::InvalidClaim`] (naming `subject_claim`) when the subject is empty,
    /// longer than [`MAX_SUBJECT_CHARS`], has surrounding white space, or holds control
    /// or invisible formatting characters (which could forge or hide text in logs).
    pub fn new(
        organization_id: OrganizationId,
        subject: &str,
        scopes: BTreeSet<Scope>,
        subject_claim: &str,
    ) -> Result<Self, IdentityError> {
        if !is_valid_subject(subject) {
            return Err(IdentityError::InvalidClaim(subject_claim.to_owned()));
        }
        Ok(Self {
            organization_id,
            subject: subject.to_owned(),
            scopes,
            groups: Vec::new(),
            expires_at: None,
        })
    }

    /// The groups or roles the token names in the configured claim: grants made to
    /// `group:<name>` apply to it. Names a grant could not name (empty, too long, with
    /// control characters) are dropped.
    #[must_use]
    pub fn with_groups(mut self, groups: impl IntoIterator<Item = String>) -> Self {
        self.groups = groups
            .into_iter()
            .filter(|g| crate::grants::is_valid_grantee_name(g))
            .collect();
        self
    }

    /// The groups, as [`Self::with_groups`] set them.
    #[must_use]
    pub fn groups(&self) -> &[String] {
        &self.groups
    }

    /// The token's expiry (its `exp`): access keys this identity creates never outlive it.
    #[must_use]
    pub const fn with_expiry(mut self, at: OffsetDateTime) -> Self {
        self.expires_at = Some(at);
        self
    }

    /// When the token stops being valid, as [`Self::with_expiry`] set it.
    #[must_use]
    pub const fn expires_at(&self) -> Option<OffsetDateTime> {
        self.expires_at
    }

    /// The organization the token acts in.
    #[must_use]
    pub const fn organization_id(&self) -> OrganizationId {
        self.organization_id
    }

    /// Who the identity provider says is acting.
    #[must_use]
    pub fn subject(&self) -> &str {
        &self.subject
    }

    /// The vault scopes granted (others the token carried are dropped).
    #[must_use]
    pub const fn scopes(&self) -> &BTreeSet<Scope> {
        &self.scopes
    }

    /// The principal this identity acts as.
    #[must_use]
    pub fn into_principal(self) -> crate::access_key::Principal {
        crate::access_key::Principal {
            organization_id: self.organization_id,
            access_key_id: None,
            subject: Some(self.subject),
            scopes: self.scopes,
            groups: self.groups,
            expires_at: self.expires_at,
        }
    }
}

impl fmt::Debug for VerifiedIdentity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Nothing secret here (the token is not kept); shown in full for diagnostics.
        f.debug_struct("VerifiedIdentity")
            .field("organization_id", &self.organization_id)
            .field("subject", &self.subject)
            .field("scopes", &self.scopes)
            .field("groups", &self.groups)
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

/// True for an acceptable subject: 1 to [`MAX_SUBJECT_CHARS`] characters, no surrounding
/// white space, no control characters, no invisible formatting characters (bidirectional
/// overrides, zero-width characters, byte-order marks), which could hide or forge text
/// where the subject is shown.
#[must_use]
pub fn is_valid_subject(subject: &str) -> bool {
    let chars = subject.chars().count();
    let invisible = |c: char| {
        c.is_control()
            || matches!(c, '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2060}'..='\u{206f}' | '\u{feff}')
    };
    (1..=MAX_SUBJECT_CHARS).contains(&chars)
        && subject.trim() == subject
        && !subject.chars().any(invisible)
}

/// Verifies identity-provider tokens.
///
/// # Errors
/// An implementation MUST:
/// - accept a token only if its signature verifies under a configured key, with the key's
///   own algorithm: a token's `alg` header MUST equal the algorithm its key is bound to, so
///   `alg: none` and a token signed with an asymmetric *public* key used as an HMAC secret
///   are refused ([`IdentityError::DisallowedAlgorithm`] or
///   [`IdentityError::BadSignature`]);
/// - refuse a token without `exp`, or whose `exp` is at or before `now` minus its leeway
///   ([`IdentityError::Expired`]), or whose `nbf` (when present) is after `now` plus its
///   leeway ([`IdentityError::NotYetValid`]), judging time by `now` alone;
/// - refuse a token whose issuer or audience is not the configured one
///   ([`IdentityError::WrongIssuer`], [`IdentityError::WrongAudience`]);
/// - build the result with [`VerifiedIdentity::new`], granting only scopes the token
///   carries (never more), and give it the token's `exp` with
///   [`VerifiedIdentity::with_expiry`] (a principal without one may create keys that
///   never expire);
/// - set [`IdentityRefusal::organization_id`] and [`IdentityRefusal::subject`] only from a
///   token whose signature verified, since they are written to that organization's audit
///   log;
/// - never put the token, a claim value or key material in an error, a `Debug` output or a
///   log line;
/// - report its own failures as [`IdentityError::Backend`], never as a token's fault.
pub trait IdentityVerifier: Send + Sync + 'static {
    /// Verifies `token` at `now`.
    ///
    /// # Errors
    /// [`IdentityRefusal`] saying why the token does not authenticate.
    fn verify(&self, token: &str, now: OffsetDateTime)
    -> Result<VerifiedIdentity, IdentityRefusal>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subjects_are_bounded_and_printable() {
        for good in [
            "user-1",
            "auth0|5f7c8ec7c33c6c004bbafe82",
            "ünïcödé@example.com",
            &"x".repeat(MAX_SUBJECT_CHARS),
        ] {
            assert!(is_valid_subject(good), "{good:?} refused");
        }
        for bad in [
            "",
            " user",
            "user\n",
            "a\u{7}b",
            "admin\u{202e}txt",
            "zero\u{200b}width",
            "\u{feff}bom",
            &"x".repeat(MAX_SUBJECT_CHARS + 1),
        ] {
            assert!(!is_valid_subject(bad), "{bad:?} accepted");
        }
    }

    #[test]
    fn an_invalid_subject_names_the_claim_not_the_value() {
        let error =
            VerifiedIdentity::new(OrganizationId::new(), "evil\nline", BTreeSet::new(), "sub")
                .expect_err("a newline is refused");
        assert_eq!(error.code(), "invalid-claim");
        let shown = format!("{error} {error:?}");
        assert!(shown.contains("sub"), "{shown}");
        assert!(!shown.contains("evil"), "{shown}");
    }

    #[test]
    fn codes_are_stable() {
        let codes = [
            IdentityError::Malformed,
            IdentityError::DisallowedAlgorithm,
            IdentityError::UnknownKey,
            IdentityError::BadSignature,
            IdentityError::Expired,
            IdentityError::NotYetValid,
            IdentityError::WrongIssuer,
            IdentityError::WrongAudience,
            IdentityError::MissingClaim("org".to_owned()),
            IdentityError::InvalidClaim("org".to_owned()),
        ]
        .map(|e| e.code());
        assert_eq!(
            codes,
            [
                "malformed-token",
                "disallowed-algorithm",
                "unknown-key",
                "bad-signature",
                "expired-token",
                "token-not-yet-valid",
                "wrong-issuer",
                "wrong-audience",
                "missing-claim",
                "invalid-claim",
            ]
        );
    }
}
