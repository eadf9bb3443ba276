#![doc = include_str!("../README.md")]

mod config;
mod verification_keys;

use std::collections::BTreeSet;
use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, Validation};
use serde_json::{Map, Value};
use time::OffsetDateTime;
use vault_core::identity::{IdentityError, IdentityRefusal, IdentityVerifier, VerifiedIdentity};
use vault_core::{OrganizationId, Scope};

pub use config::{
    ClaimNames, DEFAULT_LEEWAY_SECONDS, IdpConfig, IdpConfigError, MAX_LEEWAY_SECONDS,
};

use crate::verification_keys::{ACCEPTED, VerificationKey};

/// Longest token looked at. Real ones are a few hundred bytes to a few kilobytes; this only
/// bounds the work a caller can ask for.
const MAX_TOKEN_BYTES: usize = 16 * 1024;

type Claims = Map<String, Value>;

/// The [`IdentityVerifier`] of the vault: identity-provider JWTs verified with
/// [jsonwebtoken](https://docs.rs/jsonwebtoken) on its RustCrypto backend.
///
/// Every key is bound to one algorithm (HS256 secrets, RS256 and ES256 public keys), and a
/// token is only ever checked with keys of the algorithm its header names, so neither
/// `alg: none` nor an HS256 token "signed" with an RSA public key can pass. Time claims are
/// judged against the `now` the vault passes in (its clock), with the configured leeway.
pub struct JwtIdentityVerifier {
    issuer: String,
    audience: String,
    leeway: i64,
    keys: Vec<VerificationKey>,
    claims: ClaimNames,
    /// Signature only: `iss`, `aud`, `exp` and `nbf` are checked here against the vault's
    /// clock (jsonwebtoken's own checks read the system clock), which also tells which
    /// claim failed and lets a signed but expired token be audited in its organization.
    signature_only: [Validation; 3],
}

impl fmt::Debug for JwtIdentityVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Key sources, algorithms and kids only; never a secret or key material.
        f.debug_struct("JwtIdentityVerifier")
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .field("leeway_seconds", &self.leeway)
            .field("keys", &self.keys)
            .field("claims", &self.claims)
            .finish_non_exhaustive()
    }
}

impl JwtIdentityVerifier {
    /// Reads and checks every configured key.
    ///
    /// # Errors
    /// [`IdpConfigError`] saying what to fix: no issuer or audience, no key at all, an HS256
    /// secret under 32 bytes, a key file that is missing, a private key, a certificate, an
    /// RSA key under 2048 bits, an EC key not on P-256, a JWKS file without a usable key.
    pub fn new(config: &IdpConfig) -> Result<Self, IdpConfigError> {
        let issuer = config.issuer.trim();
        if issuer.is_empty() {
            return Err(IdpConfigError::MissingIssuer);
        }
        let audience = config.audience.trim();
        if audience.is_empty() {
            return Err(IdpConfigError::MissingAudience);
        }
        if config.leeway_seconds > MAX_LEEWAY_SECONDS {
            return Err(IdpConfigError::LeewayTooLarge);
        }
        for (name, value) in [
            ("idp_organization_claim", &config.claims.organization),
            ("idp_subject_claim", &config.claims.subject),
            ("idp_scopes_claim", &config.claims.scopes),
            ("idp_groups_claim", &config.claims.groups),
        ] {
            if value.trim().is_empty() {
                return Err(IdpConfigError::EmptyClaimName(name));
            }
        }
        let mut keys = verification_keys::hs256_secrets(&config.hs256_secrets)?;
        for path in &config.public_key_files {
            keys.push(verification_keys::pem_file(path)?);
        }
        if let Some(path) = &config.jwks_file {
            keys.extend(verification_keys::jwks_file(path)?);
        }
        if keys.is_empty() {
            return Err(IdpConfigError::NoKey);
        }
        Ok(Self {
            issuer: issuer.to_owned(),
            audience: audience.to_owned(),
            leeway: i64::try_from(config.leeway_seconds).unwrap_or(i64::MAX),
            keys,
            claims: config.claims.clone(),
            signature_only: ACCEPTED.map(signature_only),
        })
    }

