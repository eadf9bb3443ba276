//! `vault credentials connect`: an authorization-code credential made with the client
//! (a public client needs no secret, a confidential one still asks for its secret without
//! `--client-auth`), and the authorization URL printed alone on stdout.

use super::Env;
use crate::helpers::canary;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connect_prints_the_authorization_url_of_an_authorization_code_credential() {
    let env = Env::start(false);
    env.login();
    let created = env
        .vault(&[
            "credentials",
            "create",
            "--json",
            "--type",
            "oauth2",
            "--name",
            "CRM for Ada",
            "--grant",
            "authorization_code",
            "--client-id",
            "public-app",
            "--client-auth",
            "none",
            "--authorization-url",
            "https://auth.example.com/authorize",
            "--token-url",
            "https://auth.example.com/token",
            "--allowed-host",
            "auth.example.com",
        ])
        .ok()
        .json();
    let id = created["id"].as_str().expect("an id").to_owned();
    assert_eq!(created["connection"]["status"], "pending", "{created}");

    let run = env.vault(&["credentials", "connect", &id]).ok();
    let url = run.stdout.trim();
    assert!(
        url.starts_with("https://auth.example.com/authorize?"),
        "{url}"
    );
    assert_eq!(
        run.stdout.lines().count(),
        1,
        "the URL alone: {}",
        run.stdout
    );
    assert!(url.contains("code_challenge_method=S256"), "{url}");
    assert!(
        run.stderr.contains(&format!("{}/oauth/callback", env.base)),
        "{}",
        run.stderr
    );
    let json = env
        .vault(&["credentials", "connect", "--json", &id])
        .ok()
        .json();
    assert!(
        json["authorizationUrl"].as_str().is_some_and(|u| u != url),
        "a new link each time"
    );

    // The client-credentials grant has no connection; its secret is still asked for when
    // --client-auth is left at its default.
    let secret = canary("ccsecret");
    let other = env
        .vault_in(
            &[
                "credentials",
                "create",
                "--json",
                "--type",
                "oauth2",
                "--name",
                "M2M",
                "--client-id",
                "m2m",
                "--token-url",
                "https://auth.example.com/token",
                "--allowed-host",
                "auth.example.com",
                "--secret-stdin",
            ],
            &secret,
        )
        .ok()
        .json();
    assert_eq!(other["grant"], "client_credentials", "{other}");
    let other_id = other["id"].as_str().expect("an id");
    let refused = env.vault(&["credentials", "connect", other_id]).failed(3);
    assert!(
        refused.stderr.contains("not-connectable"),
        "{}",
        refused.stderr
    );
}
