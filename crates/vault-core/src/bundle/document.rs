//! The plaintext inside a bundle: one JSON document. Each credential is written as the
//! create body that would make it (its public fields, as `POST /credentials` takes them,
//! and its secret values), so an import reads it exactly as a create body and checks it
//! by the same rules: a bundle can hold nothing a create would refuse.
//!
//! ```json
//! {"format": "vault-bundle/1", "organizationId": "...", "exportedAt": "...",
//!  "credentials": [{"id": "...", "createdAt": "...", "updatedAt": "...",
//!                   "currentVersion": 3, "restoreFloor": 0,
//!                   "credential": {"name": "...", "type": "api_key", "value": "..."},
//!                   "versions": [{"number": 3, "createdAt": "...", "restoredFrom": null,
//!                                 "secrets": {"value": "..."}}]}]}
//! ```
//!
//! The document is written into memory that is wiped when freed, and never to disk.

use std::io;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use time::OffsetDateTime;
use uuid::Uuid;
use zeroize::Zeroizing;

use crate::cipher::Plaintext;
use crate::credential::{Credential, CredentialSecrets};
use crate::credential_types::{Exposed, spec};
use crate::egress::AllowedHosts;
use crate::ids::{CredentialId, OrganizationId};
use crate::validation::FieldError;
use crate::versions::VersionInfo;

/// The document format this vault writes and reads.
pub const FORMAT: &str = "vault-bundle/1";

/// One credential as it is exported.
pub(crate) struct ExportedCredential<'a> {
    pub credential: &'a Credential,
    pub secrets: &'a CredentialSecrets,
    pub current_version: i64,
    pub restore_floor: i64,
    pub versions: &'a [ExportedVersion],
}

/// One version of a credential's secret values, opened.
pub(crate) struct ExportedVersion {
    pub info: VersionInfo,
    pub secrets: CredentialSecrets,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct EntryOut<'a> {
    id: CredentialId,
    #[serde(with = "time::serde::rfc3339")]
    created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    updated_at: OffsetDateTime,
    current_version: i64,
    restore_floor: i64,
    credential: BodyOut<'a>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    versions: Vec<VersionOut<'a>>,
}

/// A create body: the common fields, the type's public fields, its secret values.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct BodyOut<'a> {
    name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<&'a str>,
    #[serde(
        with = "time::serde::rfc3339::option",
        skip_serializing_if = "Option::is_none"
    )]
    expires_at: Option<OffsetDateTime>,
    allowed_hosts: &'a AllowedHosts,
    #[serde(skip_serializing_if = "Option::is_none")]
    ca_bundle: Option<&'a str>,
    #[serde(flatten)]
    public: Map<String, Value>,
    #[serde(flatten)]
    secrets: Exposed<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct VersionOut<'a> {
    number: i64,
    #[serde(with = "time::serde::rfc3339")]
    created_at: OffsetDateTime,
    restored_from: Option<i64>,
    secrets: Exposed<'a>,
}

/// The type and the public fields a create body takes, as the credential stores them
/// (what the vault derives, such as a certificate's subject, is left out).
fn public_fields(credential: &Credential) -> Map<String, Value> {
    let kind = credential.kind.as_stored();
    let spec = spec(kind.credential_type());
    let mut map = match serde_json::to_value(&*kind) {
        Ok(Value::Object(map)) => map,
        // A kind always serializes as an object tagged with its type.
        _ => Map::new(),
    };
    map.retain(|name, _| {
        name == "type"
            || spec
                .fields
                .iter()
                .any(|field| field.name == name && !field.is_secret())
    });
    map
}

/// Writes a document into memory that is wiped when freed.
pub(crate) struct DocumentWriter {
    out: WipingBuffer,
    first: bool,
}

impl DocumentWriter {
    pub(crate) fn new(organization: OrganizationId, at: OffsetDateTime) -> Self {
        let mut out = WipingBuffer::default();
        let head = serde_json::json!({
            "format": FORMAT,
            "organizationId": organization,
            "exportedAt": at.format(&time::format_description::well_known::Rfc3339).unwrap_or_default(),
        })
        .to_string();
        // `{...}` without its closing brace, then the credentials.
        let open = head.strip_suffix('}').unwrap_or(&head);
        io::Write::write_all(&mut out, open.as_bytes()).ok();
        io::Write::write_all(&mut out, b",\"credentials\":[").ok();
        Self { out, first: true }
    }

