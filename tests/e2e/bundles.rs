//! Encrypted export and import (issue 22): an organization's credentials, secret values and
//! versions included, leave one installation as an age file and arrive in another whose
//! encryption key differs, on SQLite and on PostgreSQL. Wrong passphrases and invalid
//! bundles import nothing, importing again changes nothing, both sides audit, and no
//! secret shows anywhere on the way. Bundles are judged by two age implementations no one
//! here wrote: Go's `age` (Debian) and pyrage (PyPI), from `scripts/install-age-tools.sh`.

use std::io::Write as _;
use std::process::{Command, Stdio};

use base64::Engine as _;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::upstream::{Upstream, start_upstream};
use crate::helpers::{
    Api, Backend, Id, Installation, Reply, Server, canary, new_key, run_ok, tool_unavailable,
};
use crate::usage::mtls::{ca, leaf, pkcs12};

const PASSPHRASE: &str = "correct horse battery staple";

/// One installation: its own database and encryption key, the binary serving it, and the
/// admin key of its organization `acme`.
struct Side {
    installation: Installation,
    key: String,
    server: Server,
    api: Api,
}

impl Side {
    fn start(backend: Backend) -> Option<Self> {
        let key = new_key();
        let installation = Installation::new(backend, &key)?;
        let mut cmd = installation.command(&key);
        cmd.env("VAULT_PROXY_ALLOW_PRIVATE_NETWORKS", "true");
        let server = Server::start(cmd);
        Some(Self {
            api: Api::new(&server.base),
            installation,
            key,
            server,
        })
    }

    fn admin(&self) -> &str {
        &self.installation.token
    }

    async fn organization(&self) -> String {
        let events = self
            .api
            .get_json("/audit-events?limit=1", self.admin())
            .await;
        events["items"][0]["organizationId"]
            .as_str()
            .expect("an organization")
            .to_owned()
    }

    /// A key with `credentials:export`, which only the operator can issue.
    async fn exporter(&self) -> String {
        let mut cmd = self.installation.command(&self.key);
        let organization = self.organization().await;
        cmd.args([
            "access-keys",
            "create",
            "--org",
            &organization,
            "--name",
            "exporter",
        ])
        .args(["--scope", "credentials:export"]);
        run_ok(cmd)
    }

    async fn export(&self, token: &str, body: &Value) -> (StatusCode, Vec<u8>, Option<String>) {
        let response = self
            .api
            .request(Method::POST, "/credentials/export")
            .bearer_auth(token)
            .json(body)
            .send()
            .await
            .expect("answered");
        let count = response
            .headers()
            .get("vault-exported-credentials")
            .map(|v| v.to_str().expect("ascii").to_owned());
        (
            response.status(),
            response.bytes().await.expect("a body").to_vec(),
            count,
        )
    }

    async fn import(&self, bundle: &[u8], opener: (&str, &str), ids: &str) -> Reply {
        let body = json!({"bundle": base64::engine::general_purpose::STANDARD.encode(bundle),
                          opener.0: opener.1, "ids": ids});
        self.api
            .call(
                Method::POST,
                "/credentials/import",
                self.admin(),
                Some(&body),
            )
            .await
    }

    async fn credentials(&self) -> Vec<Value> {
        self.api.list_all("/credentials", self.admin()).await
    }

    async fn audited(&self, action: &str) -> Vec<Value> {
        let page = self
            .api
            .get_json(
                &format!("/audit-events?action={action}&limit=100"),
                self.admin(),
            )
            .await;
        page["items"].as_array().expect("items").clone()
    }

    fn log(&self) -> String {
        let out = self.server.stdout.lock().expect("lock").clone();
        out + &self.server.stderr.lock().expect("lock")
    }
}

