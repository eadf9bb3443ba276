//! `vault grants ...`: who may use a credential (`/credentials/{id}/grants`), and what one
//! principal may use (`/grants`).

use reqwest::Method;
use serde_json::{Map, Value, json};

use crate::api::{Api, JsonBody};
use crate::cli::{GrantArgs, GrantsCommand};
use crate::error::CliError;
use crate::output::{self, cell, items, table};

/// The budget flags, by the field each sets in `budget`, with the unit `list` shows.
const BUDGET: [(&str, &str); 4] = [
    ("perMinute", "/min"),
    ("perHour", "/h"),
    ("perDay", "/day"),
    ("total", " total"),
];

pub(crate) async fn run(api: &Api, command: GrantsCommand, json: bool) -> Result<(), CliError> {
    match command {
        GrantsCommand::List {
            credential,
            principal,
        } => {
            let reply = match (&credential, principal) {
                (Some(id), _) => {
                    api.call(Method::GET, &["credentials", id, "grants"], &[], None, None)
                        .await?
                }
                (None, principal) => {
                    let query: Vec<_> = principal.map(|p| ("principal", p)).into_iter().collect();
                    api.call(Method::GET, &["grants"], &query, None, None)
                        .await?
                }
            };
            if json {
                return output::json(&reply.body);
            }
            output::emit(&table(
                &[
                    "ID",
                    "CREDENTIAL",
                    "PRINCIPAL",
                    "PERMISSION",
                    "METHODS",
                    "PATHS",
                    "BUDGET",
                    "EXPIRES",
                    "STATUS",
                ],
                items(&reply.body).iter().map(row),
            ))
        }
        GrantsCommand::Add(args) => {
            let reply = api
                .call(
                    Method::POST,
                    &["credentials", &args.credential, "grants"],
                    &[],
                    Some(JsonBody::from_value(body(&args))?),
                    None,
                )
                .await?;
            if json {
                return output::json(&reply.body);
            }
            let grant = &reply.body;
            let id = grant
                .get("id")
                .and_then(Value::as_str)
                .ok_or_else(|| CliError::unexpected(201, "no id in the answer"))?;
            // The details on stderr; the id alone on stdout, so that
            // `GRANT=$(vault grants add ...)` captures exactly the id for a later revoke.
            eprintln!(
                "Granted {} {} of credential {}: methods {}; paths {}; budget {}; expires {}.",
                cell(grant.get("principal")),
                cell(grant.get("permission")),
                cell(grant.get("credentialId")),
                rules(grant.get("methods")),
                rules(grant.get("paths")),
                budget(grant.get("budget")),
                cell(grant.get("expiresAt")),
            );
            output::emit(id)
        }
        GrantsCommand::Revoke { credential, grant } => {
            api.call(
                Method::DELETE,
                &["credentials", &credential, "grants", &grant],
                &[],
                None,
                None,
            )
            .await?;
            eprintln!("Revoked grant {grant} of credential {credential}.");
            Ok(())
        }
    }
}

/// The body of `POST /credentials/{id}/grants`: only what was given, so the server's
/// defaults apply to the rest.
fn body(args: &GrantArgs) -> Value {
    let mut body = json!({ "principal": args.principal });
    if let Some(permission) = &args.permission {
        body["permission"] = json!(permission);
    }
    if !args.methods.is_empty() {
        body["methods"] = json!(args.methods);
    }
    if !args.paths.is_empty() {
        body["paths"] = json!(args.paths);
    }
    let caps = [args.per_minute, args.per_hour, args.per_day, args.total];
    let budget: Map<String, Value> = BUDGET
        .iter()
        .zip(caps)
        .filter_map(|((field, _), cap)| Some(((*field).to_owned(), json!(cap?))))
        .collect();
    if !budget.is_empty() {
        body["budget"] = Value::Object(budget);
    }
    if let Some(at) = &args.expires_at {
        body["expiresAt"] = json!(at);
    }
    body
}

