//! `RingRequestSigner::sigv4` against botocore, the reference AWS client: for each request
//! of the table, the `authorization`, `x-amz-date`, `x-amz-security-token` and
//! `x-amz-content-sha256` headers must be the ones botocore's `SigV4Auth` (`S3SigV4Auth`
//! for `s3`) sets for the same request, credentials and time (`botocore_sigv4.py`).
//!
//! botocore lives in the venv `scripts/install-key-managers.sh` makes. Without it the test
//! skips loudly, unless `CI=true`, which turns the absence into a failure.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, SystemTime};

use secrecy::SecretString;
use serde_json::{Value, json};
use vault_core::signing::{RequestSigner as _, SigV4Params};
use vault_core::upstream::{OutgoingRequest, RequestPurpose};
use vault_request_signer::RingRequestSigner;

const INSTALL: &str = "scripts/install-key-managers.sh";

/// AWS's documentation example key (fixed test values, safe to show in a failure).
const ACCESS_KEY_ID: &str = "AKIDEXAMPLE";
const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
/// With `/`, `+` and `=`, as real session tokens have.
const SESSION_TOKEN: &str = "FQoGZXIvYXdzEXAMPLE//////////wEaDPq+Fake/Token+Value==";

/// 2015-08-30T12:36:00Z, the time of AWS's SigV4 test suite.
const AWS_SUITE_TIME: u64 = 1_440_938_160;
/// 2025-12-31T23:59:59Z: the last second of a day and a year (the scope's date).
const YEAR_END: u64 = 1_767_225_599;
/// 2024-02-29T00:00:00Z.
const LEAP_DAY: u64 = 1_709_164_800;

/// Not UTF-8 (0xff, a lone continuation byte, a truncated sequence), with NUL, CR and LF.
const BINARY: &[u8] = &[
    0x00, 0xff, 0xfe, 0x80, 0xc3, 0x28, 0x0a, 0x0d, 0xa0, 0xf0, 0x9f, 0x92,
];

struct Case {
    name: &'static str,
    method: &'static str,
    /// Parsed by `url`, so the signers see the URL as the vault would send it.
    url: &'static str,
    /// Appended in order: a name given twice is sent twice.
    headers: &'static [(&'static str, &'static str)],
    body: &'static [u8],
    region: &'static str,
    service: &'static str,
    session_token: bool,
    unsigned_payload: bool,
    content_sha256_header: bool,
    at: u64,
}

const API: Case = Case {
    name: "",
    method: "GET",
    url: "https://abc123.execute-api.eu-west-1.amazonaws.com/prod/items",
    headers: &[],
    body: b"",
    region: "eu-west-1",
    service: "execute-api",
    session_token: false,
    unsigned_payload: false,
    content_sha256_header: false,
    at: AWS_SUITE_TIME,
};

/// S3 as the vault signs it: the body's hash always sent in `x-amz-content-sha256`.
const S3: Case = Case {
    name: "",
    url: "https://bucket.s3.eu-west-1.amazonaws.com/key",
    service: "s3",
    content_sha256_header: true,
    ..API
};

const STS: Case = Case {
    name: "",
    method: "POST",
    url: "https://sts.amazonaws.com/",
    headers: &[(
        "content-type",
        "application/x-www-form-urlencoded; charset=utf-8",
    )],
    body: b"Action=GetCallerIdentity&Version=2011-06-15",
    region: "us-east-1",
    service: "sts",
    ..API
};

const DYNAMODB: Case = Case {
    name: "",
    method: "POST",
    url: "https://dynamodb.us-west-2.amazonaws.com/",
    headers: &[
        ("content-type", "application/x-amz-json-1.0"),
        ("x-amz-target", "DynamoDB_20120810.ListTables"),
    ],
    body: b"{}",
    region: "us-west-2",
    service: "dynamodb",
    ..API
};