    /// Where each key came from and its algorithm, for a start-up log line.
    #[must_use]
    pub fn describe_keys(&self) -> Vec<String> {
        self.keys
            .iter()
            .map(|k| match &k.kid {
                Some(kid) => format!("{} ({:?}, kid {kid:?})", k.source, k.algorithm),
                None => format!("{} ({:?})", k.source, k.algorithm),
            })
            .collect()
    }

    /// The keys a token may be checked with: the one its `kid` names (which must be of the
    /// token's algorithm), or, when it names none of ours, those of its algorithm that have
    /// no kid (an HS256 secret or a PEM file cannot be named).
    fn candidates(
        &self,
        algorithm: Algorithm,
        kid: Option<&str>,
    ) -> Result<Vec<&VerificationKey>, IdentityError> {
        if let Some(kid) = kid {
            let named: Vec<_> = self
                .keys
                .iter()
                .filter(|k| k.kid.as_deref() == Some(kid))
                .collect();
            if !named.is_empty() {
                // The key decides the algorithm, never the token: this refuses an HS256
                // token naming an RSA key, whose public key it was "signed" with.
                return if named.iter().all(|k| k.algorithm == algorithm) {
                    Ok(named)
                } else {
                    Err(IdentityError::DisallowedAlgorithm)
                };
            }
            let unnamed: Vec<_> = self
                .keys
                .iter()
                .filter(|k| k.kid.is_none() && k.algorithm == algorithm)
                .collect();
            return if unnamed.is_empty() {
                Err(IdentityError::UnknownKey)
            } else {
                Ok(unnamed)
            };
        }
        let fitting: Vec<_> = self
            .keys
            .iter()
            .filter(|k| k.algorithm == algorithm)
            .collect();
        if fitting.is_empty() {
            Err(IdentityError::UnknownKey)
        } else {
            Ok(fitting)
        }
    }

    /// Checks the signature with each candidate key; returns the claims of the first that
    /// verifies.
    fn verified_claims(&self, token: &str) -> Result<Claims, IdentityError> {
        let header = Header::read(token)?;
        let candidates = self.candidates(header.algorithm, header.kid.as_deref())?;
        let validation = ACCEPTED
            .iter()
            .position(|a| *a == header.algorithm)
            .and_then(|i| self.signature_only.get(i))
            .ok_or(IdentityError::DisallowedAlgorithm)?;
        for key in candidates {
            match jsonwebtoken::decode::<Claims>(token, &key.key, validation) {
                Ok(data) => return Ok(data.claims),
                Err(error) => match error.kind() {
                    ErrorKind::InvalidSignature => {}
                    ErrorKind::InvalidAlgorithm | ErrorKind::InvalidAlgorithmName => {
                        return Err(IdentityError::DisallowedAlgorithm);
                    }
                    // Keys were checked at start-up; one that fails now is our fault.
                    ErrorKind::InvalidKeyFormat
                    | ErrorKind::InvalidEcdsaKey
                    | ErrorKind::InvalidRsaKey(_) => {
                        return Err(IdentityError::Backend(
                            format!("the key from {} could not be used", key.source).into(),
                        ));
                    }
                    _ => return Err(IdentityError::Malformed),
                },
            }
        }
        Err(IdentityError::BadSignature)
    }

