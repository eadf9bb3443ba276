//! `aws_sigv4`: AWS Signature Version 4. The proxy signs each request as it is sent (method,
//! canonical URI and query, headers, and the payload's hash) with the access key, for any
//! service that takes SigV4: AWS's own, API Gateway (`execute-api`), and the S3-compatible
//! stores.

use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use std::time::SystemTime;

use super::field_rules::{SentIn, secret_field};
use super::{
    CredentialSecrets, CredentialType, FieldShape, FieldSpec, Required, TypeRules, TypeSpec,
    mismatch,
};
use crate::apply::{AppliedCredential, SignsRequests};
use crate::input::CredentialFields;
use crate::signing::{RequestSigner, SigV4Params, SigningError};
use crate::upstream::OutgoingRequest;
use crate::validation::{FieldError, ValidationErrors};
use crate::vault::VaultError;

/// How an `aws_sigv4` credential looks from outside.
const SPEC: TypeSpec = TypeSpec {
    credential_type: CredentialType::AwsSigV4,
    title: "AWS Signature V4",
    description: "An AWS access key: the vault signs each request with SigV4 (`Authorization`, `X-Amz-Date`, and `X-Amz-Security-Token` for temporary credentials).",
    fields: &[
        FieldSpec {
            name: "accessKeyId",
            label: "Access key ID",
            shape: FieldShape::Text { max_length: 128 },
            required: Required::Always,
            nullable: false,
            description: "The access key ID (`AKIA…`, or `ASIA…` for temporary credentials).",
        },
        FieldSpec {
            name: "secretAccessKey",
            label: "Secret access key",
            shape: FieldShape::Secret { hint: true },
            required: Required::Always,
            nullable: false,
            description: "The secret access key.",
        },
        FieldSpec {
            name: "sessionToken",
            label: "Session token",
            shape: FieldShape::Secret { hint: false },
            required: Required::Never,
            nullable: false,
            description: "The session token of temporary credentials (STS), sent as `X-Amz-Security-Token`. Kept secret; giving new secret values without it removes it.",
        },
        FieldSpec {
            name: "region",
            label: "Region",
            shape: FieldShape::Text { max_length: 32 },
            required: Required::Always,
            nullable: false,
            description: "The region the requests are signed for, such as `eu-west-1`.",
        },
        FieldSpec {
            name: "service",
            label: "Service",
            shape: FieldShape::Text { max_length: 64 },
            required: Required::Always,
            nullable: false,
            description: "The service's signing name, such as `s3`, `sts` or `execute-api`. For `s3` the payload's hash is also sent as `X-Amz-Content-SHA256`.",
        },
    ],
    derived: &[],
};

/// Public configuration of an `aws_sigv4` credential.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Config {
    /// The access key ID (public: it names the key, as a user name does).
    pub access_key_id: String,
    /// The region signed for.
    pub region: String,
    /// The service's signing name.
    pub service: String,
}

impl TypeRules for Config {
    const SPEC: TypeSpec = SPEC;

    fn validate(
        fields: &CredentialFields,
        current: Option<&Self>,
        errors: &mut ValidationErrors,
    ) -> Option<(Self, Option<CredentialSecrets>)> {
        let mut public = |name: &'static str, check: fn(&str) -> Result<(), FieldError>, kept| {
            match (fields.text(name), current) {
                (Some(raw), _) => errors.take(check(raw).map(|()| raw.clone())),
                (None, Some(_)) => Some(kept),
                (None, None) => {
                    errors.add(name, "is required");
                    None
                }
            }
        };
        let access_key_id = public(
            "accessKeyId",
            access_key_id,
            current.map(|c| c.access_key_id.clone()).unwrap_or_default(),
        );
        let region = public(
            "region",
            region,
            current.map(|c| c.region.clone()).unwrap_or_default(),
        );
        let service = public(
            "service",
            service,
            current.map(|c| c.service.clone()).unwrap_or_default(),
        );
        let changing = current.is_some();
        let secret = secret_field(fields, "secretAccessKey", SentIn::Elsewhere, changing, errors);
        let token = secret_field(fields, "sessionToken", SentIn::Header, true, errors);
        if token.is_some() && secret.is_none() && !fields.has("secretAccessKey") {
            // The secrets are sealed together: a new token comes with its key.
            errors.add("secretAccessKey", "is required with a new sessionToken");
        }
        let secrets = secret.map(|secret| {
            let secrets =
                CredentialSecrets::new(CredentialType::AwsSigV4).with_text("secretAccessKey", secret);
            match token {
                Some(token) => secrets.with_text("sessionToken", token),
                None => secrets,
            }
        });
        Some((
            Self {
                access_key_id: access_key_id?,
                region: region?,
                service: service?,
            },
            secrets,
        ))
    }

    fn example() -> Self {
        Self {
            access_key_id: "AKIAIOSFODNN7EXAMPLE".to_owned(),
            region: "eu-west-1".to_owned(),
            service: "execute-api".to_owned(),
        }
    }

    fn apply(&self, secrets: &CredentialSecrets) -> Result<AppliedCredential, VaultError> {
        Ok(AppliedCredential::signed(SigV4Signature {
            access_key_id: self.access_key_id.clone(),
            secret_access_key: secrets.text("secretAccessKey").ok_or_else(mismatch)?.clone(),
            session_token: secrets.text("sessionToken").cloned(),
            region: self.region.clone(),
            service: self.service.clone(),
        }))
    }
}