#[rustfmt::skip]
const CASES: &[Case] = &[
    Case { name: "plain GET", ..API },
    Case {
        name: "query: spaces, +, = and & inside values, reserved characters",
        url: "https://abc123.execute-api.eu-west-1.amazonaws.com/prod/search?q=hello world&plus=1%2B1&form-space=a+b&expr=a=b=c&amp=x%26y&tilde=~&star=*&paren=(x)&slash=a/b&colon=a:b",
        ..API
    },
    Case {
        name: "query: unicode, repeated keys, keys without value",
        url: "https://abc123.execute-api.eu-west-1.amazonaws.com/prod/search?name=café&tag=zeta&tag=alpha&tag=Alpha&flag&empty=&ключ=значение&emoji=💳",
        ..API
    },
    Case {
        name: "query: already percent-encoded, lower-case hex",
        url: "https://abc123.execute-api.eu-west-1.amazonaws.com/prod/search?a=%7e%41&b=%2f%3F&c=%20%2520&%5Bk%5D=v",
        ..API
    },
    Case {
        name: "path: spaces, %2F, unicode, sub-delimiters",
        url: "https://abc123.execute-api.eu-west-1.amazonaws.com/prod/a b/x%2Fy/café/caf%C3%A9/x+y=z:@!$'()*,;",
        ..API
    },
    // `url` resolves `.` and `..` on parsing, so both signers get `/prod/b//c///d/`.
    Case {
        name: "path: . and .. segments, // and a trailing slash",
        url: "https://abc123.execute-api.eu-west-1.amazonaws.com/prod/./a/../b//c///d/",
        ..API
    },
    Case {
        name: "path: dotted names that are not dot segments",
        url: "https://abc123.execute-api.eu-west-1.amazonaws.com/prod/.../a.b/.hidden/x.",
        ..API
    },
    Case {
        name: "headers: inner, leading and trailing spaces",
        headers: &[
            ("x-custom", "  a   b  c  "),
            ("x-amz-meta-list", " one ,  two "),
            ("X-Mixed-Case", "Value"),
        ],
        ..API
    },
    Case {
        name: "headers: a name given twice",
        headers: &[("x-repeat", "first"), ("x-other", "o"), ("x-repeat", "  second   value ")],
        ..API
    },
    Case {
        name: "headers: an explicit host, a stale x-amz-date and a caller's authorization",
        headers: &[
            ("host", "abc123.execute-api.eu-west-1.amazonaws.com"),
            ("x-amz-date", "20000101T000000Z"),
            ("authorization", "Bearer not-aws"),
        ],
        ..API
    },
    Case {
        name: "headers: user-agent, tracing and hop-by-hop headers",
        method: "PUT",
        headers: &[
            ("user-agent", "vault/1.0"),
            ("x-amzn-trace-id", "Root=1-5759e988-bd862e3fe1be46a994272793"),
            ("traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"),
            ("tracestate", "vendor=value"),
            ("baggage", "user=alice"),
            ("expect", "100-continue"),
            ("connection", "keep-alive"),
            ("keep-alive", "timeout=5"),
            ("te", "trailers"),
            ("upgrade", "h2c"),
            ("proxy-authorization", "Basic eDp5"),
            ("content-type", "text/plain"),
        ],
        body: b"kept",
        ..API
    },
    Case {
        name: "body: binary (not UTF-8), with content-length",
        method: "PUT",
        headers: &[("content-type", "application/octet-stream"), ("content-length", "12")],
        body: BINARY,
        ..API
    },
    Case {
        name: "x-amz-content-sha256 on a service other than s3",
        method: "POST",
        headers: &[("content-type", "application/json")],
        body: br#"{"a":1}"#,
        content_sha256_header: true,
        ..API
    },
    Case {
        name: "non-default port, https",
        url: "https://api.example.com:8443/prod/items?page=2",
        ..API
    },
    Case {
        name: "default port written out",
        url: "https://api.example.com:443/prod/items",
        ..API
    },
    Case { name: "sts: form body, session token", session_token: true, ..STS },
    Case {
        name: "sts: empty body",
        headers: &[],
        body: b"",
        at: YEAR_END,
        ..STS
    },
    Case {
        name: "sts: GET with the action in the query",
        method: "GET",
        url: "https://sts.eu-west-1.amazonaws.com/?Action=GetCallerIdentity&Version=2011-06-15",
        headers: &[],
        body: b"",
        region: "eu-west-1",
        ..STS
    },
    Case { name: "dynamodb: JSON body", ..DYNAMODB },
    Case {
        name: "dynamodb: unicode JSON body, session token",
        headers: &[
            ("content-type", "application/x-amz-json-1.0"),
            ("x-amz-target", "DynamoDB_20120810.GetItem"),
        ],
        body: "{\"TableName\":\"vault ü\",\"Key\":{\"id\":{\"S\":\"€\"}}}".as_bytes(),
        session_token: true,
        at: LEAP_DAY,
        ..DYNAMODB
    },
    Case { name: "s3: GET", ..S3 },
    Case {
        name: "s3: key with spaces, +, =, %2F, unicode and sub-delimiters",
        url: "https://bucket.s3.eu-west-1.amazonaws.com/photos/2024/a b+c=d%2Fe/café ü (1).jpg",
        ..S3
    },
    Case {
        name: "s3: key with // and a trailing slash (not normalized)",
        url: "https://s3.eu-west-1.amazonaws.com/bucket//key//with/.../x/",
        ..S3
    },
    Case {
        name: "s3: ListObjectsV2 query with /, + and = in values",
        url: "https://bucket.s3.amazonaws.com/?list-type=2&prefix=a b/&delimiter=/&continuation-token=1/abc%2Bdef==&fetch-owner",
        region: "us-east-1",
        ..S3
    },
    Case {
        name: "s3: PUT, signed binary body, metadata with spaces",
        method: "PUT",
        url: "https://bucket.s3.eu-west-1.amazonaws.com/dir/object.bin",
        headers: &[
            ("content-type", "application/octet-stream"),
            ("x-amz-meta-note", "  spaced   out "),
        ],
        body: BINARY,
        ..S3
    },
    Case {
        name: "s3: PUT, UNSIGNED-PAYLOAD, session token",
        method: "PUT",
        url: "https://bucket.s3.eu-west-1.amazonaws.com/dir/unsigned object.bin",
        headers: &[("content-type", "application/octet-stream")],
        body: BINARY,
        session_token: true,
        unsigned_payload: true,
        at: YEAR_END,
        ..S3
    },
    Case {
        name: "s3: plain http on a non-default port (a local S3)",
        method: "DELETE",
        url: "http://localhost:4566/bucket/a%20key",
        region: "us-east-1",
        ..S3
    },
];

