//! The `vault` client creates the types that sign each request from their flags, made
//! from the types' descriptions like every other type's: `aws_sigv4` and `hmac_signature`
//! with a preset; the secret read from stdin, never shown, and the use signed on the wire.

use serde_json::json;

use super::Env;
use crate::helpers::upstream::start_upstream;
use crate::helpers::{Id, canary};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signing_types_are_created_from_their_flags() {
    let env = Env::start(true);
    let upstream = start_upstream().await;
    env.login();
    let origin = upstream.origin();
    let aws_secret = canary("aws");
    let aws = env
        .vault_in(
            &[
                "credentials",
                "create",
                "--json",
                "--allowed-host",
                &origin,
                "--type",
                "aws_sigv4",
                "--name",
                "S3 backups",
                "--access-key-id",
                "AKIAIOSFODNN7EXAMPLE",
                "--region",
                "eu-west-1",
                "--service",
                "s3",
                "--secret-stdin",
            ],
            &format!("{aws_secret}\n"),
        )
        .ok();
    let shown = aws.json();
    assert_eq!(shown["region"], "eu-west-1", "{shown}");
    assert_eq!(shown["service"], "s3", "{shown}");
    let hmac_secret = canary("hmac");
    let hmac = env
        .vault_in(
            &[
                "credentials",
                "create",
                "--json",
                "--allowed-host",
                &origin,
                "--type",
                "hmac_signature",
                "--name",
                "Kong partner",
                "--preset",
                "kong-hmac-auth",
                "--key-id",
                "alice123",
                "--secret-stdin",
            ],
            &hmac_secret,
        )
        .ok();
    let shown = hmac.json();
    assert_eq!(shown["preset"], "kong-hmac-auth", "{shown}");
    assert_eq!(shown["keyId"], "alice123", "{shown}");

    let call = json!({"method": "GET", "url": upstream.url("/backups/2026.tar")});
    for (id, prefix) in [
        (
            aws.json().id(),
            "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/",
        ),
        (hmac.json().id(), "hmac username=\"alice123\""),
    ] {
        let reply = env.app.api.proxy(&id, &env.admin, &call).await;
        assert_eq!(reply.status, reqwest::StatusCode::OK, "{}", reply.body);
        let authorization = upstream.last().header("authorization")[0].to_owned();
        assert!(authorization.starts_with(prefix), "{authorization}");
    }
    for run in [&aws, &hmac] {
        assert!(!run.stdout.contains(&aws_secret) && !run.stdout.contains(&hmac_secret));
    }
    let listed = env.vault(&["credentials", "list"]).ok().stdout;
    assert!(
        listed.contains("S3 backups") && listed.contains("Kong partner"),
        "{listed}"
    );
}
