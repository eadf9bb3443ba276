//! What a failed AWS call says, and which of the port's [`KeyManagerError`] variants it
//! becomes.

use std::error::Error as StdError;
use std::time::Duration;

use http::header::HeaderMap;
use reqwest::StatusCode;
use vault_core::KeyManagerError;

use crate::client::Op;
use crate::credentials::Credentials;
use crate::sts;

/// AWS error codes that mean "slow down": retried, then `Unreachable`.
const THROTTLING: [&str; 4] = [
    "ThrottlingException",
    "Throttling",
    "RequestLimitExceeded",
    "TooManyRequestsException",
];

/// Why one attempt failed, before it is translated (after the retries) into the port's error.
#[derive(Debug)]
pub(crate) enum Failure {
    /// No answer: refused or reset connection, timeout.
    Transport(String),
    /// An error response, its AWS code and first line of message (secrets redacted).
    Api {
        status: u16,
        code: String,
        message: String,
    },
    /// The credential chain failed (already the port's error).
    Credentials(KeyManagerError),
    /// Anything else: a request that could not be built or signed.
    Other(String),
}

impl Failure {
    pub(crate) fn retryable(&self) -> bool {
        match self {
            Self::Transport(_) => true,
            Self::Api { status, code, .. } => *status >= 500 || THROTTLING.contains(&code.as_str()),
            // STS calls retry on their own.
            Self::Credentials(_) | Self::Other(_) => false,
        }
    }
}

/// A transport error as text: reqwest's message and its causes ("connection refused").
pub(crate) fn transport(error: &reqwest::Error, timeout: Duration) -> Failure {
    if error.is_timeout() {
        return Failure::Transport(format!("no answer within {timeout:?}"));
    }
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    Failure::Transport(text)
}

/// Reads an error response: the code from JSON's `__type` (KMS), the `X-Amzn-ErrorType`
/// header, or XML's `<Code>` (STS, and moto's authentication errors); the first line of
/// its message, with any of `credentials`' secrets cut out.
pub(crate) fn api_failure(
    status: StatusCode,
    headers: &HeaderMap,
    body: &[u8],
    credentials: Option<&Credentials>,
) -> Failure {
    let text = String::from_utf8_lossy(body);
    let json: Option<serde_json::Value> = serde_json::from_slice(body).ok();
    let field = |names: &[&str]| {
        names.iter().find_map(|name| {
            json.as_ref()
                .and_then(|v| v.get(*name))
                .and_then(|v| v.as_str())
                .map(str::to_owned)
        })
    };
    let xml = |name: &str| sts::xml_text(&text, name).ok().flatten();
    let code = field(&["__type", "code", "Code"])
        .or_else(|| {
            headers
                .get("x-amzn-errortype")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        })
        .or_else(|| xml("Code"))
        .unwrap_or_default();
    let message = field(&["message", "Message"])
        .or_else(|| xml("Message"))
        .unwrap_or_default();
    let message = first_line(&message);
    Failure::Api {
        status: status.as_u16(),
        code: error_code(&code).to_owned(),
        message: credentials.map_or_else(|| message.clone(), |c| c.redact(&message)),
    }
}

/// `com.amazonaws.kms#NotFoundException` and `NotFoundException:http://...` are both
/// `NotFoundException` (the JSON protocols' two ways to qualify a code).
pub(crate) fn error_code(raw: &str) -> &str {
    let code = raw.rsplit_once('#').map_or(raw, |(_, code)| code);
    code.split_once(':').map_or(code, |(code, _)| code).trim()
}

/// The first line of an AWS message, at most 300 characters: some services append the
/// canonical request to signature errors, which is long and names headers.
fn first_line(message: &str) -> String {
    let line = message.lines().next().unwrap_or_default().trim();
    match line.char_indices().nth(300) {
        Some((at, _)) => format!("{}...", &line[..at]),
        None => line.to_owned(),
    }
}