/// The python of the venv, if it imports botocore.
fn python_with_botocore() -> Option<PathBuf> {
    let python = Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .expect("crates/vault-request-signer is two levels down")
        .join("target/key-managers/venv/bin/python");
    let imports = Command::new(&python)
        .args(["-c", "import botocore.auth"])
        .output()
        .is_ok_and(|out| out.status.success());
    if imports {
        return Some(python);
    }
    let why = format!("{} cannot import botocore", python.display());
    assert!(
        !std::env::var("CI").is_ok_and(|v| v == "true"),
        "{why}, and CI=true requires it: run {INSTALL}"
    );
    eprintln!("\n*** SKIPPED: {why}; run {INSTALL} (under CI=true this is a failure) ***\n");
    None
}

fn request(case: &Case) -> OutgoingRequest {
    let mut headers = http::HeaderMap::new();
    for (name, value) in case.headers {
        headers.append(
            http::HeaderName::from_bytes(name.as_bytes()).expect("a header name"),
            http::HeaderValue::from_static(value),
        );
    }
    OutgoingRequest {
        method: http::Method::from_bytes(case.method.as_bytes()).expect("a method"),
        url: url::Url::parse(case.url).expect("a URL"),
        headers,
        body: case.body.to_vec(),
        purpose: RequestPurpose::Proxy,
        tls: None,
    }
}

