//! `vault webhooks ...`: subscriptions to the vault's events (`/webhooks`) and what was
//! delivered to them (`/webhooks/{id}/deliveries`).
//!
//! A subscription's signing secret is in two answers only, create and rotate-secret: it
//! goes to stdout alone (as `access-keys create` prints its key), so that
//! `SECRET=$(vault webhooks create ...)` captures exactly the secret, and the client's copy
//! of the answer is wiped once printed.

use reqwest::Method;
use serde_json::{Map, Value, json};

use crate::api::{Api, JsonBody, next_cursor};
use crate::cli::{WebhookCreateArgs, WebhookUpdateArgs, WebhooksCommand};
use crate::error::CliError;
use crate::output::{self, cell, items, record, table};

/// The order `show` lists a subscription's fields in.
const FIELDS: [&str; 8] = [
    "id",
    "url",
    "description",
    "events",
    "daysAhead",
    "enabled",
    "createdAt",
    "updatedAt",
];

pub(crate) async fn run(api: &Api, command: WebhooksCommand, json: bool) -> Result<(), CliError> {
    match command {
        WebhooksCommand::Create(args) => {
            let reply = api
                .call(
                    Method::POST,
                    &["webhooks"],
                    &[],
                    Some(JsonBody::from_value(create_body(&args))?),
                    None,
                )
                .await?;
            let webhook = &reply.body;
            let about = format!(
                "Created webhook {} for {}: events {}; reminders {} days ahead; {}.",
                cell(webhook.get("id")),
                cell(webhook.get("url")),
                cell(webhook.get("events")),
                cell(webhook.get("daysAhead")),
                status(webhook),
            );
            print_secret(reply.body, 201, json, &about)
        }
        WebhooksCommand::List => {
            // At most 32 subscriptions: the server sends them all at once, no cursor.
            let reply = api
                .call(Method::GET, &["webhooks"], &[], None, None)
                .await?;
            if json {
                return output::json(&reply.body);
            }
            output::emit(&table(
                &["ID", "URL", "EVENTS", "DAYS AHEAD", "STATUS", "DESCRIPTION"],
                items(&reply.body).iter().map(|w| {
                    vec![
                        cell(w.get("id")),
                        cell(w.get("url")),
                        cell(w.get("events")),
                        cell(w.get("daysAhead")),
                        status(w).to_owned(),
                        cell(w.get("description")),
                    ]
                }),
            ))
        }
        WebhooksCommand::Show { id } => {
            let reply = api
                .call(Method::GET, &["webhooks", &id], &[], None, None)
                .await?;
            show(&reply.body, json)
        }
        WebhooksCommand::Update(args) => {
            let body = update_body(&args)?;
            let reply = api
                .call(
                    Method::PATCH,
                    &["webhooks", &args.id],
                    &[],
                    Some(JsonBody::from_value(body)?),
                    None,
                )
                .await?;
            eprintln!("Updated webhook {}.", args.id);
            show(&reply.body, json)
        }
        WebhooksCommand::Delete { id } => {
            api.call(Method::DELETE, &["webhooks", &id], &[], None, None)
                .await?;
            eprintln!("Deleted webhook {id} and its deliveries.");
            Ok(())
        }
        WebhooksCommand::RotateSecret { id } => {
            let reply = api
                .call(
                    Method::POST,
                    &["webhooks", &id, "rotate-secret"],
                    &[],
                    None,
                    None,
                )
                .await?;
            let about = format!(
                "New signing secret for webhook {} ({}): every delivery from now on, retries \
                 included, is signed with it; the old one no longer is.",
                cell(reply.body.get("id")),
                cell(reply.body.get("url")),
            );
            print_secret(reply.body, 200, json, &about)
        }
        WebhooksCommand::Deliveries { id, page } => {
            let page = api
                .list(&["webhooks", &id, "deliveries"], Vec::new(), &page)
                .await?;
            if json {
                return output::json(&page);
            }
            output::emit(&table(
                &[
                    "ID", "EVENT", "STATUS", "ATTEMPTS", "RESPONSE", "CREATED", "ERROR",
                ],
                items(&page).iter().map(delivery_row),
            ))?;
            if let Some(cursor) = next_cursor(&page) {
                eprintln!("More: add --cursor {cursor}, or --all.");
            }
            Ok(())
        }
        WebhooksCommand::Replay { id, delivery } => {
            let reply = api
                .call(
                    Method::POST,
                    &["webhooks", &id, "deliveries", &delivery, "replay"],
                    &[],
                    None,
                    None,
                )
                .await?;
            if json {
                return output::json(&reply.body);
            }
            let replayed = &reply.body;
            let new_id = replayed
                .get("id")
                .and_then(Value::as_str)
                .ok_or_else(|| CliError::unexpected(202, "no id in the answer"))?;
            // The details on stderr; the new delivery's id alone on stdout, for a script
            // that then watches it.
            eprintln!(
                "Queued delivery {new_id} of message {} ({}), a replay of {delivery}: \
                 `vault webhooks deliveries {id}` shows how it goes.",
                cell(replayed.get("messageId")),
                cell(replayed.get("eventType")),
            );
            output::emit(new_id)
        }
    }
}

