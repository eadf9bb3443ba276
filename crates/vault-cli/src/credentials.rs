//! `vault credentials ...`: the flat JSON bodies of `/credentials`, built from flags and
//! secret input.

use std::io::BufRead as _;

use reqwest::Method;
use secrecy::ExposeSecret as _;
use serde_json::{Map, Value, json};

use crate::api::{Api, JsonBody, next_cursor};
use vault_core::CredentialType;
use vault_core::credential_types::{self, FieldShape, FieldSpec, Required};

use crate::cli::{CreateArgs, CredentialsCommand, ListArgs, PublicFields, SecretArgs, UpdateArgs};
use crate::error::CliError;
use crate::output::{self, cell, items, record, table};
use crate::secrets::{self, Shape, Source};
use crate::type_flags::{self, Given, TypeFlags};

/// What `get` shows first: what every credential has.
const COMMON: [&str; 4] = ["id", "name", "type", "description"];
/// What `get` shows last: where it may go, and the bookkeeping.
const BOOKKEEPING: [&str; 8] = [
    "connection",
    "allowedHosts",
    "expiresAt",
    "expired",
    "revision",
    "secretHints",
    "createdAt",
    "updatedAt",
];

/// The order `get` shows a credential's fields in: what every credential has, then each
/// type's public fields as its description lists them, then the bookkeeping.
fn field_order() -> Vec<&'static str> {
    let typed = credential_types::SPECS
        .iter()
        .flat_map(|spec| spec.fields.iter().chain(spec.derived))
        .filter(|field| !field.is_secret())
        .map(|field| field.name);
    let mut order = COMMON.to_vec();
    for name in typed.chain(BOOKKEEPING) {
        if !order.contains(&name) {
            order.push(name);
        }
    }
    order
}

pub(crate) async fn run(
    api: &Api,
    command: CredentialsCommand,
    json: bool,
) -> Result<(), CliError> {
    match command {
        CredentialsCommand::Create(args) => create(api, args, json).await,
        CredentialsCommand::List(args) => list(api, args, json).await,
        CredentialsCommand::Get { id } => {
            let reply = api
                .call(Method::GET, &["credentials", &id], &[], None, None)
                .await?;
            show(&reply.body, json)
        }
        CredentialsCommand::Update(args) => update(api, args, json).await,
        CredentialsCommand::Delete { id, yes } => delete(api, &id, yes).await,
        CredentialsCommand::Connect { id } => connect(api, &id, json).await,
    }
}

/// The value an optional choice takes when it is not given (its first option).
fn default_choice(spec: &credential_types::TypeSpec, name: &str) -> Option<String> {
    spec.fields
        .iter()
        .find(|f| f.name == name)
        .and_then(|f| match (f.required, f.shape) {
            (Required::Never, FieldShape::Choice { options }) => {
                options.first().map(|o| (*o).to_owned())
            }
            _ => None,
        })
}

/// Starts connecting an authorization-code credential: the URL to open goes to stdout
/// alone, so it can be piped to a browser; what to know about it to stderr.
async fn connect(api: &Api, id: &str, json: bool) -> Result<(), CliError> {
    let reply = api
        .call(
            Method::POST,
            &["credentials", id, "connect"],
            &[],
            None,
            None,
        )
        .await?;
    if json {
        return output::json(&reply.body);
    }
    eprintln!(
        "Open this URL in a browser to connect the credential (single use, until {}). The provider sends you back to {}, which must be registered with it.",
        cell(reply.body.get("expiresAt")),
        cell(reply.body.get("redirectUri")),
    );
    output::emit(&cell(reply.body.get("authorizationUrl")))
}

fn show(credential: &Value, json: bool) -> Result<(), CliError> {
    if json {
        output::json(credential)
    } else {
        output::emit(&record(credential, &field_order()))
    }
}

