//! The credential schemas of the document, derived from vault-core's description of each
//! type: one create schema per type under a discriminator on `type`, the patch schema, the
//! list of type names, and the typed fields of the credential view. A new type appears
//! here without an edit.

use serde_json::{Map, Value, json};
use utoipa::Modify;
use utoipa::openapi::{OpenApi, RefOr, Schema};
use vault_core::CredentialType;
use vault_core::credential_types::{FieldShape, FieldSpec, Required, SPECS, TypeSpec};

/// Puts the derived schemas into the document (over the placeholders the handlers'
/// annotations refer to).
pub(super) struct CredentialSchemas;

impl Modify for CredentialSchemas {
    fn modify(&self, openapi: &mut OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        let schemas = &mut components.schemas;
        for spec in SPECS {
            schemas.insert(create_name(spec.credential_type), parse(create(spec)));
        }
        schemas.insert("CredentialCreate".to_owned(), parse(create_union()));
        schemas.insert("CredentialUpdate".to_owned(), parse(update()));
        schemas.insert("CredentialType".to_owned(), parse(type_names()));
        if let Some(view) = schemas.get_mut("Credential") {
            let mut value = serde_json::to_value(&*view).unwrap_or_default();
            if let Some(properties) = value["properties"].as_object_mut() {
                properties.extend(view_fields());
            }
            *view = parse(value);
        }
    }
}

/// `ApiKeyCreate` for `api_key`: each underscore-separated part capitalised.
pub(super) fn create_name(kind: CredentialType) -> String {
    let mut name: String = kind
        .as_str()
        .split('_')
        .map(|part| {
            let mut chars = part.chars();
            chars.next().map_or_else(String::new, |first| {
                first.to_ascii_uppercase().to_string() + chars.as_str()
            })
        })
        .collect();
    name.push_str("Create");
    name
}

fn reference(name: &str) -> Value {
    json!({ "$ref": format!("#/components/schemas/{name}") })
}

/// The JSON schema of one field's value.
fn shape(field: &FieldSpec) -> Value {
    let mut schema = match field.shape {
        FieldShape::Text { max_length } => {
            json!({ "type": "string", "minLength": 1, "maxLength": max_length })
        }
        FieldShape::Url => json!({ "type": "string", "format": "uri", "minLength": 1 }),
        FieldShape::Choice { options } => json!({ "type": "string", "enum": options }),
        FieldShape::TextList => json!({ "type": "array", "items": { "type": "string" } }),
        FieldShape::Integer { minimum, maximum } => {
            json!({ "type": "integer", "minimum": minimum, "maximum": maximum })
        }
        FieldShape::Object => json!({ "type": "object", "additionalProperties": true }),
        FieldShape::Placement { .. } => {
            return json!({ "allOf": [reference("Placement")], "description": field.description });
        }
        FieldShape::Secret { .. } | FieldShape::SecretPem => {
            json!({ "type": "string", "minLength": 1, "writeOnly": true })
        }
        FieldShape::SecretMap { .. } => json!({
            "type": "object",
            "additionalProperties": { "type": "string" },
            "writeOnly": true,
        }),
    };
    schema["description"] = field.description.into();
    schema
}

/// A field's schema that also takes `null` (a patch clears the field with it).
fn nullable(mut schema: Value) -> Value {
    match schema.get("type").cloned() {
        Some(Value::String(kind)) => schema["type"] = json!([kind, "null"]),
        _ => schema = json!({ "anyOf": [schema, { "type": "null" }] }),
    }
    schema
}

/// `<Type>Create`: the common fields, `type` naming this type, and the type's own fields.
fn create(spec: &TypeSpec) -> Value {
    let mut properties = Map::new();
    properties.insert(
        "type".to_owned(),
        json!({ "type": "string", "enum": [spec.credential_type.as_str()] }),
    );
    let mut required = vec![json!("type")];
    for field in spec.fields {
        properties.insert(field.name.to_owned(), shape(field));
        if field.required == Required::Always {
            required.push(json!(field.name));
        }
    }
    json!({
        "title": spec.title,
        "description": spec.description,
        "allOf": [
            reference("CommonCreate"),
            { "type": "object", "properties": properties, "required": required },
        ],
    })
}

/// `CredentialCreate`: one of the types' create schemas, chosen by `type`.
fn create_union() -> Value {
    let variants: Vec<Value> = SPECS
        .iter()
        .map(|spec| reference(&create_name(spec.credential_type)))
        .collect();
    let mapping: Map<String, Value> = SPECS
        .iter()
        .map(|spec| {
            let name = create_name(spec.credential_type);
            (
                spec.credential_type.as_str().to_owned(),
                format!("#/components/schemas/{name}").into(),
            )
        })
        .collect();
    json!({
        "description": "`POST /credentials`: a flat object whose fields are chosen by `type` \
            (`GET /credential-types` describes them). Secret fields are write-only. Unknown \
            fields are a 400; wrong or missing per-type fields a 422 naming the field.",
        "oneOf": variants,
        "discriminator": { "propertyName": "type", "mapping": mapping },
    })
}

/// `CredentialUpdate`: any of the create fields but `type`; `null` clears `description`,
/// `expiresAt`, `allowedHosts`, `caBundle` and the fields each type marks nullable.
fn update() -> Value {
    let mut properties = Map::new();
    properties.insert(
        "name".to_owned(),
        json!({ "type": "string", "minLength": 1, "maxLength": 200 }),
    );
    properties.insert(
        "description".to_owned(),
        json!({ "type": ["string", "null"], "maxLength": 2000 }),
    );
    properties.insert(
        "expiresAt".to_owned(),
        json!({ "type": ["string", "null"], "format": "date-time" }),
    );
    properties.insert(
        "allowedHosts".to_owned(),
        json!({ "type": ["array", "null"], "items": { "type": "string" } }),
    );
    properties.insert(
        "caBundle".to_owned(),
        json!({ "type": ["string", "null"], "maxLength": 65536 }),
    );
    for field in SPECS.iter().flat_map(|spec| spec.fields) {
        let schema = shape(field);
        let schema = if field.nullable {
            nullable(schema)
        } else {
            schema
        };
        properties.entry(field.name.to_owned()).or_insert(schema);
    }
    json!({
        "description": "`PATCH /credentials/{id}`: any subset of the create fields but `type`. \
            New secret values are sealed as a new version.",
        "type": "object",
        "properties": properties,
    })
}

/// `CredentialType`: the type names.
fn type_names() -> Value {
    let names: Vec<&str> = SPECS.iter().map(|s| s.credential_type.as_str()).collect();
    json!({ "type": "string", "enum": names, "description": "The credential types." })
}

/// The typed public fields of the credential view: each type's non-secret fields and the
/// ones it derives, present for the types that have them.
fn view_fields() -> Map<String, Value> {
    let mut fields = Map::new();
    for spec in SPECS {
        for field in spec.fields.iter().chain(spec.derived) {
            if field.is_secret() {
                continue;
            }
            let mut schema = shape(field);
            if let Some(description) = schema.get_mut("description") {
                *description = format!("{} ({})", field.description, spec.credential_type).into();
            }
            fields.entry(field.name.to_owned()).or_insert(schema);
        }
    }
    fields
}

fn parse(value: Value) -> RefOr<Schema> {
    // Every value above is built from literals and the static type descriptions: one that
    // did not parse would fail every document test, not depend on input.
    serde_json::from_value(value).expect("a derived schema is a valid OpenAPI schema")
}