    fn check(
        &self,
        claims: &Claims,
        now: OffsetDateTime,
    ) -> Result<VerifiedIdentity, IdentityRefusal> {
        // Issuer and audience first, trusting nothing else of a token meant for someone
        // else: its other claims may mean something else there.
        if claims.get("iss").and_then(Value::as_str) != Some(self.issuer.as_str()) {
            return Err(IdentityError::WrongIssuer.into());
        }
        let audience_matches = match claims.get("aud") {
            Some(Value::String(aud)) => *aud == self.audience,
            Some(Value::Array(auds)) => auds.iter().any(|a| a.as_str() == Some(&self.audience)),
            _ => false,
        };
        if !audience_matches {
            return Err(IdentityError::WrongAudience.into());
        }
        // From here on the token is ours and signed: a refusal names the organization and
        // subject it carries, when they are valid, so it is audited where it belongs.
        let organization = self.organization(claims);
        let subject = claims
            .get(&self.claims.subject)
            .and_then(Value::as_str)
            .filter(|s| vault_core::identity::is_valid_subject(s));
        let signed_organization = organization.as_ref().ok().copied();
        let refuse = |error: IdentityError| IdentityRefusal {
            error,
            organization_id: signed_organization,
            subject: subject.map(str::to_owned),
        };
        let at = now.unix_timestamp();
        let expires = time_claim(claims, "exp", f64::floor)
            .map_err(refuse)?
            .ok_or_else(|| refuse(IdentityError::MissingClaim("exp".to_owned())))?;
        // RFC 7519 §4.1.4: the current time MUST be before exp.
        if at >= expires.saturating_add(self.leeway) {
            return Err(refuse(IdentityError::Expired));
        }
        // §4.1.5: the current time MUST be at or after nbf.
        if let Some(not_before) = time_claim(claims, "nbf", f64::ceil).map_err(refuse)?
            && at.saturating_add(self.leeway) < not_before
        {
            return Err(refuse(IdentityError::NotYetValid));
        }
        let organization = organization.map_err(refuse)?;
        let scopes = self.scopes(claims).map_err(refuse)?;
        let groups = names_claim(claims, &self.claims.groups).map_err(refuse)?;
        let subject = match claims.get(&self.claims.subject) {
            None | Some(Value::Null) => {
                return Err(refuse(IdentityError::MissingClaim(
                    self.claims.subject.clone(),
                )));
            }
            Some(Value::String(subject)) => subject,
            Some(_) => {
                return Err(refuse(IdentityError::InvalidClaim(
                    self.claims.subject.clone(),
                )));
            }
        };
        // `exp` caps the lifetime of every access key this token creates. One past the
        // last representable date (year 9999) is held to that date.
        let expires_at = OffsetDateTime::from_unix_timestamp(expires)
            .unwrap_or_else(|_| time::PrimitiveDateTime::MAX.assume_utc());
        VerifiedIdentity::new(organization, subject, scopes, &self.claims.subject)
            .map(|identity| {
                identity
                    .with_expiry(expires_at)
                    .with_groups(groups.into_iter().map(str::to_owned))
            })
            .map_err(refuse)
    }

    fn organization(&self, claims: &Claims) -> Result<OrganizationId, IdentityError> {
        let name = &self.claims.organization;
        match claims.get(name) {
            None | Some(Value::Null) => Err(IdentityError::MissingClaim(name.clone())),
            Some(Value::String(raw)) => raw
                .parse::<OrganizationId>()
                .map_err(|_| IdentityError::InvalidClaim(name.clone())),
            Some(_) => Err(IdentityError::InvalidClaim(name.clone())),
        }
    }

    /// The vault scopes a token carries: a space-separated string or an array of strings.
    /// Names that are not vault scopes (the provider's own, `openid`, ...) are ignored; a
    /// token without the claim gets no scope, and so can authenticate but do nothing.
    fn scopes(&self, claims: &Claims) -> Result<BTreeSet<Scope>, IdentityError> {
        let names = names_claim(claims, &self.claims.scopes)?;
        Ok(names.into_iter().filter_map(|n| n.parse().ok()).collect())
    }
}