/// A credential of every type (two of oauth2, jwt and mtls), each secret a canary.
fn bodies(upstream: &Upstream, secrets: &mut Vec<String>) -> Vec<Value> {
    let mut secret = |label: &str| {
        let value = canary(label);
        secrets.push(value.clone());
        value
    };
    let hosts = json!([upstream.origin()]);
    let rsa = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../vault-jwt/tests/keys/rsa2048.pkcs8.pem"
    ))
    .expect("a test key");
    let (client_ca, server_ca) = (ca("client CA"), ca("server CA"));
    let far = time::OffsetDateTime::now_utc() + time::Duration::days(30);
    let (certificate, key) = leaf("exported client", &[], &client_ca, far);
    let (p12_certificate, p12_key) = leaf("exported p12 client", &[], &client_ca, far);
    let password = secret("p12-password");
    let archive = pkcs12(&p12_certificate, &p12_key, &client_ca.pem(), &password);
    vec![
        json!({"name": "Stripe", "type": "api_key", "value": secret("api-key"), "allowedHosts": hosts,
               "placement": {"in": "query", "name": "key"}, "description": "Production key"}),
        json!({"name": "GitHub", "type": "bearer_token", "value": secret("bearer"), "allowedHosts": hosts,
               "expiresAt": "2031-01-31T00:00:00Z", "caBundle": server_ca.pem()}),
        json!({"name": "Jenkins", "type": "basic_auth", "username": "ci", "password": secret("password"),
               "allowedHosts": hosts}),
        json!({"name": "Partner", "type": "custom", "allowedHosts": hosts,
               "headers": {"X-Partner-Key": secret("header"), "X-Partner-Id": secret("header-2")}}),
        json!({"name": "Auth0", "type": "oauth2", "clientId": "client-1", "clientSecret": secret("client-secret"),
               "tokenUrl": upstream.url("/token"), "scopes": ["read", "write"], "audience": "api",
               "allowedHosts": hosts}),
        json!({"name": "Signed client", "type": "oauth2", "clientId": "client-2", "clientAuth": "private_key_jwt",
               "privateKey": rsa, "tokenUrl": upstream.url("/token"), "allowedHosts": hosts}),
        json!({"name": "Internal JWT", "type": "jwt", "algorithm": "HS256", "secret": secret("jwt-secret-32-bytes-long"),
               "claims": {"iss": "vault", "aud": "api"}, "allowedHosts": hosts}),
        json!({"name": "Partner JWT", "type": "jwt", "algorithm": "RS256", "privateKey": rsa, "allowedHosts": hosts}),
        json!({"name": "KMS", "type": "aws_sigv4", "accessKeyId": "AKIAIOSFODNN7EXAMPLE", "secretAccessKey": secret("aws"),
               "region": "us-east-1", "service": "kms", "allowedHosts": hosts}),
        json!({"name": "Kong", "type": "hmac_signature", "preset": "kong-hmac-auth", "keyId": "alice",
               "secret": secret("hmac"), "allowedHosts": hosts}),
        json!({"name": "mTLS", "type": "mtls", "certificate": certificate, "privateKey": key, "allowedHosts": hosts}),
        json!({"name": "mTLS p12", "type": "mtls", "certificateFormat": "pkcs12", "pkcs12": archive,
               "pkcs12Password": password, "allowedHosts": hosts}),
    ]
}

/// A view without what an import renumbers (the ETag counter), and with the form a
/// PKCS#12 archive is stored in (its PEM chain and key, which is what the bundle carries).
fn comparable(view: &Value) -> Value {
    let mut view = view.clone();
    view.as_object_mut().expect("an object").remove("revision");
    if view["certificateFormat"] == "pkcs12" {
        view["certificateFormat"] = json!("pem");
    }
    view
}

/// What a version list shows, without who made each (an import's key, over there).
async fn versions(side: &Side, id: &str) -> Vec<Value> {
    let listed = side
        .api
        .get_json(&format!("/credentials/{id}/versions"), side.admin())
        .await;
    listed["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|v| {
            json!([
                v["number"],
                v["createdAt"],
                v["secretHints"],
                v["restoredFrom"]
            ])
        })
        .collect()
}

/// The authentication the upstream saw for one proxied call.
async fn seen(side: &Side, upstream: &Upstream, id: &str) -> (Vec<String>, Option<String>) {
    let call = json!({"method": "GET", "url": upstream.url("/record/seen")});
    let used = side.api.proxy(id, side.admin(), &call).await;
    assert_eq!(used.status, StatusCode::OK, "{}", used.body);
    let got = upstream.last();
    let headers = ["authorization", "x-partner-key", "x-partner-id"]
        .iter()
        .flat_map(|name| got.header(name).into_iter().map(str::to_owned))
        .collect();
    (headers, got.query.clone())
}

fn assert_no_secret(secrets: &[String], text: &str, what: &str) {
    for secret in secrets {
        assert!(!text.contains(secret.as_str()), "{secret} in {what}");
    }
}

