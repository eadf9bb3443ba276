//! `vault credentials ...`: the flat JSON bodies of `/credentials`, built from flags and
//! secret input.

use std::io::BufRead as _;

use reqwest::Method;
use secrecy::ExposeSecret as _;
use serde_json::{Map, Value, json};

use crate::api::{Api, JsonBody, next_cursor};
use crate::cli::{
    ClientAuth, CreateArgs, CredentialType, CredentialsCommand, ListArgs, PlacementIn,
    PublicFields, SecretArgs, UpdateArgs,
};
use crate::error::CliError;
use crate::output::{self, cell, items, record, table};
use crate::secrets::{self, Shape, Source};

/// The order `get` shows a credential's fields in.
const FIELD_ORDER: [&str; 22] = [
    "id",
    "name",
    "type",
    "description",
    "placement",
    "username",
    "clientId",
    "tokenUrl",
    "scopes",
    "clientAuth",
    "audience",
    "algorithm",
    "claims",
    "ttlSeconds",
    "headerNames",
    "allowedHosts",
    "expiresAt",
    "expired",
    "version",
    "secretHints",
    "createdAt",
    "updatedAt",
];

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
    }
}

fn show(credential: &Value, json: bool) -> Result<(), CliError> {
    if json {
        output::json(credential)
    } else {
        output::emit(&record(credential, &FIELD_ORDER))
    }
}