/// One grant as a table row.
fn row(grant: &Value) -> Vec<String> {
    let status = if grant.get("expired") == Some(&Value::Bool(true)) {
        "expired"
    } else {
        "active"
    };
    vec![
        cell(grant.get("id")),
        cell(grant.get("credentialId")),
        cell(grant.get("principal")),
        cell(grant.get("permission")),
        rules(grant.get("methods")),
        rules(grant.get("paths")),
        budget(grant.get("budget")),
        cell(grant.get("expiresAt")),
        status.to_owned(),
    ]
}

/// Methods or paths: an empty list allows every one, so it reads `any` (never `-`, which
/// could be read as none).
fn rules(list: Option<&Value>) -> String {
    match list.and_then(Value::as_array) {
        Some(entries) if !entries.is_empty() => cell(list),
        _ => "any".to_owned(),
    }
}

/// A budget as `5/min, 100 total`; `-` when there is none.
fn budget(budget: Option<&Value>) -> String {
    let Some(caps) = budget.and_then(Value::as_object) else {
        return cell(budget);
    };
    let shown: Vec<String> = BUDGET
        .iter()
        .filter_map(|(field, unit)| Some(format!("{}{unit}", caps.get(*field)?)))
        .collect();
    if shown.is_empty() {
        cell(budget)
    } else {
        shown.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser as _;

    use super::*;
    use crate::cli::{Cli, Command};

    fn add_args(argv: &[&str]) -> GrantArgs {
        let mut full = vec!["vault", "grants", "add", "cred-1"];
        full.extend_from_slice(argv);
        match Cli::try_parse_from(full).expect("parses").command {
            Command::Grants(GrantsCommand::Add(args)) => args,
            other => panic!("not grants add: {other:?}"),
        }
    }

    #[test]
    fn the_body_has_only_what_was_given() {
        let minimal = body(&add_args(&["--principal", "group:ops"]));
        assert_eq!(minimal, json!({"principal": "group:ops"}));

        let full = body(&add_args(&[
            "--principal",
            "key:k-1",
            "--permission",
            "manage",
            "--method",
            "GET",
            "--method",
            "post",
            "--path",
            "/v1/charges*",
            "--per-minute",
            "5",
            "--total",
            "0",
            "--expires-at",
            "2030-01-01T00:00:00Z",
        ]));
        // Sent as given, `post` and `0` included: the server refuses them by field name.
        assert_eq!(
            full,
            json!({
                "principal": "key:k-1",
                "permission": "manage",
                "methods": ["GET", "post"],
                "paths": ["/v1/charges*"],
                "budget": {"perMinute": 5, "total": 0},
                "expiresAt": "2030-01-01T00:00:00Z",
            })
        );
    }

    #[test]
    fn the_command_line_refuses_what_no_grant_can_be() {
        for argv in [
            vec!["vault", "grants", "add", "c"],
            vec![
                "vault",
                "grants",
                "add",
                "c",
                "--principal",
                "p",
                "--permission",
                "all",
            ],
            vec![
                "vault",
                "grants",
                "add",
                "c",
                "--principal",
                "p",
                "--per-day",
                "-1",
            ],
            vec!["vault", "grants", "list", "c", "--principal", "key:k"],
            vec!["vault", "grants", "revoke", "c"],
        ] {
            assert!(Cli::try_parse_from(&argv).is_err(), "{argv:?} accepted");
        }
    }

    #[test]
    fn a_row_says_any_for_open_rules_and_shows_the_budget_by_window() {
        let open = row(&json!({
            "id": "g-1", "credentialId": "c-1", "principal": "key:k", "permission": "use",
            "methods": [], "paths": [], "budget": null, "expiresAt": null, "expired": false
        }));
        assert_eq!(
            open,
            [
                "g-1", "c-1", "key:k", "use", "any", "any", "-", "-", "active"
            ]
        );
        let narrow = row(&json!({
            "id": "g-2", "credentialId": "c-1", "principal": "group:ops", "permission": "use",
            "methods": ["GET", "POST"], "paths": ["/v1/x*"],
            "budget": {"total": 100, "perMinute": 5},
            "expiresAt": "2030-01-01T00:00:00Z", "expired": true
        }));
        assert_eq!(narrow[4], "GET, POST");
        assert_eq!(narrow[6], "5/min, 100 total");
        assert_eq!(narrow[8], "expired");
    }
}