/// AWS access key IDs: 16 to 128 word characters (IAM's own constraint).
fn access_key_id(raw: &str) -> Result<(), FieldError> {
    let word = |c: char| c.is_ascii_alphanumeric() || c == '_';
    if (16..=128).contains(&raw.len()) && raw.chars().all(word) {
        Ok(())
    } else {
        Err(FieldError::new(
            "accessKeyId",
            "must be an AWS access key ID: 16 to 128 letters, digits or underscores",
        ))
    }
}

/// Regions are lower-case words joined by hyphens, the first two letters long and the
/// last a number: `us-east-1`, `us-gov-west-1`, `eu-isoe-west-1`.
fn region(raw: &str) -> Result<(), FieldError> {
    let parts: Vec<&str> = raw.split('-').collect();
    let word = |part: &&str| !part.is_empty() && part.bytes().all(|b| b.is_ascii_lowercase());
    let valid = parts.len() >= 3
        && parts[0].len() == 2
        && parts[..parts.len() - 1].iter().all(word)
        && parts.last().is_some_and(|n| {
            (1..=2).contains(&n.len()) && n.bytes().all(|b| b.is_ascii_digit())
        });
    if valid {
        Ok(())
    } else {
        Err(FieldError::new(
            "region",
            "must be an AWS region such as us-east-1 or eu-west-2",
        ))
    }
}

/// Signing names: lower-case letters, digits and hyphens (`s3`, `execute-api`).
fn service(raw: &str) -> Result<(), FieldError> {
    let valid = !raw.is_empty()
        && raw.len() <= 64
        && raw.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
        && raw
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if valid {
        Ok(())
    } else {
        Err(FieldError::new(
            "service",
            "must be a service's signing name such as s3, sts or execute-api",
        ))
    }
}

/// The opened key, signing each request. `Debug` is not derived: it holds the secret.
struct SigV4Signature {
    access_key_id: String,
    secret_access_key: SecretString,
    session_token: Option<SecretString>,
    region: String,
    service: String,
}

impl SignsRequests for SigV4Signature {
    fn scheme(&self) -> &'static str {
        "aws_sigv4"
    }

    fn sign(
        &self,
        request: &OutgoingRequest,
        signer: &dyn RequestSigner,
        at: SystemTime,
    ) -> Result<Vec<(http::HeaderName, http::HeaderValue)>, SigningError> {
        signer.sigv4(
            request,
            &SigV4Params {
                access_key_id: &self.access_key_id,
                secret_access_key: &self.secret_access_key,
                session_token: self.session_token.as_ref(),
                region: &self.region,
                service: &self.service,
                // The proxy holds the whole body: its hash is always signed.
                unsigned_payload: false,
                content_sha256_header: self.service == "s3",
                at,
            },
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regions_are_checked_by_shape() {
        for good in ["us-east-1", "us-gov-west-1", "eu-isoe-west-1", "ap-southeast-4", "cn-north-1"] {
            assert!(region(good).is_ok(), "{good}");
        }
        for bad in ["", "us-east", "useast1", "US-EAST-1", "u-east-1", "us-east-123", "us--1", "moon-base-1x"] {
            assert!(region(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn services_and_key_ids_are_checked() {
        assert!(service("execute-api").is_ok());
        assert!(service("S3").is_err());
        assert!(service("-s3").is_err());
        assert!(access_key_id("AKIAIOSFODNN7EXAMPLE").is_ok());
        assert!(access_key_id("AKIA-SHORT").is_err());
    }
}