async fn create(api: &Api, args: CreateArgs, json: bool) -> Result<(), CliError> {
    let kind = args.kind;
    let mut body = Map::new();
    body.insert("type".to_owned(), json!(kind.as_str()));
    body.insert("name".to_owned(), json!(args.name));
    public_fields(&mut body, kind, &args.fields, None)?;
    let source = source(&args.secret);
    insert_secrets(
        &mut body,
        kind,
        args.fields.algorithm.as_deref(),
        &source,
        &args.fields.headers,
    )?;
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
    // go) and its version: the change applies to that version only (If-Match), so a
    // change made meanwhile by someone else is never overwritten unseen.
    let current = api
        .call(Method::GET, &["credentials", &args.id], &[], None, None)
        .await?;
    let kind = current
        .body
        .get("type")
        .and_then(Value::as_str)
        .and_then(CredentialType::parse)
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
    public_fields(&mut body, kind, &args.fields, Some(&current.body))?;
    let source = source(&args.secret);
    if args.rotate_secret || source != Source::Prompt {
        let algorithm = args
            .fields
            .algorithm
            .clone()
            .or_else(|| text(&current.body, "algorithm"));
        // Prompting for a custom credential's headers: the ones named, else its current ones.
        let header_names = if source == Source::Prompt && args.fields.headers.is_empty() {
            current
                .body
                .get("headerNames")
                .and_then(Value::as_array)
                .map(|names| {
                    names
                        .iter()
                        .filter_map(Value::as_str)
                        .map(str::to_owned)
                        .collect()
                })
                .unwrap_or_default()
        } else {
            args.fields.headers.clone()
        };
        insert_secrets(
            &mut body,
            kind,
            algorithm.as_deref(),
            &source,
            &header_names,
        )?;
    } else if !args.fields.headers.is_empty() {
        return Err(CliError::usage(
            "--header names headers whose new values are read: add --rotate-secret",
        ));
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
        "Updated credential {} ({}), now at version {}.",
        cell(reply.body.get("name")),
        cell(reply.body.get("id")),
        cell(reply.body.get("version"))
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
            cell(c.get("version")),
            cell(c.get("updatedAt")),
        ]
    });
    output::emit(&table(
        &["ID", "NAME", "TYPE", "EXPIRES", "VERSION", "UPDATED"],
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
    object.get(field).and_then(Value::as_str).map(str::to_owned)
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
    if f.placement_in.is_some() || f.placement_name.is_some() || f.placement_prefix.is_some() {
        let mut placement = Map::new();
        if let Some(location) = f.placement_in {
            let location = match location {
                PlacementIn::Header => "header",
                PlacementIn::Query => "query",
            };
            placement.insert("in".to_owned(), json!(location));
        }
        if let Some(name) = &f.placement_name {
            placement.insert("name".to_owned(), json!(name));
        }
        if let Some(prefix) = &f.placement_prefix {
            placement.insert("prefix".to_owned(), json!(prefix));
        }
        put("placement", Value::Object(placement));
    }
    if let Some(username) = &f.username {
        put("username", json!(username));
    }
    if let Some(client_id) = &f.client_id {
        put("clientId", json!(client_id));
    }
    if let Some(url) = &f.token_url {
        put("tokenUrl", json!(url));
    }
    if !f.scopes.is_empty() {
        put("scopes", json!(f.scopes));
    }
    if let Some(auth) = f.client_auth {
        let auth = match auth {
            ClientAuth::Basic => "basic",
            ClientAuth::Body => "body",
        };
        put("clientAuth", json!(auth));
    }
    if let Some(algorithm) = &f.algorithm {
        put("algorithm", json!(algorithm));
    }
    if let Some(ttl) = f.ttl {
        put("ttlSeconds", json!(ttl));
    }
    // `--audience` is oauth2's `audience` parameter, or a jwt's `aud` claim.
    let jwt_audience = if kind == CredentialType::Jwt {
        f.audience.as_ref()
    } else {
        if let Some(audience) = &f.audience {
            put("audience", json!(audience));
        }
        None
    };
    let given: Vec<(&str, &String)> = [("iss", f.issuer.as_ref()), ("sub", f.subject.as_ref())]
        .into_iter()
        .chain([("aud", jwt_audience)])
        .filter_map(|(name, value)| Some((name, value?)))
        .chain(f.claims.iter().map(|(name, value)| (name.as_str(), value)))
        .collect();
    if !given.is_empty() {
        if kind != CredentialType::Jwt {
            return Err(CliError::usage(format!(
                "--issuer, --subject and --claim are for jwt credentials, not {}",
                kind.as_str()
            )));
        }
        let mut claims = current
            .and_then(|c| c.get("claims"))
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        for (name, value) in given {
            claims.insert(name.to_owned(), json!(value));
        }
        put("claims", Value::Object(claims));
    }
    Ok(())
}

/// Reads the secret values of `kind` from `source` into the body.
fn insert_secrets(
    body: &mut Map<String, Value>,
    kind: CredentialType,
    algorithm: Option<&str>,
    source: &Source,
    header_names: &[String],
) -> Result<(), CliError> {
    if kind != CredentialType::Custom && !header_names.is_empty() {
        return Err(CliError::usage(format!(
            "--header is for custom credentials, not {}",
            kind.as_str()
        )));
    }
    let (field, label, shape) = match kind {
        CredentialType::ApiKey | CredentialType::BearerToken => ("value", "value", Shape::Line),
        CredentialType::BasicAuth => ("password", "password", Shape::Line),
        CredentialType::OAuth2 => ("clientSecret", "client secret", Shape::Line),
        CredentialType::Jwt => match algorithm {
            None => {
                return Err(CliError::usage(
                    "--algorithm is required for a jwt credential",
                ));
            }
            Some(algorithm) if algorithm.starts_with("HS") => {
                ("secret", "signing secret", Shape::Line)
            }
            Some(_) => ("privateKey", "private key (PEM)", Shape::Lines),
        },
        CredentialType::Custom => {
            let headers = secrets::read_headers(source, header_names)?;
            let map: Map<String, Value> = headers
                .into_iter()
                .map(|(name, value)| (name, json!(value.expose_secret())))
                .collect();
            body.insert("headers".to_owned(), Value::Object(map));
            return Ok(());
        }
    };
    let value = secrets::read_one(source, label, shape)?;
    body.insert(field.to_owned(), json!(value.expose_secret()));
    Ok(())
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