async fn create(api: &Api, args: CreateArgs, json: bool) -> Result<(), CliError> {
    let kind = args.kind;
    let mut body = Map::new();
    body.insert("type".to_owned(), json!(kind.as_str()));
    body.insert("name".to_owned(), json!(args.name));
    public_fields(&mut body, kind, &args.fields, None)?;
    check_secret_names(kind, &args.fields.typed)?;
    let source = source(&args.secret);
    let chosen = |field: &str| text_of(&body, field);
    let mut secrets = Map::new();
    insert_secrets(&mut secrets, kind, &chosen, &source, &|field| {
        args.fields.typed.secret_names(field.name).to_vec()
    })?;
    body.extend(secrets);
    let reply = api
        .call(
            Method::POST,
            &["credentials"],
            &[],
            Some(JsonBody::from_value(Value::Object(body))?),
            None,
        )
        .await?;
    eprintln!(
        "Created credential {} ({}).",
        cell(reply.body.get("name")),
        cell(reply.body.get("id"))
    );
    show(&reply.body, json)
}

async fn update(api: &Api, args: UpdateArgs, json: bool) -> Result<(), CliError> {
    // The current credential says its type (which decides where each flag and the secret
    // go) and its revision: the change applies to that revision only (If-Match), so a
    // change made meanwhile by someone else is never overwritten unseen.
    let current = api
        .call(Method::GET, &["credentials", &args.id], &[], None, None)
        .await?;
    let kind = current
        .body
        .get("type")
        .and_then(Value::as_str)
        .and_then(|name| name.parse::<CredentialType>().ok())
        .ok_or_else(|| CliError::unexpected(200, "a credential of an unknown type"))?;
    let mut body = Map::new();
    if let Some(name) = &args.name {
        body.insert("name".to_owned(), json!(name));
    }
    if args.no_description {
        body.insert("description".to_owned(), Value::Null);
    }
    if args.no_expiry {
        body.insert("expiresAt".to_owned(), Value::Null);
    }
    if args.no_allowed_hosts {
        body.insert("allowedHosts".to_owned(), Value::Null);
    }
    if args.no_ca_bundle {
        body.insert("caBundle".to_owned(), Value::Null);
    }
    public_fields(&mut body, kind, &args.fields, Some(&current.body))?;
    check_secret_names(kind, &args.fields.typed)?;
    let source = source(&args.secret);
    let named = args
        .fields
        .typed
        .given
        .iter()
        .find(|(_, given)| matches!(given, Given::SecretNames(_)))
        .map(|(field, _)| *field);
    if args.rotate_secret || source != Source::Prompt {
        // A public field decides which secrets apply: its new value, else its current one.
        let chosen = |field: &str| text_of(&body, field).or_else(|| text(&current.body, field));
        // Prompting for a secret map's entries: the ones named, else its current ones.
        let names = |field: &FieldSpec| -> Vec<String> {
            let given = args.fields.typed.secret_names(field.name);
            match field.shape {
                FieldShape::SecretMap { names } if given.is_empty() && source == Source::Prompt => {
                    current
                        .body
                        .get(names)
                        .and_then(Value::as_array)
                        .map(|names| {
                            names
                                .iter()
                                .filter_map(Value::as_str)
                                .map(str::to_owned)
                                .collect()
                        })
                        .unwrap_or_default()
                }
                _ => given.to_vec(),
            }
        };
        let mut secrets = Map::new();
        insert_secrets(&mut secrets, kind, &chosen, &source, &names)?;
        body.extend(secrets);
    } else if let Some(field) = named {
        let flag = type_flags::flags_for(field);
        return Err(CliError::usage(format!(
            "--{flag} names {field} whose new values are read: add --rotate-secret"
        )));
    }
    if body.is_empty() {
        return Err(CliError::usage(
            "nothing to change: give the fields to update, or --rotate-secret",
        ));
    }
    let reply = api
        .call(
            Method::PATCH,
            &["credentials", &args.id],
            &[],
            Some(JsonBody::from_value(Value::Object(body))?),
            current.etag.as_deref(),
        )
        .await?;
    eprintln!(
        "Updated credential {} ({}), now at revision {}.",
        cell(reply.body.get("name")),
        cell(reply.body.get("id")),
        cell(reply.body.get("revision"))
    );
    show(&reply.body, json)
}