/// The body of `POST /webhooks`: the optional fields only when given, so the server's
/// defaults apply (reminders 30, 7 and 1 days ahead; enabled).
fn create_body(args: &WebhookCreateArgs) -> Value {
    let mut body = json!({ "url": args.url, "events": args.events });
    if !args.days_ahead.is_empty() {
        body["daysAhead"] = json!(args.days_ahead);
    }
    if let Some(description) = &args.description {
        body["description"] = json!(description);
    }
    if args.disabled {
        body["enabled"] = json!(false);
    }
    body
}

/// The body of `PATCH /webhooks/{id}`: what was given, and nothing else.
fn update_body(args: &WebhookUpdateArgs) -> Result<Value, CliError> {
    let mut body = Map::new();
    if let Some(url) = &args.url {
        body.insert("url".to_owned(), json!(url));
    }
    if !args.events.is_empty() {
        body.insert("events".to_owned(), json!(args.events));
    }
    if !args.days_ahead.is_empty() {
        body.insert("daysAhead".to_owned(), json!(args.days_ahead));
    }
    if let Some(description) = &args.description {
        body.insert("description".to_owned(), json!(description));
    }
    if args.no_description {
        body.insert("description".to_owned(), Value::Null);
    }
    if args.enable || args.disable {
        body.insert("enabled".to_owned(), json!(args.enable));
    }
    if body.is_empty() {
        return Err(CliError::usage(
            "nothing to change: give --url, --event, --days-ahead, --description, \
             --no-description, --enable or --disable",
        ));
    }
    Ok(Value::Object(body))
}

fn show(webhook: &Value, json: bool) -> Result<(), CliError> {
    if json {
        output::json(webhook)
    } else {
        output::emit(&record(webhook, &FIELDS))
    }
}

/// `enabled` as a word.
fn status(webhook: &Value) -> &'static str {
    match webhook.get("enabled") {
        Some(Value::Bool(false)) => "disabled",
        _ => "enabled",
    }
}

/// One delivery as a table row.
fn delivery_row(delivery: &Value) -> Vec<String> {
    vec![
        cell(delivery.get("id")),
        cell(delivery.get("eventType")),
        cell(delivery.get("status")),
        cell(delivery.get("attempts")),
        cell(delivery.get("responseStatus")),
        cell(delivery.get("createdAt")),
        cell(delivery.get("error")),
    ]
}

/// Prints an answer that carries a subscription's secret: with `--json` the whole answer,
/// else the secret alone; either way `about` and the warning on stderr (never the secret).
/// Then wipes the client's copy.
fn print_secret(mut body: Value, status: u16, json: bool, about: &str) -> Result<(), CliError> {
    let printed = match body.get("secret").and_then(Value::as_str) {
        None => Err(CliError::unexpected(status, "no secret in the answer")),
        Some(secret) => {
            eprintln!(
                "{about}\nStore the signing secret now: it is shown this once and cannot be \
                 recovered (`vault webhooks rotate-secret` makes a new one)."
            );
            if json {
                output::json(&body)
            } else {
                output::emit(secret)
            }
        }
    };
    crate::secrets::wipe(&mut body);
    printed
}

#[cfg(test)]
mod tests {
    use clap::{CommandFactory as _, Parser as _};
    use vault_core::webhooks::EventType;

