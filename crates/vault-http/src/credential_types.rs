//! `GET /credential-types`: every credential type as vault-core describes it (its fields,
//! which are secret, which are required and when). The console builds its form from this,
//! so a new type needs no change to the page.

use actix_web::web::Data;
use actix_web::{HttpRequest, HttpResponse};
use vault_core::credential_types::SPECS;
use vault_core::{Store, Vault};

use crate::auth::authenticate;
use crate::error::ApiError;

#[utoipa::path(
    get,
    path = "/credential-types",
    operation_id = "listCredentialTypes",
    summary = "Describe the credential types",
    tag = "credentials",
    description = "Every credential type: its fields, which of them are secret (sealed, never shown again) and when each is required. Any valid access key may read it.",
    responses(
        (status = 200, description = "The types, in a fixed order", body = crate::openapi::CredentialTypeList),
    )
)]
pub(crate) async fn list<S: Store>(
    req: HttpRequest,
    vault: Data<Vault<S>>,
) -> Result<HttpResponse, ApiError> {
    authenticate(&req, &vault).await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "items": SPECS })))
}

#[cfg(test)]
mod tests {
    //! Every surface knows exactly the types of vault-core's one list, with their fields.

    use std::collections::BTreeSet;

    use serde_json::Value;
    use vault_core::CredentialType;
    use vault_core::credential_types::{Required, SPECS};

    fn names() -> BTreeSet<String> {
        CredentialType::ALL
            .iter()
            .map(|t| t.as_str().to_owned())
            .collect()
    }

    fn strings(value: &Value) -> BTreeSet<String> {
        value
            .as_array()
            .map(|items| {
                items
                    .iter()
                    .filter_map(|v| v.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    }

    #[test]
    fn the_openapi_document_has_a_create_schema_per_type_with_its_fields() {
        let doc = serde_json::to_value(crate::openapi()).expect("document");
        let schemas = &doc["components"]["schemas"];
        assert_eq!(strings(&schemas["CredentialType"]["enum"]), names());
        let mapping = schemas["CredentialCreate"]["discriminator"]["mapping"]
            .as_object()
            .expect("a discriminator mapping");
        assert_eq!(mapping.keys().cloned().collect::<BTreeSet<_>>(), names());
        assert_eq!(
            schemas["CredentialCreate"]["oneOf"]
                .as_array()
                .map(Vec::len),
            Some(SPECS.len())
        );
        let view = &schemas["Credential"]["properties"];
        for spec in SPECS {
            let target = mapping[spec.credential_type.as_str()]
                .as_str()
                .expect("a reference");
            let create = doc
                .pointer(target.trim_start_matches('#'))
                .expect("the mapping resolves");
            let own = &create["allOf"][1];
            let properties: BTreeSet<String> = own["properties"]
                .as_object()
                .expect("properties")
                .keys()
                .cloned()
                .collect();
            let expected: BTreeSet<String> = std::iter::once("type")
                .chain(spec.field_names())
                .map(str::to_owned)
                .collect();
            assert_eq!(properties, expected, "{}", spec.credential_type);
            assert_eq!(
                strings(&own["properties"]["type"]["enum"]),
                BTreeSet::from([spec.credential_type.as_str().to_owned()])
            );
            let required = strings(&own["required"]);
            for field in spec.fields {
                let schema = &own["properties"][field.name];
                assert_eq!(
                    required.contains(field.name),
                    field.required == Required::Always,
                    "{}.{}",
                    spec.credential_type,
                    field.name
                );
                assert_eq!(
                    schema["writeOnly"].as_bool().unwrap_or(false),
                    field.is_secret(),
                    "{}.{}",
                    spec.credential_type,
                    field.name
                );
                // The view shows every public field and no secret one.
                assert_eq!(
                    view.get(field.name).is_some(),
                    !field.is_secret(),
                    "{}.{}",
                    spec.credential_type,
                    field.name
                );
                let update = &doc["components"]["schemas"]["CredentialUpdate"]["properties"];
                assert!(
                    update.get(field.name).is_some(),
                    "PATCH takes {}",
                    field.name
                );
            }
            for field in spec.derived {
                assert!(
                    view.get(field.name).is_some(),
                    "the view shows {}",
                    field.name
                );
            }
        }
    }

    /// Every key in a JSON value, at any depth.
    fn keys(value: &Value, into: &mut BTreeSet<String>) {
        match value {
            Value::Object(map) => {
                for (key, inner) in map {
                    into.insert(key.clone());
                    keys(inner, into);
                }
            }
            Value::Array(items) => items.iter().for_each(|v| keys(v, into)),
            _ => {}
        }
    }

    #[test]
    fn the_types_are_served_in_camel_case_down_to_the_shape_parameters() {
        let mut all = BTreeSet::new();
        keys(&serde_json::to_value(SPECS).expect("json"), &mut all);
        for key in [
            "maxLength",
            "defaultName",
            "defaultPrefix",
            "oneOf",
            "names",
        ] {
            assert!(all.contains(key), "{key}");
        }
        let snake: Vec<&String> = all.iter().filter(|k| k.contains('_')).collect();
        assert!(snake.is_empty(), "{snake:?}");
    }

    const INDEX_HTML: &str = include_str!("console/index.html");
    const APP_JS: &str = include_str!("console/app.js");

    /// True when `text` uses `name` as code does: a string literal (`'name'`, `"name"`, an
    /// attribute value) or a property (`.name`). Prose that happens to use the word (a
    /// label saying "query parameter") is not naming a field.
    fn uses_name(text: &str, name: &str) -> bool {
        let quoted = [
            format!("'{name}'"),
            format!("\"{name}\""),
            format!("`{name}`"),
        ];
        if quoted.iter().any(|q| text.contains(q.as_str())) {
            return true;
        }
        text.match_indices(&format!(".{name}")).any(|(at, found)| {
            text[at + found.len()..]
                .chars()
                .next()
                .is_none_or(|c| !c.is_ascii_alphanumeric() && c != '_')
        })
    }

    /// The console builds its form, details and type filter from `GET /credential-types`,
    /// so it cannot drift from vault-core's list: it names no type and no type's field.
    #[test]
    fn the_console_names_no_credential_type_and_no_type_field() {
        // Field names that are also words the page needs for itself: an input's `value`
        // and `password` type, the shape kinds `secret` and `placement`, a request's
        // `headers`, an access key's `scopes`, and the connect response's
        // `authorizationUrl`.
        const OWN_WORDS: [&str; 7] = [
            "value",
            "password",
            "secret",
            "placement",
            "headers",
            "scopes",
            "authorizationUrl",
        ];
        let page = format!("{INDEX_HTML}\n{APP_JS}");
        let text = page.to_ascii_lowercase();
        for spec in SPECS {
            let kind = spec.credential_type.as_str();
            assert!(!text.contains(kind), "the console names the type {kind}");
            for field in spec.fields.iter().chain(spec.derived) {
                if OWN_WORDS.contains(&field.name) {
                    continue;
                }
                assert!(
                    !uses_name(&page, field.name),
                    "the console names {kind}'s field {}",
                    field.name
                );
            }
        }
    }
}