/// Translates a KMS failure into the port's error. `key_id` is the key the call was about.
pub(crate) fn to_error(op: Op, key_id: &str, failure: Failure) -> KeyManagerError {
    let context = format!("KMS {op} with key {key_id}");
    match failure {
        Failure::Transport(why) => KeyManagerError::Unreachable(format!("{context}: {why}")),
        Failure::Credentials(error) => error,
        Failure::Other(why) => KeyManagerError::Backend(format!("{context}: {why}")),
        Failure::Api {
            status,
            code,
            message,
        } => {
            let text = match (code.is_empty(), message.is_empty()) {
                (true, _) => format!("{context}: HTTP {status} {message}"),
                (false, true) => format!("{context}: {code}"),
                (false, false) => format!("{context}: {code}: {message}"),
            };
            match code.as_str() {
                "DisabledException"
                | "KMSInvalidStateException"
                | "NotFoundException"
                | "KeyUnavailableException"
                // A key that cannot encrypt (a signing or HMAC key) is not usable here.
                | "InvalidKeyUsageException" => KeyManagerError::KeyUnusable(text),
                // Decrypt answers AccessDeniedException both to a refused permission (the
                // message then always says "... is not authorized to perform: kms:Decrypt
                // ...") and to a ciphertext whose embedded key reference does not resolve or
                // is not the KeyId asked for ("The ciphertext refers to a customer master
                // key that does not exist ...", and no message at all from moto): the bytes
                // are wrong there, not the permissions. A bit flipped in the blob's header
                // lands here.
                "AccessDeniedException"
                    if op == Op::Decrypt && !message.contains("not authorized") =>
                {
                    KeyManagerError::Unwrap(text)
                }
                "AccessDeniedException"
                | "AccessDenied"
                | "UnrecognizedClientException"
                | "InvalidSignatureException"
                | "SignatureDoesNotMatch"
                | "IncompleteSignature"
                | "MissingAuthenticationToken"
                | "ExpiredTokenException"
                | "InvalidClientTokenId" => KeyManagerError::Denied(text),
                "InvalidCiphertextException" | "IncorrectKeyException" => {
                    KeyManagerError::Unwrap(text)
                }
                code if THROTTLING.contains(&code) => KeyManagerError::Unreachable(text),
                _ if status >= 500 => KeyManagerError::Unreachable(text),
                _ if status == 401 || status == 403 => KeyManagerError::Denied(text),
                _ => KeyManagerError::Backend(text),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use http::header::HeaderValue;

    use super::*;

    fn api(status: u16, code: &str, message: &str) -> Failure {
        Failure::Api {
            status,
            code: code.to_owned(),
            message: message.to_owned(),
        }
    }

    #[test]
    fn codes_lose_their_qualifiers() {
        assert_eq!(
            error_code("com.amazonaws.kms#NotFoundException"),
            "NotFoundException"
        );
        assert_eq!(
            error_code("NotFoundException:http://internal.amazon.com/coral/"),
            "NotFoundException"
        );
        assert_eq!(error_code("DisabledException"), "DisabledException");
    }

    #[test]
    fn errors_map_to_the_contracts_variants() {
        let kind = |op, f| match to_error(op, "alias/vault", f) {
            KeyManagerError::Unreachable(_) => "unreachable",
            KeyManagerError::Denied(_) => "denied",
            KeyManagerError::KeyUnusable(_) => "unusable",
            KeyManagerError::Unwrap(_) => "unwrap",
            _ => "backend",
        };
        let d = Op::Decrypt;
        for code in [
            "DisabledException",
            "KMSInvalidStateException",
            "NotFoundException",
            "KeyUnavailableException",
        ] {
            assert_eq!(kind(d, api(400, code, "")), "unusable", "{code}");
        }
        for code in [
            "AccessDeniedException",
            "UnrecognizedClientException",
            "InvalidSignatureException",
            "IncompleteSignature",
            "ExpiredTokenException",
            "InvalidClientTokenId",
        ] {
            assert_eq!(
                kind(d, api(400, code, "User: x is not authorized")),
                "denied"
            );
        }
        assert_eq!(
            kind(d, api(400, "InvalidCiphertextException", "")),
            "unwrap"
        );
        assert_eq!(kind(d, api(400, "IncorrectKeyException", "")), "unwrap");
        let header = "The ciphertext refers to a customer master key that does not exist";
        assert_eq!(kind(d, api(400, "AccessDeniedException", header)), "unwrap");
        assert_eq!(kind(d, api(400, "AccessDeniedException", "")), "unwrap");
        assert_eq!(
            kind(Op::Encrypt, api(400, "AccessDeniedException", header)),
            "denied"
        );
        assert_eq!(
            kind(Op::Encrypt, api(400, "AccessDeniedException", "")),
            "denied"
        );
        assert_eq!(kind(d, api(400, "ThrottlingException", "")), "unreachable");
        assert_eq!(kind(d, api(503, "KMSInternalException", "")), "unreachable");
        assert_eq!(kind(d, api(500, "", "")), "unreachable");
        assert_eq!(kind(d, api(403, "", "")), "denied");
        assert_eq!(kind(d, api(400, "ValidationException", "")), "backend");
        assert_eq!(kind(d, Failure::Transport("refused".into())), "unreachable");
    }

    #[test]
    fn messages_name_the_operation_key_and_code() {
        let error = to_error(
            Op::DescribeKey,
            "alias/vault",
            api(400, "NotFoundException", "Alias alias/vault is not found."),
        );
        assert_eq!(
            error.to_string(),
            "the key manager's key is not usable: KMS DescribeKey with key alias/vault: \
             NotFoundException: Alias alias/vault is not found."
        );
    }

    #[test]
    fn error_bodies_in_json_header_and_xml_are_read() {
        let json = br#"{"__type":"com.amazonaws.kms#DisabledException","message":"is disabled"}"#;
        let Failure::Api { code, message, .. } =
            api_failure(StatusCode::BAD_REQUEST, &HeaderMap::new(), json, None)
        else {
            panic!("not an API failure")
        };
        assert_eq!(
            (code.as_str(), message.as_str()),
            ("DisabledException", "is disabled")
        );

        let xml = b"<ErrorResponse><Errors><Error><Code>SignatureDoesNotMatch</Code>\
            <Message>The request signature we calculated does not match\nCanonical: ...</Message>\
            <Type>Sender</Type></Error></Errors></ErrorResponse>";
        let Failure::Api { code, message, .. } =
            api_failure(StatusCode::FORBIDDEN, &HeaderMap::new(), xml, None)
        else {
            panic!("not an API failure")
        };
        assert_eq!(code, "SignatureDoesNotMatch");
        assert_eq!(
            message,
            "The request signature we calculated does not match"
        );

        let mut headers = HeaderMap::new();
        headers.insert(
            "x-amzn-errortype",
            HeaderValue::from_static("ThrottlingException:http://internal"),
        );
        let failure = api_failure(StatusCode::BAD_REQUEST, &headers, b"", None);
        assert!(failure.retryable());
    }

    #[test]
    fn error_messages_lose_the_callers_secrets() {
        let credentials = Credentials::for_tests("AKIDEXAMPLE", "s3cr3t/KEY", Some("T0KEN"));
        let body =
            br#"{"__type":"InvalidSignatureException","message":"bad s3cr3t/KEY and T0KEN"}"#;
        let failure = api_failure(
            StatusCode::BAD_REQUEST,
            &HeaderMap::new(),
            body,
            Some(&credentials),
        );
        let text = to_error(Op::Encrypt, "k", failure).to_string();
        assert!(
            !text.contains("s3cr3t/KEY") && !text.contains("T0KEN"),
            "{text}"
        );
    }
}