async fn delete(api: &Api, id: &str, yes: bool) -> Result<(), CliError> {
    if !yes {
        if !secrets::interactive() {
            return Err(CliError::usage(
                "stdin is not a terminal, so no one can confirm the deletion: pass --yes",
            ));
        }
        let current = api
            .call(Method::GET, &["credentials", id], &[], None, None)
            .await?;
        eprint!(
            "Delete credential {} ({id})? It cannot be undone. [y/N] ",
            cell(current.body.get("name"))
        );
        let mut answer = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut answer)
            .map_err(|error| CliError::local(format!("cannot read the answer: {error}")))?;
        if !matches!(answer.trim().to_ascii_lowercase().as_str(), "y" | "yes") {
            eprintln!("Not deleted.");
            return Ok(());
        }
    }
    api.call(Method::DELETE, &["credentials", id], &[], None, None)
        .await?;
    eprintln!("Deleted credential {id}.");
    Ok(())
}

async fn list(api: &Api, args: ListArgs, json: bool) -> Result<(), CliError> {
    let mut query = Vec::new();
    if let Some(kind) = args.kind {
        query.push(("type", kind.as_str().to_owned()));
    }
    if let Some(within) = args.expiring_within {
        query.push(("expiringWithin", within));
    }
    let page = api.list(&["credentials"], query, &args.page).await?;
    if json {
        return output::json(&page);
    }
    let rows = items(&page).iter().map(|c| {
        let expires = match (c.get("expiresAt"), c.get("expired")) {
            (Some(Value::String(at)), Some(Value::Bool(true))) => format!("{at} (expired)"),
            (at, _) => cell(at),
        };
        vec![
            cell(c.get("id")),
            cell(c.get("name")),
            cell(c.get("type")),
            expires,
            cell(c.get("revision")),
            cell(c.get("updatedAt")),
        ]
    });
    output::emit(&table(
        &["ID", "NAME", "TYPE", "EXPIRES", "REVISION", "UPDATED"],
        rows,
    ))?;
    if let Some(cursor) = next_cursor(&page) {
        eprintln!("More: add --cursor {cursor}, or --all.");
    }
    Ok(())
}

fn source(args: &SecretArgs) -> Source {
    Source::from_flags(args.secret_file.clone(), args.secret_stdin)
}

fn text(object: &Value, field: &str) -> Option<String> {
    object.as_object().and_then(|map| text_of(map, field))
}

fn text_of(map: &Map<String, Value>, field: &str) -> Option<String> {
    map.get(field).and_then(Value::as_str).map(str::to_owned)
}