/// Standard base64 with padding (what Python's `b64decode` reads).
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let word = chunk.iter().enumerate().fold(0_u32, |word, (i, &byte)| {
            word | u32::from(byte) << (16 - 8 * i)
        });
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[(word >> (18 - 6 * i) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// What `botocore_sigv4.py` is given for `case` sent as `request`.
fn botocore_input(case: &Case, request: &OutgoingRequest) -> Value {
    let headers: Vec<[&str; 2]> = request
        .headers
        .iter()
        .map(|(name, value)| [name.as_str(), value.to_str().expect("ASCII header values")])
        .collect();
    json!({
        "name": case.name,
        "method": request.method.as_str(),
        "url": request.url.as_str(),
        "headers": headers,
        "body": base64(&request.body),
        "access_key_id": ACCESS_KEY_ID,
        "secret_access_key": SECRET,
        "session_token": case.session_token.then_some(SESSION_TOKEN),
        "region": case.region,
        "service": case.service,
        "unsigned_payload": case.unsigned_payload,
        "content_sha256_header": case.content_sha256_header,
        "time": case.at,
    })
}

/// botocore's headers for each input, in order.
fn botocore_sign(python: &Path, input: &[Value]) -> Vec<Value> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/botocore_sigv4.py");
    let mut child = Command::new(python)
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn python");
    let stdin = child.stdin.take().expect("stdin");
    serde_json::to_writer(&stdin, input).expect("write the requests");
    drop(stdin);
    let out = child.wait_with_output().expect("wait for python");
    assert!(
        out.status.success(),
        "botocore_sigv4.py failed ({}): {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("botocore_sigv4.py prints a JSON list")
}

#[test]
fn sigv4_headers_are_botocores() {
    let Some(python) = python_with_botocore() else {
        return;
    };
    let requests: Vec<OutgoingRequest> = CASES.iter().map(request).collect();
    let input: Vec<Value> = CASES
        .iter()
        .zip(&requests)
        .map(|(case, request)| botocore_input(case, request))
        .collect();
    let expected = botocore_sign(&python, &input);
    assert_eq!(expected.len(), CASES.len(), "one answer per request");

    let secret = SecretString::from(SECRET.to_owned());
    let token = SecretString::from(SESSION_TOKEN.to_owned());
    let mut mismatches = Vec::new();
    for ((case, request), theirs) in CASES.iter().zip(&requests).zip(&expected) {
        let params = SigV4Params {
            access_key_id: ACCESS_KEY_ID,
            secret_access_key: &secret,
            session_token: case.session_token.then_some(&token),
            region: case.region,
            service: case.service,
            unsigned_payload: case.unsigned_payload,
            content_sha256_header: case.content_sha256_header,
            at: SystemTime::UNIX_EPOCH + Duration::from_secs(case.at),
        };
        let added = RingRequestSigner
            .sigv4(request, &params)
            .unwrap_or_else(|e| panic!("{}: {e}", case.name));
        for (name, value) in &added {
            let secret_bearing =
                *name == http::header::AUTHORIZATION || name == "x-amz-security-token";
            assert_eq!(
                value.is_sensitive(),
                secret_bearing,
                "{}: {name} sensitivity",
                case.name
            );
        }
        let ours: BTreeMap<&str, &str> = added
            .iter()
            .map(|(name, value)| (name.as_str(), value.to_str().expect("ASCII")))
            .collect();
        assert_eq!(
            ours.len(),
            added.len(),
            "{}: a header added twice",
            case.name
        );
        let names = [
            "authorization",
            "x-amz-date",
            "x-amz-security-token",
            "x-amz-content-sha256",
        ];
        for name in ours.keys() {
            assert!(
                names.contains(name),
                "{}: unexpected header {name}",
                case.name
            );
        }
        for name in names {
            let theirs_value = theirs[name].as_str();
            if ours.get(name).copied() != theirs_value {
                mismatches.push(format!(
                    "{}: {name}\n  ours:     {:?}\n  botocore: {theirs_value:?}\n  botocore's canonical request:\n{}",
                    case.name,
                    ours.get(name),
                    theirs["canonical_request"].as_str().unwrap_or_default(),
                ));
            }
        }
    }
    assert!(
        mismatches.is_empty(),
        "{} header(s) differ from botocore's:\n\n{}",
        mismatches.len(),
        mismatches.join("\n\n")
    );
}