/// A claim listing names: a space-separated string or an array of strings; absent, none.
fn names_claim<'c>(claims: &'c Claims, name: &str) -> Result<Vec<&'c str>, IdentityError> {
    match claims.get(name) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::String(all)) => Ok(all.split_whitespace().collect()),
        Some(Value::Array(items)) => items
            .iter()
            .map(Value::as_str)
            .collect::<Option<_>>()
            .ok_or_else(|| IdentityError::InvalidClaim(name.to_owned())),
        Some(_) => Err(IdentityError::InvalidClaim(name.to_owned())),
    }
}

impl IdentityVerifier for JwtIdentityVerifier {
    fn verify(
        &self,
        token: &str,
        now: OffsetDateTime,
    ) -> Result<VerifiedIdentity, IdentityRefusal> {
        if token.len() > MAX_TOKEN_BYTES {
            return Err(IdentityError::Malformed.into());
        }
        let claims = self.verified_claims(token)?;
        self.check(&claims, now)
    }
}

/// jsonwebtoken's checks reduced to the signature and the algorithm (see
/// [`JwtIdentityVerifier::signature_only`]).
fn signature_only(algorithm: Algorithm) -> Validation {
    let mut validation = Validation::new(algorithm);
    validation.required_spec_claims.clear();
    validation.validate_exp = false;
    validation.validate_nbf = false;
    validation.validate_aud = false;
    validation.leeway = 0;
    validation
}

/// A NumericDate claim (RFC 7519 §2): seconds, possibly fractional, rounded with `round`
/// (down for `exp`, up for `nbf`: the stricter way for each).
fn time_claim(
    claims: &Claims,
    name: &str,
    round: fn(f64) -> f64,
) -> Result<Option<i64>, IdentityError> {
    let invalid = || IdentityError::InvalidClaim(name.to_owned());
    match claims.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => {
            if let Some(seconds) = n.as_i64() {
                return Ok(Some(seconds));
            }
            let seconds = n.as_f64().filter(|s| s.is_finite()).ok_or_else(invalid)?;
            let rounded = round(seconds);
            // Within ±2^53, where every integer is exact, and far beyond any real date.
            if rounded.abs() > 9_007_199_254_740_992.0 {
                return Err(invalid());
            }
            #[expect(
                clippy::cast_possible_truncation,
                reason = "rounded and bounded to ±2^53 just above"
            )]
            Ok(Some(rounded as i64))
        }
        Some(_) => Err(invalid()),
    }
}

/// What the verifier reads of a JOSE header before choosing keys.
struct Header {
    algorithm: Algorithm,
    kid: Option<String>,
}

impl Header {
    /// Reads the header of a compact JWS (three base64url segments). `alg` must be one of
    /// the accepted algorithms (`none` is not); a `crit` header is refused, since this
    /// verifier understands no extension (RFC 7515 §4.1.11).
    fn read(token: &str) -> Result<Self, IdentityError> {
        let mut segments = token.split('.');
        let (Some(header), Some(_), Some(_), None) = (
            segments.next(),
            segments.next(),
            segments.next(),
            segments.next(),
        ) else {
            return Err(IdentityError::Malformed);
        };
        let bytes = URL_SAFE_NO_PAD
            .decode(header)
            .map_err(|_| IdentityError::Malformed)?;
        let header: Map<String, Value> =
            serde_json::from_slice(&bytes).map_err(|_| IdentityError::Malformed)?;
        if header.contains_key("crit") {
            return Err(IdentityError::Malformed);
        }
        let algorithm = match header.get("alg").and_then(Value::as_str) {
            Some("HS256") => Algorithm::HS256,
            Some("RS256") => Algorithm::RS256,
            Some("ES256") => Algorithm::ES256,
            Some(_) => return Err(IdentityError::DisallowedAlgorithm),
            None => return Err(IdentityError::Malformed),
        };
        let kid = match header.get("kid") {
            None | Some(Value::Null) => None,
            Some(Value::String(kid)) => Some(kid.clone()),
            Some(_) => return Err(IdentityError::Malformed),
        };
        Ok(Self { algorithm, kid })
    }
}