async fn moves_between_installations(backend: Backend) {
    let (Some(source), Some(target)) = (Side::start(backend), Side::start(backend)) else {
        return;
    };
    let upstream = start_upstream().await;
    let mut secrets = Vec::new();
    let mut ids = Vec::new();
    let bodies = bodies(&upstream, &mut secrets);
    for body in &bodies {
        ids.push(
            source
                .api
                .create_credential(source.admin(), body)
                .await
                .id(),
        );
    }
    // Two more versions of the bearer token: the history goes along.
    let bearer = ids[1].clone();
    let newer = [canary("bearer-2"), canary("bearer-3")];
    for value in &newer {
        let changed = source
            .api
            .update_credential(&bearer, source.admin(), &json!({"value": value}))
            .await;
        assert_eq!(changed.status, StatusCode::OK, "{}", changed.body);
    }
    secrets.extend(newer.iter().cloned());

    // No default key exports, nor can it make a key that does.
    let (status, _, _) = source
        .export(source.admin(), &json!({"passphrase": PASSPHRASE}))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let escalation = source
        .api
        .create_access_key(
            source.admin(),
            &json!({"name": "x", "scopes": ["credentials:export"]}),
        )
        .await;
    escalation.assert_problem(StatusCode::FORBIDDEN, "scope-escalation");
    let exporter = source.exporter().await;
    // Its creation is audited as the operator's, naming the key (the bootstrap admin's
    // creation, also without an acting key, names another).
    let keys = source.api.list_all("/access-keys", source.admin()).await;
    let exporter_id = keys
        .iter()
        .find(|k| k["name"] == "exporter")
        .map(Id::id)
        .expect("the exporter key is listed");
    let issued = source.audited("access_key.create").await;
    assert!(
        issued.iter().any(|e| e["outcome"] == "success"
            && e["actorAccessKeyId"].is_null()
            && e["actorSubject"] == "vault-server operator"
            && e["targetId"] == exporter_id.as_str()),
        "{issued:?}"
    );
    let short = source
        .export(&exporter, &json!({"passphrase": "too short"}))
        .await;
    assert_eq!(short.0, StatusCode::UNPROCESSABLE_ENTITY);

    let (status, bundle, count) = source
        .export(
            &exporter,
            &json!({"passphrase": PASSPHRASE, "versions": true}),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&bundle)
    );
    assert_eq!(count.as_deref(), Some(ids.len().to_string().as_str()));
    assert!(bundle.starts_with(b"age-encryption.org/v1\n-> scrypt "));
    assert_no_secret(&secrets, &String::from_utf8_lossy(&bundle), "the bundle");
    let exported = source.audited("credential.export").await;
    let mut targets: Vec<&str> = exported
        .iter()
        .filter_map(|e| e["targetId"].as_str())
        .collect();
    targets.sort_unstable();
    let mut expected: Vec<&str> = ids.iter().map(String::as_str).collect();
    expected.sort_unstable();
    assert_eq!(targets, expected, "one credential.export per credential");
    assert!(
        exported
            .iter()
            .any(|e| e["outcome"] == "failure" && e["reason"] == "insufficient-scope")
    );

    // A wrong passphrase imports nothing, and is audited over there.
    let wrong = target
        .import(
            &bundle,
            ("passphrase", "incorrect horse battery staple"),
            "keep",
        )
        .await;
    wrong.assert_problem(StatusCode::UNPROCESSABLE_ENTITY, "bundle-not-opened");
    assert!(target.credentials().await.is_empty());
    let refused = target.audited("credential.import").await;
    assert_eq!(refused.len(), 1, "{refused:?}");
    assert_eq!(refused[0]["reason"], "bundle-not-opened");

    let imported = target
        .import(&bundle, ("passphrase", PASSPHRASE), "keep")
        .await;
    assert_eq!(imported.status, StatusCode::OK, "{}", imported.body);
    assert_no_secret(&secrets, &imported.body, "the import's answer");
    let report = imported.json();
    assert_eq!(report["created"], ids.len(), "{report}");
    for item in report["items"].as_array().expect("items") {
        assert_eq!(item["id"], item["sourceId"], "ids kept: {item}");
    }
    for id in &ids {
        let there = source
            .api
            .get_json(&format!("/credentials/{id}"), source.admin())
            .await;
        let here = target
            .api
            .get_json(&format!("/credentials/{id}"), target.admin())
            .await;
        assert_eq!(comparable(&here), comparable(&there), "{id}");
        assert_eq!(
            versions(&target, id).await,
            versions(&source, id).await,
            "{id}"
        );
    }
    // Sealed again under this installation's key, the values reach the upstream as before.
    for id in &ids[..4] {
        assert_eq!(
            seen(&target, &upstream, id).await,
            seen(&source, &upstream, id).await,
            "{id}"
        );
    }
    let restored = target.api.restore_version(&bearer, 1, target.admin()).await;
    assert_eq!(restored.status, StatusCode::OK, "{}", restored.body);
    let (auth, _) = seen(&target, &upstream, &bearer).await;
    let first = bodies[1]["value"].as_str().expect("the first value");
    assert_eq!(auth, [format!("Bearer {first}")], "version 1 came along");

    // Again: nothing new. With new ids: copies, found again the next time.
    let again = target
        .import(&bundle, ("passphrase", PASSPHRASE), "keep")
        .await
        .json();
    assert_eq!(
        (again["created"].clone(), again["existing"].clone()),
        (json!(0), json!(ids.len()))
    );
    let copies = target
        .import(&bundle, ("passphrase", PASSPHRASE), "new")
        .await
        .json();
    assert_eq!(copies["created"], ids.len(), "{copies}");
    for item in copies["items"].as_array().expect("items") {
        assert_ne!(item["id"], item["sourceId"], "{item}");
    }
    let copies_again = target
        .import(&bundle, ("passphrase", PASSPHRASE), "new")
        .await
        .json();
    assert_eq!(copies_again["existing"], ids.len(), "{copies_again}");
    assert_eq!(
        copies_again["items"],
        copies["items"]
            .as_array()
            .map(|items| {
                items
                    .iter()
                    .map(|i| {
                        let mut i = i.clone();
                        i["outcome"] = json!("exists");
                        i
                    })
                    .collect::<Vec<_>>()
            })
            .map(Value::from)
            .expect("items")
    );
    assert_eq!(target.credentials().await.len(), 2 * ids.len());
    let audited = target.audited("credential.import").await;
    let created = audited.iter().filter(|e| e["outcome"] == "success").count();
    assert_eq!(
        created,
        2 * ids.len(),
        "one credential.import per credential created"
    );

    for side in [&source, &target] {
        assert_no_secret(&secrets, &side.log(), "a server's log");
        let listed = serde_json::to_string(&side.credentials().await).expect("json");
        assert_no_secret(&secrets, &listed, "a listing");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_organization_moves_to_an_installation_with_another_key_on_sqlite() {
    moves_between_installations(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_organization_moves_to_an_installation_with_another_key_on_postgres() {
    moves_between_installations(Backend::Postgres).await;
}

/// Runs `program` with `args`, `input` on stdin; its stdout (never written to disk).
fn piped(program: &str, args: &[&str], env: &[(&str, &str)], input: &[u8]) -> Option<Vec<u8>> {
    let mut child = match Command::new(program)
        .args(args)
        .envs(env.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
    {
        Ok(child) => child,
        Err(error) => {
            return tool_unavailable(
                &format!("{program} cannot run ({error})"),
                "scripts/install-age-tools.sh",
            );
        }
    };
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input)
        .expect("written");
    let out = child.wait_with_output().expect("ran");
    assert!(
        out.status.success(),
        "{program}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(out.stdout)
}

fn pyrage_packages() -> String {
    concat!(env!("CARGO_MANIFEST_DIR"), "/../../target/py-age").to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn other_age_implementations_open_the_bundles_and_seal_ones_the_vault_imports() {
    let (Some(source), Some(target)) = (Side::start(Backend::Sqlite), Side::start(Backend::Sqlite))
    else {
        return;
    };
    let upstream = start_upstream().await;
    let secret = canary("judged");
    let body = json!({"name": "judged", "type": "bearer_token", "value": secret, "allowedHosts": [upstream.origin()]});
    source.api.create_credential(source.admin(), &body).await;
    let exporter = source.exporter().await;
    let dir = tempfile::tempdir().expect("a directory");
    let identity = dir.path().join("key.txt");
    let Some(_) = piped(
        "age-keygen",
        &["-o", identity.to_str().expect("utf8")],
        &[],
        b"",
    ) else {
        return;
    };
    let public = piped(
        "age-keygen",
        &["-y", identity.to_str().expect("utf8")],
        &[],
        b"",
    )
    .expect("age-keygen");
    let public = String::from_utf8(public).expect("utf8").trim().to_owned();

    // Go's age opens a bundle sealed to its key; pyrage one sealed to a passphrase.
    let (status, sealed, _) = source
        .export(&exporter, &json!({"recipients": [public]}))
        .await;
    assert_eq!(status, StatusCode::OK);
    let opened = piped(
        "age",
        &["-d", "-i", identity.to_str().expect("utf8")],
        &[],
        &sealed,
    )
    .expect("age");
    let document: Value = serde_json::from_slice(&opened).expect("a JSON document");
    assert_eq!(document["format"], "vault-bundle/1");
    assert_eq!(
        document["credentials"][0]["credential"]["value"],
        secret.as_str()
    );
    let (_, locked, _) = source
        .export(&exporter, &json!({"passphrase": PASSPHRASE}))
        .await;
    let script = "import sys, pyrage; sys.stdout.buffer.write(pyrage.passphrase.decrypt(sys.stdin.buffer.read(), sys.argv[1]))";
    let packages = pyrage_packages();
    let unlocked = piped(
        "python3",
        &["-c", script, PASSPHRASE],
        &[("PYTHONPATH", &packages)],
        &locked,
    )
    .expect("python3 (and pyrage: scripts/install-age-tools.sh)");
    let unlocked: Value = serde_json::from_slice(&unlocked).expect("a JSON document");
    assert_eq!(unlocked["credentials"][0]["credential"]["name"], "judged");

    // A document Go's age sealed imports; an invalid one is refused whole, naming the field.
    let mut edited = document.clone();
    edited["credentials"][0]["credential"]["name"] = json!("renamed on the way");
    let resealed = piped("age", &["-r", &public], &[], edited.to_string().as_bytes()).expect("age");
    let secret_key = std::fs::read_to_string(&identity).expect("the key file");
    let secret_key = secret_key
        .lines()
        .find(|l| l.starts_with("AGE-SECRET-KEY-1"))
        .expect("a secret key");
    let mut invalid = document.clone();
    let extra = json!({"id": "01900000-0000-7000-8000-000000000001", "createdAt": "2026-01-01T00:00:00Z",
                       "updatedAt": "2026-01-01T00:00:00Z", "currentVersion": 1, "restoreFloor": 0,
                       "credential": {"name": "bad", "type": "oauth2", "clientId": "c", "clientSecret": "s",
                                      "tokenUrl": "http://auth.example.com/token"}});
    invalid["credentials"]
        .as_array_mut()
        .expect("credentials")
        .push(extra);
    let refused = piped("age", &["-r", &public], &[], invalid.to_string().as_bytes()).expect("age");
    let refused = target
        .import(&refused, ("identity", secret_key), "keep")
        .await;
    let problem = refused.assert_problem(StatusCode::UNPROCESSABLE_ENTITY, "invalid-field");
    assert!(
        problem["errors"]
            .to_string()
            .contains("credentials[1].tokenUrl"),
        "{problem}"
    );
    assert!(target.credentials().await.is_empty(), "nothing imported");
    let imported = target
        .import(&resealed, ("identity", secret_key), "keep")
        .await;
    assert_eq!(imported.status, StatusCode::OK, "{}", imported.body);
    let listed = target.credentials().await;
    assert_eq!(listed[0]["name"], "renamed on the way");
    let call = json!({"method": "GET", "url": upstream.url("/record/judged")});
    let used = target
        .api
        .proxy(&listed[0].id(), target.admin(), &call)
        .await;
    assert_eq!(used.status, StatusCode::OK, "{}", used.body);
    assert_eq!(
        upstream.last().header("authorization"),
        [format!("Bearer {secret}")]
    );
    // The passphrase bundle does not open with a key, nor a damaged one at all.
    let mismatched = target
        .import(&locked, ("identity", secret_key), "keep")
        .await;
    mismatched.assert_problem(StatusCode::UNPROCESSABLE_ENTITY, "bundle-not-opened");
    let mut damaged = sealed.clone();
    let last = damaged.len() - 1;
    damaged[last] ^= 1;
    let damaged = target
        .import(&damaged, ("identity", secret_key), "keep")
        .await;
    damaged.assert_problem(StatusCode::UNPROCESSABLE_ENTITY, "bundle-unreadable");
    for side in [&source, &target] {
        assert_no_secret(
            &[secret.clone(), secret_key.to_owned()],
            &side.log(),
            "a server's log",
        );
    }
}
