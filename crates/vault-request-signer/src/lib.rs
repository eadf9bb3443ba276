//! The [`RequestSigner`] the server uses: HMAC and digests with ring, and AWS Signature
//! Version 4 with `aws-sigv4`, AWS's own signing crate (already built for the AWS KMS key
//! manager), so the canonical request, its encoding rules and the key derivation are not
//! ours to get wrong.

use std::borrow::Cow;

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{
    PayloadChecksumKind, PercentEncodingMode, SignableBody, SignableRequest, SigningSettings,
    UriPathNormalizationMode, sign,
};
use aws_sigv4::sign::v4;
use ring::{digest, hmac};
use secrecy::ExposeSecret;
use vault_core::signing::{HashAlgorithm, RequestSigner, SigV4Params, SigningError};
use vault_core::upstream::OutgoingRequest;

/// The headers left out of the signature: botocore's `SIGNED_HEADERS_BLACKLIST` and
/// `authorization`. aws-sigv4's default leaves out only four of them; hop-by-hop and
/// tracing headers a proxied request may carry can be dropped or rewritten after signing
/// (hyper drops `connection`, `keep-alive` and `upgrade` on HTTP/2), voiding the signature.
const UNSIGNED_HEADERS: [&str; 15] = [
    "authorization",
    "baggage",
    "connection",
    "expect",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "traceparent",
    "tracestate",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "user-agent",
    "x-amzn-trace-id",
];

/// Signs with ring and aws-sigv4. Holds nothing.
#[derive(Clone, Copy, Debug, Default)]
pub struct RingRequestSigner;

impl RequestSigner for RingRequestSigner {
    fn mac(
        &self,
        algorithm: HashAlgorithm,
        key: &[u8],
        message: &[u8],
    ) -> Result<Vec<u8>, SigningError> {
        let algorithm = match algorithm {
            HashAlgorithm::Sha256 => hmac::HMAC_SHA256,
            HashAlgorithm::Sha512 => hmac::HMAC_SHA512,
        };
        let key = hmac::Key::new(algorithm, key);
        Ok(hmac::sign(&key, message).as_ref().to_vec())
    }

    fn digest(&self, algorithm: HashAlgorithm, message: &[u8]) -> Result<Vec<u8>, SigningError> {
        let algorithm = match algorithm {
            HashAlgorithm::Sha256 => &digest::SHA256,
            HashAlgorithm::Sha512 => &digest::SHA512,
        };
        Ok(digest::digest(algorithm, message).as_ref().to_vec())
    }

    fn sigv4(
        &self,
        request: &OutgoingRequest,
        params: &SigV4Params<'_>,
    ) -> Result<Vec<(http::HeaderName, http::HeaderValue)>, SigningError> {
        let identity = Credentials::new(
            params.access_key_id,
            params.secret_access_key.expose_secret(),
            params
                .session_token
                .map(|token| token.expose_secret().to_owned()),
            None,
            "vault",
        )
        .into();
        let mut settings = SigningSettings::default();
        settings.excluded_headers = Some(UNSIGNED_HEADERS.map(Cow::Borrowed).to_vec());
        if params.service == "s3" {
            // S3 signs the path as sent: encoded once, `//` and dot segments kept (an
            // object key may hold them); the other services encode it again, normalized.
            settings.percent_encoding_mode = PercentEncodingMode::Single;
            settings.uri_path_normalization_mode = UriPathNormalizationMode::Disabled;
        }
        if params.content_sha256_header {
            settings.payload_checksum_kind = PayloadChecksumKind::XAmzSha256;
        }
        let signing = v4::SigningParams::builder()
            .identity(&identity)
            .region(params.region)
            .name(params.service)
            .time(params.at)
            .settings(settings)
            .build()
            .map_err(|_| SigningError::Unsignable("the signing parameters are incomplete"))?
            .into();
        let mut headers = Vec::with_capacity(request.headers.len());
        for (name, value) in &request.headers {
            let value = value
                .to_str()
                .map_err(|_| SigningError::Unsignable("a header value is not visible ASCII"))?;
            headers.push((name.as_str(), value));
        }
        let body = if params.unsigned_payload {
            SignableBody::UnsignedPayload
        } else {
            SignableBody::Bytes(&request.body)
        };
        let signable = SignableRequest::new(
            request.method.as_str(),
            request.url.as_str(),
            headers.into_iter(),
            body,
        )
        .map_err(|_| SigningError::Unsignable("the URL cannot be put in canonical form"))?;
        let (instructions, _signature) = sign(signable, &signing)
            .map_err(|_| SigningError::Unsignable("the request cannot be put in canonical form"))?
            .into_parts();
        let (added, _query) = instructions.into_parts();
        added
            .into_iter()
            .map(|header| {
                let mut value = http::HeaderValue::from_str(header.value())
                    .map_err(|_| SigningError::Unsignable("the signer made an invalid header"))?;
                value.set_sensitive(header.sensitive() || header.name() == "authorization");
                Ok((http::HeaderName::from_static(header.name()), value))
            })
            .collect()
    }
}
