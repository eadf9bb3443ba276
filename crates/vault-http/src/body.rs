//! Reading JSON bodies by hand: a size limit, a content-type check, and field-by-field
//! extraction so that every problem names its field and no error message ever echoes a
//! submitted value (serde's own messages quote the offending value, which could be a
//! secret).

use actix_web::HttpRequest;
use actix_web::http::header;
use std::cell::RefCell;
use std::time::Duration;

use actix_web::web::{Data, Payload};
use futures::StreamExt;
use serde::de::{DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

use zeroize::Zeroizing;

pub(crate) use vault_core::input::JsonFields as Fields;

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

/// Parses a body as a JSON object: 400 for malformed JSON, any other JSON value, or a key
/// that appears twice in one object (at any depth).
pub(crate) fn parse_json_object(body: &[u8]) -> Result<Map<String, Value>, ApiError> {
    let duplicate = RefCell::new(None);
    let mut deserializer = serde_json::Deserializer::from_slice(body);
    // serde_json's own recursion limit (128 levels) still applies: this is a seed over the
    // same deserializer, not a second parser.
    let parsed = Strict {
        duplicate: &duplicate,
    }
    .deserialize(&mut deserializer)
    .and_then(|value| deserializer.end().map(|()| value));
    match parsed {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(ApiError::NotAnObject),
        Err(_) => match duplicate.into_inner() {
            Some(path) => Err(ApiError::DuplicateField(path)),
            None => Err(ApiError::MalformedJson),
        },
    }
}

/// Builds a [`Value`] in the one pass that parses it, refusing a key seen twice in one
/// object. serde_json keeps the last of two silently, and whoever reads the body next (a
/// proxy in front, an auditor's log) may keep the first: the caller and the vault must not
/// disagree on what was sent. The offending key's path is left in `duplicate`.
#[derive(Clone, Copy)]
struct Strict<'a> {
    duplicate: &'a RefCell<Option<String>>,
}

impl Strict<'_> {
    /// Prefixes the path of a duplicate found inside `segment`, on the way out.
    fn within<E>(self, segment: impl FnOnce() -> String) -> impl FnOnce(E) -> E {
        move |error| {
            if let Some(path) = self.duplicate.borrow_mut().as_mut() {
                *path = format!("{}.{path}", segment());
            }
            error
        }
    }
}

impl<'de> DeserializeSeed<'de> for Strict<'_> {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Strict<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(64));
        while let Some(item) = seq
            .next_element_seed(self)
            .map_err(self.within(|| items.len().to_string()))?
        {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Value, A::Error> {
        let mut map = Map::new();
        while let Some(key) = access.next_key::<String>()? {
            if map.contains_key(&key) {
                // Field names are echoed shortened, like unknown ones (`ApiError`).
                *self.duplicate.borrow_mut() = Some(key);
                return Err(serde::de::Error::custom("duplicate key"));
            }
            let value = access
                .next_value_seed(self)
                .map_err(self.within(|| key.clone()))?;
            map.insert(key, value);
        }
        Ok(Value::Object(map))
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

#[cfg(test)]
mod tests {
    use super::*;

    fn duplicate(body: &str) -> Option<String> {
        match parse_json_object(body.as_bytes()) {
            Err(ApiError::DuplicateField(path)) => Some(path),
            _ => None,
        }
    }

    #[test]
    fn a_key_twice_in_one_object_is_refused_at_any_depth() {
        assert_eq!(
            duplicate(r#"{"value":"a","value":"b"}"#).as_deref(),
            Some("value")
        );
        assert_eq!(
            duplicate(r#"{"headers":{"X-A":"1","X-A":"2"}}"#).as_deref(),
            Some("headers.X-A")
        );
        assert_eq!(
            duplicate(r#"{"a":[{"b":1},{"c":{"d":1,"d":2}}]}"#).as_deref(),
            Some("a.1.c.d")
        );
        // An escaped spelling of the same key is the same key.
        assert_eq!(
            duplicate(r#"{"value":"a","\u0076alue":"b"}"#).as_deref(),
            Some("value")
        );
        // The same key in different objects, and case variants, are fine.
        let map =
            parse_json_object(br#"{"a":{"k":1},"b":{"k":1},"K":{"k":[1,1.5,null,true]},"k":"x"}"#)
                .expect("valid");
        assert_eq!(map.len(), 4);
        assert_eq!(map["K"]["k"][1], serde_json::json!(1.5));
    }

    #[test]
    fn everything_else_parses_as_before() {
        assert!(matches!(
            parse_json_object(b"[1]"),
            Err(ApiError::NotAnObject)
        ));
        assert!(matches!(
            parse_json_object(b"{"),
            Err(ApiError::MalformedJson)
        ));
        assert!(matches!(
            parse_json_object(b"{} x"),
            Err(ApiError::MalformedJson)
        ));
        assert!(matches!(
            parse_json_object("[".repeat(10_000).as_bytes()),
            Err(ApiError::MalformedJson)
        ));
        let big = u64::MAX.to_string();
        let map = parse_json_object(format!(r#"{{"n":{big},"m":-1}}"#).as_bytes()).expect("valid");
        assert_eq!(map["n"], serde_json::json!(u64::MAX));
        assert_eq!(map["m"], serde_json::json!(-1));
    }
}
