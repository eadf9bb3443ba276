//! Reading JSON bodies by hand: a size limit, a content-type check, and field-by-field
//! extraction so that every problem names its field and no error message ever echoes a
//! submitted value (serde's own messages quote the offending value, which could be a
//! secret).

use actix_web::HttpRequest;
use actix_web::http::header;
use std::time::Duration;

use actix_web::web::{Data, Payload};
use futures::StreamExt;
use secrecy::SecretString;
use serde_json::{Map, Value};
use vault_core::{Patch, ValidationErrors};
use zeroize::Zeroizing;

use crate::ApiConfig;
use crate::error::ApiError;

/// Reads the whole body, refusing anything but JSON and anything over `limit` bytes. The
/// buffer is wiped after use: it may hold secret values.
///
/// # Errors
/// 415 for another content type, 413 over the limit, 400 when the body cannot be read.
pub(crate) async fn read_json_body(
    req: &HttpRequest,
    mut payload: Payload,
    limit: usize,
) -> Result<Map<String, Value>, ApiError> {
    let is_json = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|essence| {
            let essence = essence.trim().to_ascii_lowercase();
            essence == "application/json"
                || (essence.starts_with("application/") && essence.ends_with("+json"))
        })
        .unwrap_or(false);
    if !is_json {
        return Err(ApiError::UnsupportedMediaType);
    }
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > limit) {
        return Err(ApiError::PayloadTooLarge(limit));
    }
    let mut body = Zeroizing::new(Vec::with_capacity(declared.unwrap_or(1024).min(limit)));
    let timeout = req
        .app_data::<Data<ApiConfig>>()
        .map_or(Duration::from_secs(10), |c| c.body_timeout);
    // A slow sender must not hold a worker's connection forever; reading is cancel-safe.
    tokio::time::timeout(timeout, async {
        while let Some(chunk) = payload.next().await {
            let chunk = chunk.map_err(|_| ApiError::BadBody)?;
            if body.len() + chunk.len() > limit {
                return Err(ApiError::PayloadTooLarge(limit));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(())
    })
    .await
    .map_err(|_| ApiError::BodyTimeout)??;
    parse_json_object(&body)
}

/// Parses a body as a JSON object: 400 for malformed JSON or any other JSON value.
pub(crate) fn parse_json_object(body: &[u8]) -> Result<Map<String, Value>, ApiError> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(ApiError::NotAnObject),
        Err(_) => Err(ApiError::MalformedJson),
    }
}

/// Rejects the first field not in `allowed` (a 400: the caller sent something this
/// endpoint does not know, which is usually a typo that would otherwise be ignored).
pub(crate) fn reject_unknown(
    map: &Map<String, Value>,
    allowed: &[&str],
    prefix: &str,
) -> Result<(), ApiError> {
    match map.keys().find(|k| !allowed.contains(&k.as_str())) {
        Some(unknown) => Err(ApiError::UnknownField(format!("{prefix}{unknown}"))),
        None => Ok(()),
    }
}

/// Takes fields out of a JSON object, recording type errors by field name.
pub(crate) struct Fields {
    map: Map<String, Value>,
    pub(crate) errors: ValidationErrors,
}

impl Fields {
    pub(crate) fn new(map: Map<String, Value>) -> Self {
        Self {
            map,
            errors: ValidationErrors::default(),
        }
    }

    fn wrong(&mut self, field: &str, expected: &str) {
        self.errors.add(field, format!("must be {expected}"));
    }

    pub(crate) fn contains(&self, field: &str) -> bool {
        self.map.contains_key(field)
    }

    /// A string field; absent is `None`, any other JSON type (null included) an error.
    pub(crate) fn string(&mut self, field: &str) -> Option<String> {
        match self.map.remove(field) {
            None => None,
            Some(Value::String(s)) => Some(s),
            Some(_) => {
                self.wrong(field, "a string");
                None
            }
        }
    }

    /// A secret string: moved straight into a type that wipes it on drop.
    pub(crate) fn secret(&mut self, field: &str) -> Option<SecretString> {
        self.string(field).map(SecretString::from)
    }

    /// A string that may be null (to clear it on update).
    pub(crate) fn nullable_string(&mut self, field: &str) -> Patch<String> {
        match self.map.remove(field) {
            None => Patch::Absent,
            Some(Value::Null) => Patch::Null,
            Some(Value::String(s)) => Patch::Value(s),
            Some(_) => {
                self.wrong(field, "a string or null");
                Patch::Absent
            }
        }
    }

    pub(crate) fn string_array(&mut self, field: &str) -> Option<Vec<String>> {
        match self.map.remove(field) {
            None => None,
            Some(Value::Array(items)) => {
                let mut out = Vec::with_capacity(items.len());
                for item in items {
                    match item {
                        Value::String(s) => out.push(s),
                        _ => {
                            self.wrong(field, "an array of strings");
                            return None;
                        }
                    }
                }
                Some(out)
            }
            Some(_) => {
                self.wrong(field, "an array of strings");
                None
            }
        }
    }

    /// An array of strings that may be null (to clear it on update).
    pub(crate) fn nullable_string_array(&mut self, field: &str) -> Patch<Vec<String>> {
        if matches!(self.map.get(field), Some(Value::Null)) {
            self.map.remove(field);
            return Patch::Null;
        }
        let present = self.map.contains_key(field);
        match self.string_array(field) {
            Some(items) => Patch::Value(items),
            None if present => Patch::Absent, // the type error is recorded
            None => Patch::Absent,
        }
    }

    pub(crate) fn integer(&mut self, field: &str) -> Option<i64> {
        match self.map.remove(field) {
            None => None,
            Some(Value::Number(n)) if n.is_i64() => n.as_i64(),
            Some(_) => {
                self.wrong(field, "an integer");
                None
            }
        }
    }

    pub(crate) fn object(&mut self, field: &str) -> Option<Map<String, Value>> {
        match self.map.remove(field) {
            None => None,
            Some(Value::Object(map)) => Some(map),
            Some(_) => {
                self.wrong(field, "an object");
                None
            }
        }
    }

    /// An object of string values whose values are secret (custom headers).
    pub(crate) fn secret_map(&mut self, field: &str) -> Option<Vec<(String, SecretString)>> {
        let map = self.object(field)?;
        let mut out = Vec::with_capacity(map.len());
        let mut bad = false;
        for (name, value) in map {
            match value {
                Value::String(s) => out.push((name, SecretString::from(s))),
                _ => bad = true,
            }
        }
        if bad {
            self.wrong(field, "an object whose values are strings");
            return None;
        }
        Some(out)
    }
}