    /// Appends one credential.
    pub(crate) fn push(&mut self, entry: &ExportedCredential<'_>) -> Result<(), serde_json::Error> {
        let c = entry.credential;
        let out = EntryOut {
            id: c.id,
            created_at: c.created_at,
            updated_at: c.updated_at,
            current_version: entry.current_version,
            restore_floor: entry.restore_floor,
            credential: BodyOut {
                name: c.name.as_str(),
                description: c.description.as_ref().map(|d| d.as_str()),
                expires_at: c.expires_at,
                allowed_hosts: &c.allowed_hosts,
                ca_bundle: c.ca_bundle.as_ref().map(|b| b.as_str()),
                public: public_fields(c),
                secrets: entry.secrets.exposed(),
            },
            versions: entry
                .versions
                .iter()
                .map(|v| VersionOut {
                    number: v.info.number,
                    created_at: v.info.created_at,
                    restored_from: v.info.restored_from,
                    secrets: v.secrets.exposed(),
                })
                .collect(),
        };
        if !self.first {
            io::Write::write_all(&mut self.out, b",").map_err(serde_json::Error::io)?;
        }
        self.first = false;
        serde_json::to_writer(&mut self.out, &out)
    }

    /// Bytes written so far.
    pub(crate) fn len(&self) -> usize {
        self.out.0.len()
    }

    /// The finished document.
    pub(crate) fn finish(mut self) -> Plaintext {
        io::Write::write_all(&mut self.out, b"]}").ok();
        self.out.0
    }
}

/// A growing buffer that wipes what it leaves behind: a `Vec` grows by copying into a new
/// allocation and freeing the old one unwiped, which would scatter secret values.
#[derive(Default)]
struct WipingBuffer(Zeroizing<Vec<u8>>);

impl io::Write for WipingBuffer {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        let needed = self.0.len() + bytes.len();
        if needed > self.0.capacity() {
            let mut grown = Zeroizing::new(Vec::with_capacity(needed.max(4096) * 2));
            grown.extend_from_slice(&self.0);
            // The old allocation is wiped as it is dropped here.
            self.0 = grown;
        }
        self.0.extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// A document as read back: each credential's create body still unchecked.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct Document {
    pub format: String,
    pub organization_id: Uuid,
    #[serde(with = "time::serde::rfc3339")]
    pub exported_at: OffsetDateTime,
    pub credentials: Vec<Entry>,
}

/// One credential of a document.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct Entry {
    pub id: Uuid,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
    pub current_version: i64,
    pub restore_floor: i64,
    pub credential: Map<String, Value>,
    #[serde(default)]
    pub versions: Vec<Version>,
}

/// One version of a credential's secret values, still unchecked.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct Version {
    pub number: i64,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    pub restored_from: Option<i64>,
    pub secrets: Map<String, Value>,
}

/// Reads an opened bundle's document.
///
/// # Errors
/// On `bundle`, saying where the document stops being one (never what it holds there: it
/// may be a secret).
pub(crate) fn read(plaintext: &[u8]) -> Result<Document, FieldError> {
    let document: Document = serde_json::from_slice(plaintext).map_err(|error| {
        FieldError::new(
            "bundle",
            format!(
                "opened, but does not hold a vault export document (line {}, column {})",
                error.line(),
                error.column()
            ),
        )
    })?;
    if document.format != FORMAT {
        return Err(FieldError::new(
            "bundle",
            format!(
                "holds a document of format {:?}; this vault reads {FORMAT}",
                document.format.chars().take(40).collect::<String>()
            ),
        ));
    }
    Ok(document)
}

#[cfg(test)]
mod tests {
    use std::io::Write as _;

    use super::*;

    #[test]
    fn the_buffer_keeps_every_byte_as_it_grows() {
        let mut buffer = WipingBuffer::default();
        let mut expected = Vec::new();
        for i in 0..20_000u32 {
            let piece = i.to_string();
            buffer.write_all(piece.as_bytes()).expect("write");
            expected.extend_from_slice(piece.as_bytes());
        }
        assert_eq!(&*buffer.0, &expected);
    }

    #[test]
    fn a_document_of_another_format_or_shape_is_refused_without_echoing_it() {
        let other = br#"{"format":"vault-bundle/9","organizationId":"00000000-0000-7000-8000-000000000000","exportedAt":"2026-01-01T00:00:00Z","credentials":[]}"#;
        let refused = read(other).err().expect("refused");
        assert!(
            refused.message.contains("vault-bundle/9"),
            "{}",
            refused.message
        );
        let secret = br#"{"format":"vault-bundle/1","credentials":"sk_live_CANARY"}"#;
        let refused = read(secret).err().expect("refused");
        assert_eq!(refused.field, "bundle");
        assert!(!refused.message.contains("CANARY"), "{}", refused.message);
    }
}
