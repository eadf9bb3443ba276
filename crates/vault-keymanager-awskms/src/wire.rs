//! KMS's JSON messages: the requests this adapter sends and the parts of the answers it
//! reads.

use serde::{Deserialize, Serialize};
use vault_core::KeyManagerError;
use zeroize::Zeroizing;

use crate::client::Op;

/// `value` as JSON in a buffer of `capacity` that is wiped on drop (an Encrypt body holds
/// the keyring); sized up front so that growing it leaves no copy behind.
pub(crate) fn json_body(
    value: &impl Serialize,
    capacity: usize,
) -> Result<Zeroizing<Vec<u8>>, KeyManagerError> {
    let mut body = Zeroizing::new(Vec::with_capacity(capacity + 128));
    serde_json::to_writer(&mut *body, value)
        .map_err(|e| KeyManagerError::Backend(format!("AWS KMS: cannot encode a request: {e}")))?;
    Ok(body)
}

pub(crate) fn parse<T: for<'de> Deserialize<'de>>(
    op: Op,
    key_id: &str,
    body: &[u8],
) -> Result<T, KeyManagerError> {
    // serde_json's message names a position, never the input.
    serde_json::from_slice(body).map_err(|e| malformed(op, key_id, &e.to_string()))
}

pub(crate) fn malformed(op: Op, key_id: &str, why: &str) -> KeyManagerError {
    KeyManagerError::Backend(format!(
        "KMS {op} with key {key_id}: unexpected answer: {why}"
    ))
}

/// The encryption context: the vault's context under the key `vault`. KMS binds it to the
/// ciphertext (and logs it in CloudTrail: it is not secret).
#[derive(Serialize)]
pub(crate) struct VaultContext<'a> {
    pub(crate) vault: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct EncryptRequest<'a> {
    pub(crate) key_id: &'a str,
    pub(crate) plaintext: &'a str,
    pub(crate) encryption_context: VaultContext<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct DecryptRequest<'a> {
    pub(crate) ciphertext_blob: &'a str,
    pub(crate) key_id: &'a str,
    pub(crate) encryption_context: VaultContext<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct DescribeKeyRequest<'a> {
    pub(crate) key_id: &'a str,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct EncryptResponse {
    pub(crate) ciphertext_blob: String,
    pub(crate) key_id: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct DecryptResponse {
    pub(crate) key_id: String,
    /// The keyring in base64: moved into `Zeroizing` as soon as it is parsed.
    pub(crate) plaintext: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct DescribeKeyResponse {
    pub(crate) key_metadata: KeyMetadata,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct KeyMetadata {
    pub(crate) arn: String,
    pub(crate) key_state: Option<String>,
    pub(crate) key_usage: Option<String>,
    pub(crate) key_spec: Option<String>,
    pub(crate) customer_master_key_spec: Option<String>,
    pub(crate) deletion_date: Option<f64>,
}
