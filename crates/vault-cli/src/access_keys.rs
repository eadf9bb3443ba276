//! `vault access-keys ...`.

use reqwest::Method;
use serde_json::{Value, json};

use crate::api::{Api, JsonBody, next_cursor};
use crate::cli::AccessKeysCommand;
use crate::error::CliError;
use crate::output::{self, cell, items, table};

pub(crate) async fn run(api: &Api, command: AccessKeysCommand, json: bool) -> Result<(), CliError> {
    match command {
        AccessKeysCommand::Create {
            name,
            scopes,
            expires_at,
        } => {
            let mut body = json!({ "name": name, "scopes": scopes });
            if let Some(at) = expires_at {
                body["expiresAt"] = json!(at);
            }
            let reply = api
                .call(
                    Method::POST,
                    &["access-keys"],
                    &[],
                    Some(JsonBody::from_value(body)?),
                    None,
                )
                .await?;
            if json {
                return output::json(&reply.body);
            }
            let key = reply
                .body
                .get("keySecret")
                .and_then(Value::as_str)
                .ok_or_else(|| CliError::unexpected(201, "no keySecret in the answer"))?;
            // The details and the warning on stderr; the key alone on stdout, so that
            // `KEY=$(vault access-keys create ...)` captures exactly the key.
            eprintln!(
                "Created access key {} ({}) with scopes {}, expires {}.\n\
                 Store the key now: it is shown this once and cannot be recovered.",
                cell(reply.body.get("name")),
                cell(reply.body.get("id")),
                cell(reply.body.get("scopes")),
                cell(reply.body.get("expiresAt")),
            );
            output::emit(key)
        }
        AccessKeysCommand::List(page) => {
            let page = api.list(&["access-keys"], Vec::new(), &page).await?;
            if json {
                return output::json(&page);
            }
            let rows = items(&page).iter().map(|k| {
                let status = if k.get("revokedAt").is_some_and(|v| !v.is_null()) {
                    "revoked"
                } else if k.get("active") == Some(&Value::Bool(true)) {
                    "active"
                } else {
                    "expired"
                };
                vec![
                    cell(k.get("id")),
                    cell(k.get("name")),
                    cell(k.get("scopes")),
                    status.to_owned(),
                    cell(k.get("createdAt")),
                    cell(k.get("expiresAt")),
                    cell(k.get("lastUsedAt")),
                ]
            });
            output::emit(&table(
                &[
                    "ID",
                    "NAME",
                    "SCOPES",
                    "STATUS",
                    "CREATED",
                    "EXPIRES",
                    "LAST USED",
                ],
                rows,
            ))?;
            if let Some(cursor) = next_cursor(&page) {
                eprintln!("More: add --cursor {cursor}, or --all.");
            }
            Ok(())
        }
        AccessKeysCommand::Revoke { id, cascade } => {
            let query = if cascade {
                vec![("cascade", "true".to_owned())]
            } else {
                Vec::new()
            };
            api.call(Method::DELETE, &["access-keys", &id], &query, None, None)
                .await?;
            if cascade {
                eprintln!("Revoked access key {id} and every key it created.");
            } else {
                eprintln!("Revoked access key {id}.");
            }
            Ok(())
        }
    }
}