/// The public fields given as flags, in the API's spelling. On update, `current` is the
/// credential as it is: the claims template is one field, so the claims given are laid
/// over the current ones rather than replacing them all.
fn public_fields(
    body: &mut Map<String, Value>,
    kind: CredentialType,
    f: &PublicFields,
    current: Option<&Value>,
) -> Result<(), CliError> {
    let mut put = |field: &str, value: Value| {
        body.insert(field.to_owned(), value);
    };
    if let Some(description) = &f.description {
        put("description", json!(description));
    }
    if let Some(at) = &f.expires_at {
        put("expiresAt", json!(at));
    }
    if !f.allowed_hosts.is_empty() {
        put("allowedHosts", json!(f.allowed_hosts));
    }
    if let Some(path) = &f.ca_bundle {
        let pem = std::fs::read_to_string(path)
            .map_err(|e| CliError::usage(format!("--ca-bundle {}: {e}", path.display())))?;
        put("caBundle", json!(pem));
    }
    let mut typed = f.typed.given.clone();
    // Sugar for a jwt's claims: --issuer, --subject, and --audience (the `aud` claim; for
    // other types the `audience` field), laid under the --claim entries.
    let audience = match typed.get("audience") {
        Some(Given::Value(Value::String(aud))) if kind == CredentialType::Jwt => Some(aud.clone()),
        _ => None,
    };
    if audience.is_some() {
        typed.remove("audience");
    }
    let sugar: Vec<(String, String)> =
        [("iss", &f.issuer), ("sub", &f.subject), ("aud", &audience)]
            .into_iter()
            .filter_map(|(name, value)| Some((name.to_owned(), value.clone()?)))
            .collect();
    if !sugar.is_empty() && kind != CredentialType::Jwt {
        return Err(CliError::usage(format!(
            "--issuer and --subject are for jwt credentials, not {kind}"
        )));
    }
    if !sugar.is_empty() {
        let entries = match typed.remove("claims") {
            Some(Given::Entries(entries)) => sugar.into_iter().chain(entries).collect(),
            _ => sugar,
        };
        typed.insert("claims", Given::Entries(entries));
    }
    for (field, given) in typed {
        match given {
            Given::Value(value) => put(field, value),
            Given::Entries(entries) => {
                let mut object = current
                    .and_then(|c| c.get(field))
                    .and_then(Value::as_object)
                    .cloned()
                    .unwrap_or_default();
                for (name, value) in entries {
                    object.insert(name, json!(value));
                }
                put(field, Value::Object(object));
            }
            // Names of secret entries: read with the secrets.
            Given::SecretNames(_) => {}
        }
    }
    Ok(())
}

/// Reads the secret fields `kind` needs from `source` into the body: those its
/// description requires, given the public fields as `chosen` says they are.
fn insert_secrets(
    body: &mut Map<String, Value>,
    kind: CredentialType,
    chosen: &dyn Fn(&str) -> Option<String>,
    source: &Source,
    names: &dyn Fn(&FieldSpec) -> Vec<String>,
) -> Result<(), CliError> {
    let spec = credential_types::spec(kind);
    let mut needed = Vec::new();
    for field in spec.fields.iter().filter(|f| f.is_secret()) {
        let wanted = match field.required {
            Required::Always => true,
            Required::Never => false,
            Required::If {
                field: other,
                one_of,
            } => match chosen(other).or_else(|| default_choice(spec, other)) {
                Some(value) => one_of.contains(&value.as_str()),
                None => {
                    return Err(CliError::usage(format!(
                        "--{} is required for a {kind} credential",
                        type_flags::kebab(other)
                    )));
                }
            },
        };
        if wanted {
            needed.push(field);
        }
    }
    if needed.len() > 1 && *source != Source::Prompt {
        return Err(CliError::usage(format!(
            "a {kind} credential has several secrets, which a file or stdin cannot tell apart: \
             give them at the prompts"
        )));
    }
    for field in needed {
        let label = lowercase_first(field.label);
        let value = match field.shape {
            FieldShape::SecretMap { .. } => {
                let entries = secrets::read_headers(source, &names(field))?;
                let map: Map<String, Value> = entries
                    .into_iter()
                    .map(|(name, value)| (name, json!(value.expose_secret())))
                    .collect();
                Value::Object(map)
            }
            FieldShape::SecretPem => {
                json!(secrets::read_one(source, &label, Shape::Lines)?.expose_secret())
            }
            _ => json!(secrets::read_one(source, &label, Shape::Line)?.expose_secret()),
        };
        body.insert(field.name.to_owned(), value);
    }
    Ok(())
}

/// Refuses names of secret entries given for a type without such entries.
fn check_secret_names(kind: CredentialType, typed: &TypeFlags) -> Result<(), CliError> {
    for (field, given) in &typed.given {
        if matches!(given, Given::SecretNames(_)) && !credential_types::takes(kind, field) {
            return Err(CliError::usage(format!(
                "--{} is for {} credentials, not {kind}",
                type_flags::flags_for(field),
                type_flags::types_taking(field).join(" and ")
            )));
        }
    }
    Ok(())
}