    use super::*;
    use crate::cli::{Cli, Command};

    fn parse(argv: &[&str]) -> WebhooksCommand {
        let mut full = vec!["vault", "webhooks"];
        full.extend_from_slice(argv);
        match Cli::try_parse_from(full).expect("parses").command {
            Command::Webhooks(command) => command,
            other => panic!("not webhooks: {other:?}"),
        }
    }

    #[test]
    fn the_create_body_has_only_what_was_given() {
        let WebhooksCommand::Create(minimal) = parse(&[
            "create",
            "--url",
            "https://hooks.example.com/v",
            "--event",
            "key.rotated",
        ]) else {
            panic!("not create");
        };
        assert_eq!(
            create_body(&minimal),
            json!({"url": "https://hooks.example.com/v", "events": ["key.rotated"]})
        );
        let WebhooksCommand::Create(full) = parse(&[
            "create",
            "--url",
            "https://hooks.example.com/v",
            "--event",
            "credential.expiring",
            "--event",
            "access_key.expiring",
            "--days-ahead",
            "14",
            "--days-ahead",
            "2",
            "--description",
            "ops",
            "--disabled",
        ]) else {
            panic!("not create");
        };
        assert_eq!(
            create_body(&full),
            json!({
                "url": "https://hooks.example.com/v",
                "events": ["credential.expiring", "access_key.expiring"],
                "daysAhead": [14, 2],
                "description": "ops",
                "enabled": false,
            })
        );
    }

    #[test]
    fn the_update_body_has_only_what_was_given_and_something() {
        let body = |argv: &[&str]| {
            let mut full = vec!["update", "w-1"];
            full.extend_from_slice(argv);
            match parse(&full) {
                WebhooksCommand::Update(args) => update_body(&args),
                other => panic!("not update: {other:?}"),
            }
        };
        assert_eq!(
            body(&["--no-description", "--disable"]).expect("a body"),
            json!({"description": null, "enabled": false})
        );
        assert_eq!(
            body(&["--event", "key.rotated", "--description", "d", "--enable"]).expect("a body"),
            json!({"events": ["key.rotated"], "description": "d", "enabled": true})
        );
        assert!(matches!(body(&[]), Err(CliError::Usage(_))));
    }

    #[test]
    fn the_command_line_refuses_what_no_webhook_can_be() {
        for argv in [
            vec!["create", "--url", "https://a.example"],
            vec!["create", "--url", "https://a.example", "--event", "nope"],
            vec![
                "create",
                "--url",
                "https://a.example",
                "--event",
                "key.rotated",
                "--days-ahead",
                "soon",
            ],
            vec!["update", "w", "--enable", "--disable"],
            vec!["update", "w", "--description", "d", "--no-description"],
            vec!["deliveries", "w", "--all", "--cursor", "c"],
            vec!["replay", "w"],
            vec!["create", "--url", "https://a.example", "--secret", "x"],
        ] {
            let mut full = vec!["vault", "webhooks"];
            full.extend_from_slice(&argv);
            assert!(Cli::try_parse_from(&full).is_err(), "{argv:?} accepted");
        }
    }

    #[test]
    fn the_help_lists_every_event_type() {
        let mut cli = Cli::command();
        for sub in ["create", "update"] {
            let help = cli
                .find_subcommand_mut("webhooks")
                .and_then(|w| w.find_subcommand_mut(sub))
                .expect("the subcommand")
                .render_long_help()
                .to_string();
            for event in EventType::ALL {
                assert!(
                    help.contains(event.as_str()),
                    "{sub}: {event} missing: {help}"
                );
            }
        }
    }

    #[test]
    fn a_delivery_row_has_its_columns() {
        let row = delivery_row(&json!({
            "id": "d-1", "eventType": "key.rotated", "status": "failed", "attempts": 8,
            "responseStatus": 500, "createdAt": "2030-01-01T00:00:00Z", "error": "HTTP 500",
            "payload": {"type": "key.rotated"}
        }));
        assert_eq!(
            row,
            [
                "d-1",
                "key.rotated",
                "failed",
                "8",
                "500",
                "2030-01-01T00:00:00Z",
                "HTTP 500"
            ]
        );
        assert_eq!(delivery_row(&json!({"id": "d-2"}))[4], "-");
    }
}
