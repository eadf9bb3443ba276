//! The templates of `hmac_signature`: text with `{placeholder}`s naming parts of the
//! request, the signing time, a nonce, the key's id and the signature. Stored and shown as
//! the text they were written as.

use std::fmt;
use std::time::SystemTime;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::{Config, Encoding, encode, timestamp};
use crate::signing::{HashAlgorithm, RequestSigner, SigningError};
use crate::upstream::OutgoingRequest;

/// A placeholder.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Part {
    /// The method, upper case.
    Method,
    /// The path, as sent (percent-encoded).
    Path,
    /// The query string without `?` (empty when none).
    Query,
    /// The path, then `?` and the query when there is one.
    PathAndQuery,
    /// The host, with the port when it is not the scheme's default.
    Host,
    /// The body's bytes.
    Body,
    /// The body's SHA-256, hex.
    BodySha256,
    /// The body's SHA-256, base64.
    BodySha256Base64,
    /// A request header's value (empty when absent).
    Header(String),
    /// The signing time.
    Timestamp,
    /// A random value, new for each request.
    Nonce,
    /// The key's public name.
    KeyId,
    /// The signature (headers only).
    Signature,
}

impl Part {
    fn parse(name: &str) -> Option<Self> {
        Some(match name {
            "method" => Self::Method,
            "path" => Self::Path,
            "query" => Self::Query,
            "pathAndQuery" => Self::PathAndQuery,
            "host" => Self::Host,
            "body" => Self::Body,
            "bodySha256" => Self::BodySha256,
            "bodySha256Base64" => Self::BodySha256Base64,
            "timestamp" => Self::Timestamp,
            "nonce" => Self::Nonce,
            "keyId" => Self::KeyId,
            "signature" => Self::Signature,
            other => {
                let header = other.strip_prefix("header:")?;
                http::HeaderName::from_bytes(header.as_bytes()).ok()?;
                Self::Header(header.to_ascii_lowercase())
            }
        })
    }

    /// True for the parts that come from the request itself.
    const fn of_request(&self) -> bool {
        matches!(
            self,
            Self::Method
                | Self::Path
                | Self::Query
                | Self::PathAndQuery
                | Self::Host
                | Self::Body
                | Self::BodySha256
                | Self::BodySha256Base64
                | Self::Header(_)
        )
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Segment {
    Text(String),
    Part(Part),
}

/// A parsed template, kept with its source text.
#[derive(Clone, PartialEq, Eq)]
pub struct Template {
    source: String,
    segments: Vec<Segment>,
}

impl fmt::Debug for Template {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Template({:?})", self.source)
    }
}

impl Template {
    /// Parses `source`: `{name}` is a placeholder, `\n` a line break, `\\` a backslash.
    ///
    /// # Errors
    /// Why it does not parse, in words for a field error.
    pub fn parse(source: &str) -> Result<Self, String> {
        if source.is_empty() {
            return Err("must not be empty".to_owned());
        }
        let mut segments = Vec::new();
        let mut text = String::new();
        let mut chars = source.chars();
        while let Some(c) = chars.next() {
            match c {
                '\\' => match chars.next() {
                    Some('n') => text.push('\n'),
                    Some('\\') => text.push('\\'),
                    _ => return Err("may escape only \\n and \\\\".to_owned()),
                },
                '{' => {
                    let mut name = String::new();
                    loop {
                        match chars.next() {
                            Some('}') => break,
                            Some(c) => name.push(c),
                            None => return Err("has a { without its }".to_owned()),
                        }
                    }
                    let part = Part::parse(&name)
                        .ok_or_else(|| format!("names an unknown placeholder {{{name}}}"))?;
                    if !text.is_empty() {
                        segments.push(Segment::Text(std::mem::take(&mut text)));
                    }
                    segments.push(Segment::Part(part));
                }
                '}' => return Err("has a } without its {".to_owned()),
                c if c.is_control() => return Err("must not hold control characters".to_owned()),
                c => text.push(c),
            }
        }
        if !text.is_empty() {
            segments.push(Segment::Text(text));
        }
        Ok(Self {
            source: source.to_owned(),
            segments,
        })
    }

    /// True when the template holds `part`.
    #[must_use]
    pub fn uses(&self, part: &Part) -> bool {
        self.segments.iter().any(|s| s == &Segment::Part(part.clone()))
    }