/// "Client secret" -> "client secret", keeping acronyms ("private key (PEM)").
fn lowercase_first(label: &str) -> String {
    let mut chars = label.chars();
    chars.next().map_or_else(String::new, |first| {
        first.to_lowercase().chain(chars).collect()
    })
}

#[cfg(test)]
mod tests {
    use clap::Parser as _;

    use super::*;
    use crate::cli::{Cli, Command};

    fn fields(args: &[&str]) -> (CredentialType, PublicFields) {
        let cli = Cli::try_parse_from(
            ["vault", "credentials", "create", "--name", "n"]
                .iter()
                .chain(args),
        )
        .expect("parses");
        match cli.command {
            Command::Credentials(CredentialsCommand::Create(args)) => (args.kind, args.fields),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn flags_become_the_api_fields() {
        let (kind, f) = fields(&[
            "--type",
            "oauth2",
            "--client-id",
            "c",
            "--token-url",
            "https://idp/token",
            "--scope",
            "a",
            "--scope",
            "b",
            "--client-auth",
            "body",
            "--audience",
            "https://api",
            "--allowed-host",
            "idp",
        ]);
        let mut body = Map::new();
        public_fields(&mut body, kind, &f, None).expect("valid");
        assert_eq!(
            Value::Object(body),
            json!({"clientId": "c", "tokenUrl": "https://idp/token", "scopes": ["a", "b"],
                   "clientAuth": "body", "audience": "https://api", "allowedHosts": ["idp"]})
        );
    }

    #[test]
    fn jwt_claims_are_laid_over_the_current_ones() {
        let (_, f) = fields(&[
            "--type",
            "jwt",
            "--subject",
            "svc-b",
            "--audience",
            "api",
            "--claim",
            "tenant=t2",
        ]);
        let current = json!({"claims": {"iss": "vault", "sub": "svc-a", "tenant": "t1"}});
        let mut body = Map::new();
        public_fields(&mut body, CredentialType::Jwt, &f, Some(&current)).expect("valid");
        assert_eq!(
            body["claims"],
            json!({"iss": "vault", "sub": "svc-b", "aud": "api", "tenant": "t2"})
        );
        assert!(!body.contains_key("audience"));
    }

    #[test]
    fn placement_is_one_object() {
        let (kind, f) = fields(&[
            "--type",
            "api_key",
            "--placement-in",
            "query",
            "--placement-name",
            "api_key",
        ]);
        let mut body = Map::new();
        public_fields(&mut body, kind, &f, None).expect("valid");
        assert_eq!(body["placement"], json!({"in": "query", "name": "api_key"}));
    }

    #[test]
    fn get_shows_every_public_field_once_between_the_common_ones_and_the_bookkeeping() {
        let order = field_order();
        assert_eq!(order[..COMMON.len()], COMMON);
        assert_eq!(order[order.len() - BOOKKEEPING.len()..], BOOKKEEPING);
        let public = credential_types::SPECS
            .iter()
            .flat_map(|spec| spec.fields.iter().chain(spec.derived))
            .filter(|field| !field.is_secret());
        for field in public {
            let at = order.iter().filter(|name| **name == field.name).count();
            assert_eq!(at, 1, "{} is shown {at} times", field.name);
        }
        assert!(order.contains(&"clientId") && order.contains(&"headerNames"));
    }

    #[test]
    fn a_secret_can_never_be_a_flag() {
        for attempt in [
            vec!["--type", "bearer_token", "--value", "x"],
            vec!["--type", "basic_auth", "--password", "x"],
            vec!["--type", "oauth2", "--client-secret", "x"],
            vec!["--type", "jwt", "--secret", "x"],
        ] {
            let parsed = Cli::try_parse_from(
                ["vault", "credentials", "create", "--name", "n"]
                    .iter()
                    .chain(&attempt),
            );
            assert!(parsed.is_err(), "{attempt:?} was accepted");
        }
    }
}
