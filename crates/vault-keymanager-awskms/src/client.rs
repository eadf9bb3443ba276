//! One KMS call: a JSON body signed with SigV4 and sent, with retries; a failure becomes
//! the port's error in [`crate::errors`].

use std::fmt;
use std::future::Future;
use std::time::{Duration, SystemTime};

use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
use aws_sigv4::sign::v4;
use http::header::{CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue};
use url::Url;
use vault_core::KeyManagerError;
use zeroize::Zeroizing;

use crate::credentials::{CredentialSource, Credentials};
use crate::errors::{Failure, api_failure, to_error, transport};

/// KMS's JSON protocol.
const JSON_1_1: &str = "application/x-amz-json-1.1";

/// Attempts per call. A key manager is called at start: a few quick retries ride out a
/// throttle or a load balancer's hiccup without holding the start for long.
const ATTEMPTS: u32 = 3;
/// The wait before the first retry; it quadruples before each following one.
const FIRST_BACKOFF: Duration = Duration::from_millis(100);

/// The KMS operations this adapter uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Op {
    Encrypt,
    Decrypt,
    DescribeKey,
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Encrypt => "Encrypt",
            Self::Decrypt => "Decrypt",
            Self::DescribeKey => "DescribeKey",
        })
    }
}

/// Runs `attempt` until it succeeds, fails in a way a retry cannot help, or runs out of
/// attempts.
pub(crate) async fn with_retries<T, F, Fut>(mut attempt: F) -> Result<T, Failure>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, Failure>>,
{
    let mut backoff = FIRST_BACKOFF;
    for _ in 1..ATTEMPTS {
        match attempt().await {
            Err(failure) if failure.retryable() => {
                tracing::debug!(?failure, ?backoff, "retrying an AWS call");
                tokio::time::sleep(backoff).await;
                backoff *= 4;
            }
            done => return done,
        }
    }
    attempt().await
}

/// The KMS endpoint, the credentials and the HTTP client: what a call needs.
pub(crate) struct Kms {
    pub(crate) http: reqwest::Client,
    pub(crate) endpoint: Url,
    pub(crate) region: String,
    pub(crate) timeout: Duration,
    pub(crate) credentials: CredentialSource,
}

impl fmt::Debug for Kms {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Kms")
            .field("endpoint", &self.endpoint.as_str())
            .field("region", &self.region)
            .field("timeout", &self.timeout)
            .field("credentials", &self.credentials)
            .finish()
    }
}

impl Kms {
    /// Calls `op` with the JSON `body` (about `key_id`, for messages) and returns the
    /// response body; in `Zeroizing` because a Decrypt response carries the plaintext.
    #[tracing::instrument(skip(self, body), fields(endpoint = %self.endpoint))]
    pub(crate) async fn call(
        &self,
        op: Op,
        key_id: &str,
        body: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>, KeyManagerError> {
        let mut refreshed = false;
        loop {
            match with_retries(|| self.attempt(op, body)).await {
                Ok(response) => return Ok(response),
                // Temporary credentials KMS says expired (a clock skew, a revoked session):
                // fetch new ones once.
                Err(Failure::Api { code, .. })
                    if code == "ExpiredTokenException"
                        && !refreshed
                        && self.credentials.is_refreshable() =>
                {
                    self.credentials.invalidate().await;
                    refreshed = true;
                }
                Err(failure) => return Err(to_error(op, key_id, failure)),
            }
        }
    }

    async fn attempt(&self, op: Op, body: &[u8]) -> Result<Zeroizing<Vec<u8>>, Failure> {
        let credentials = self
            .credentials
            .get(&self.http, self.timeout)
            .await
            .map_err(Failure::Credentials)?;
        let target = format!("TrentService.{op}");
        let unsigned = [
            ("content-type", JSON_1_1),
            ("x-amz-target", target.as_str()),
        ];
        let signed = sign_request(
            &credentials,
            &self.region,
            "kms",
            self.endpoint.as_str(),
            &unsigned,
            body,
            SystemTime::now(),
        )
        .map_err(Failure::Other)?;
        let response = self
            .http
            .post(self.endpoint.clone())
            .header(CONTENT_TYPE, JSON_1_1)
            .header("x-amz-target", &target)
            .headers(signed)
            .body(body.to_vec())
            .send()
            .await
            .map_err(|e| transport(&e, self.timeout))?;
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response
            .bytes()
            .await
            .map_err(|e| transport(&e, self.timeout))?;
        // Into a Vec without a copy where the buffer is not shared, so it is wiped on drop.
        let bytes = Zeroizing::new(Vec::from(bytes));
        if status.is_success() {
            Ok(bytes)
        } else {
            Err(api_failure(status, &headers, &bytes, Some(&credentials)))
        }
    }
}

/// Signs a POST of `body` to `url` with `headers` (SigV4, headers location) and returns the
/// headers to add: `x-amz-date`, `authorization` and, with temporary credentials,
/// `x-amz-security-token` (marked sensitive, so no HTTP log prints it).
pub(crate) fn sign_request(
    credentials: &Credentials,
    region: &str,
    service: &str,
    url: &str,
    headers: &[(&str, &str)],
    body: &[u8],
    time: SystemTime,
) -> Result<HeaderMap, String> {
    let identity = credentials.to_sigv4().into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(region)
        .name(service)
        .time(time)
        .settings(SigningSettings::default())
        .build()
        .map_err(|e| format!("cannot sign the request: {e}"))?
        .into();
    let request = SignableRequest::new(
        "POST",
        url,
        headers.iter().copied(),
        SignableBody::Bytes(body),
    )
    .map_err(|e| format!("cannot sign the request: {e}"))?;
    let (instructions, _signature) = sign(request, &params)
        .map_err(|e| format!("cannot sign the request: {e}"))?
        .into_parts();
    let (new_headers, _params) = instructions.into_parts();
    let mut map = HeaderMap::new();
    for header in new_headers {
        let mut value = HeaderValue::from_str(header.value())
            .map_err(|_| format!("the signer produced an invalid {} header", header.name()))?;
        value.set_sensitive(header.sensitive());
        map.insert(HeaderName::from_static(header.name()), value);
    }
    Ok(map)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signing_adds_date_authorization_and_a_sensitive_token() {
        let credentials = Credentials::for_tests("AKIDEXAMPLE", "secret", Some("token"));
        let time = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let headers = sign_request(
            &credentials,
            "us-east-1",
            "kms",
            "https://kms.us-east-1.amazonaws.com/",
            &[
                ("content-type", JSON_1_1),
                ("x-amz-target", "TrentService.Encrypt"),
            ],
            b"{}",
            time,
        )
        .expect("signed");
        let auth = headers["authorization"].to_str().expect("ascii");
        assert!(
            auth.starts_with(
                "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20231114/us-east-1/kms/aws4_request, \
                 SignedHeaders=content-type;host;x-amz-date;x-amz-security-token;x-amz-target, \
                 Signature="
            ),
            "{auth}"
        );
        assert_eq!(headers["x-amz-date"], "20231114T221320Z");
        assert!(headers["x-amz-security-token"].is_sensitive());
    }
}