    /// The nonce in `value`, when this template is text around `{nonce}` alone (`msg_{nonce}`)
    /// and `value` is that text around a nonce of visible characters.
    #[must_use]
    pub fn nonce_in(&self, value: &str) -> Option<String> {
        fn text(segment: Option<&Segment>) -> Option<&str> {
            match segment {
                None => Some(""),
                Some(Segment::Text(text)) => Some(text.as_str()),
                Some(Segment::Part(_)) => None,
            }
        }
        let at = self.segments.iter().position(|s| s == &Segment::Part(Part::Nonce))?;
        if self.segments.len() > at + 2 || at > 1 {
            return None;
        }
        let prefix = if at == 1 { text(self.segments.first())? } else { "" };
        let suffix = text(self.segments.get(at + 1))?;
        let nonce = value.strip_prefix(prefix)?.strip_suffix(suffix)?;
        let visible = |c: char| c.is_ascii_graphic();
        (!nonce.is_empty() && nonce.len() <= 128 && nonce.chars().all(visible))
            .then(|| nonce.to_owned())
    }

    /// True when the template names a part of the request.
    #[must_use]
    pub fn names_request(&self) -> bool {
        self.segments
            .iter()
            .any(|s| matches!(s, Segment::Part(part) if part.of_request()))
    }

    /// The template with `values` and `signature` put in.
    pub(super) fn render(&self, values: &Values<'_>, signature: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        for segment in &self.segments {
            match segment {
                Segment::Text(text) => out.extend_from_slice(text.as_bytes()),
                Segment::Part(part) => out.extend_from_slice(values.value(part, signature)),
            }
        }
        out
    }
}

impl Serialize for Template {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.source)
    }
}

impl<'de> Deserialize<'de> for Template {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let source = String::deserialize(deserializer)?;
        Self::parse(&source).map_err(serde::de::Error::custom)
    }
}

/// What the placeholders stand for on one request, computed once for every template.
pub(super) struct Values<'a> {
    request: &'a OutgoingRequest,
    path_and_query: String,
    host: String,
    body_sha256_hex: String,
    body_sha256_base64: String,
    timestamp: String,
    nonce: String,
    key_id: &'a str,
}

impl<'a> Values<'a> {
    pub(super) fn of(
        request: &'a OutgoingRequest,
        signer: &dyn RequestSigner,
        config: &'a Config,
        at: SystemTime,
    ) -> Result<Self, SigningError> {
        let templates = || std::iter::once(&config.string_to_sign).chain(config.signature_headers.values());
        let url = &request.url;
        let path_and_query = match url.query() {
            Some(query) => format!("{}?{query}", url.path()),
            None => url.path().to_owned(),
        };
        let host = match (url.host_str(), url.port()) {
            (Some(host), Some(port)) => format!("{host}:{port}"),
            (host, _) => host.unwrap_or_default().to_owned(),
        };
        let digested = templates()
            .any(|t| t.uses(&Part::BodySha256) || t.uses(&Part::BodySha256Base64));
        let (body_sha256_hex, body_sha256_base64) = if digested {
            let digest = signer.digest(HashAlgorithm::Sha256, &request.body)?;
            (encode(Encoding::Hex, &digest), encode(Encoding::Base64, &digest))
        } else {
            (String::new(), String::new())
        };
        // A nonce the caller already sent is kept: a Standard Webhooks sender retrying a
        // message keeps its `webhook-id`, which is how receivers tell a retry.
        let pinned = config.signature_headers.iter().find_map(|(name, template)| {
            let sent = request.headers.get(name.as_str())?.to_str().ok()?;
            template.nonce_in(sent)
        });
        let nonce = match pinned {
            Some(nonce) => nonce,
            None if templates().any(|t| t.uses(&Part::Nonce)) => {
                uuid::Uuid::new_v4().simple().to_string()
            }
            None => String::new(),
        };
        Ok(Self {
            request,
            path_and_query,
            host,
            body_sha256_hex,
            body_sha256_base64,
            timestamp: timestamp(config.timestamp_format, at),
            nonce,
            key_id: config.key_id.as_deref().unwrap_or_default(),
        })
    }

    fn value<'s>(&'s self, part: &Part, signature: &'s [u8]) -> &'s [u8] {
        let url = &self.request.url;
        match part {
            Part::Method => self.request.method.as_str().as_bytes(),
            Part::Path => url.path().as_bytes(),
            Part::Query => url.query().unwrap_or_default().as_bytes(),
            Part::PathAndQuery => self.path_and_query.as_bytes(),
            Part::Host => self.host.as_bytes(),
            Part::Body => &self.request.body,
            Part::BodySha256 => self.body_sha256_hex.as_bytes(),
            Part::BodySha256Base64 => self.body_sha256_base64.as_bytes(),
            Part::Header(name) => self
                .request
                .headers
                .get(name.as_str())
                .map_or(&[][..], http::HeaderValue::as_bytes),
            Part::Timestamp => self.timestamp.as_bytes(),
            Part::Nonce => self.nonce.as_bytes(),
            Part::KeyId => self.key_id.as_bytes(),
            Part::Signature => signature,
        }
    }
}
