//! Credentials that sign each request (`hmac_signature`), through the binary, judged by
//! verifiers no one here wrote: PyPI's `standardwebhooks` for the Standard Webhooks preset
//! (the HTTPS receiver of the webhook tests), and Python's `hmac` module, with each scheme
//! written out from its own documentation (`helpers/hmac_verify.py`), for Kong's hmac-auth
//! and a custom template.

use std::io::Write as _;
use std::process::{Command, Stdio};

use base64::Engine as _;

use super::*;
use crate::helpers::webhooks::{Received, WebhookReceiver};

/// The vault, trusting the receiver's CA and allowed to call it on loopback.
fn vault_for(receiver: &WebhookReceiver) -> Vault {
    let settings = receiver.server_settings();
    let mut all: Vec<(&str, &str)> = settings.iter().map(|(k, v)| (*k, v.as_str())).collect();
    all.push(("RUST_LOG", "debug"));
    Vault {
        app: TestServer::start(&all),
        canaries: Vec::new(),
    }
}

/// What `hmac_verify.py` says of `received`, verified as `scheme`.
fn python_verdict(scheme: &str, key: &str, username: &str, received: &Received) -> String {
    let path = format!(
        "{}/../../tests/e2e/helpers/hmac_verify.py",
        env!("CARGO_MANIFEST_DIR")
    );
    let case = json!({
        "scheme": scheme, "key": key, "username": username,
        "request": {"method": "POST", "path": received.path, "headers": received.headers,
                    "body": received.body},
    });
    let mut child = Command::new("python3")
        .arg(&path)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("python3 runs");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(case.to_string().as_bytes())
        .expect("the case");
    let output = child.wait_with_output().expect("the verdict");
    String::from_utf8_lossy(&output.stdout).trim().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signed_requests_verify_with_the_receivers_own_libraries() {
    let Some(receiver) = WebhookReceiver::start().await else {
        return;
    };
    let mut vault = vault_for(&receiver);
    let origin = receiver.url("");

    // Standard Webhooks: the secret as a subscriber holds it, whsec_ and base64.
    let raw = vault.secret("whsec");
    let whsec = format!(
        "whsec_{}",
        base64::engine::general_purpose::STANDARD.encode(raw.as_bytes())
    );
    vault.canaries.push(whsec.clone());
    receiver.set_secret("/standard", &whsec).await;
    let standard = vault
        .create(&json!({"name": "hooks out", "type": "hmac_signature",
                        "preset": "standard-webhooks", "secret": whsec,
                        "allowedHosts": [origin]}))
        .await;

    let kong_key = vault.secret("kong");
    let kong = vault
        .create(
            &json!({"name": "kong", "type": "hmac_signature", "preset": "kong-hmac-auth",
                        "keyId": "alice123", "secret": kong_key, "allowedHosts": [origin]}),
        )
        .await;

    let partner_key = vault.secret("partner");
    let partner = vault
        .create(&json!({"name": "partner", "type": "hmac_signature",
                        "algorithm": "HMAC-SHA512",
                        "stringToSign": "{method}\\n{pathAndQuery}\\n{timestamp}\\n{bodySha256}",
                        "signatureHeaders": {"X-Signature": "{signature}", "X-Timestamp": "{timestamp}"},
                        "secret": partner_key, "allowedHosts": [origin]}))
        .await;
    let shown = vault.get_json(&format!("/credentials/{partner}")).await;
    assert_eq!(shown["algorithm"], "HMAC-SHA512", "{shown}");
    assert_eq!(
        shown["signatureHeaders"]["x-signature"], "{signature}",
        "{shown}"
    );

    for (id, path) in [
        (&standard, "/standard"),
        (&kong, "/kong?b=1&a=%20x"),
        (&partner, "/partner?q=1"),
    ] {
        // A caller's attempt at the signature's own headers is replaced.
        let reply = vault
            .proxy(id, &json!({"method": "POST", "url": receiver.url(path),
                               "headers": {"webhook-signature": "v1,forged", "authorization": "forged",
                                           "x-signature": "forged", "content-type": "application/json"},
                               "body": "{\"event\":\"paid\",\"amount\":1250}"}))
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{path}: {}", reply.body);
    }
    let received = receiver
        .eventually_received(3, Duration::from_secs(10))
        .await;
    let at = |prefix: &str| {
        received
            .iter()
            .find(|r| r.path.starts_with(prefix))
            .unwrap_or_else(|| panic!("{prefix}: {received:#?}"))
    };
    let standard_hook = at("/standard");
    assert_eq!(
        standard_hook.verified,
        Some(true),
        "{:?}",
        standard_hook.error
    );
    assert!(standard_hook.headers["webhook-id"].starts_with("msg_"));
    assert_eq!(
        python_verdict("kong-hmac-auth", &kong_key, "alice123", at("/kong")),
        "ok"
    );
    assert_eq!(
        python_verdict("sha512-hex", &partner_key, "", at("/partner")),
        "ok"
    );

    // The same checks refuse a request signed with another key: the verifiers can fail.
    assert_ne!(
        python_verdict("kong-hmac-auth", "another key", "alice123", at("/kong")),
        "ok"
    );
    assert_ne!(
        python_verdict("sha512-hex", "another key", "", at("/partner")),
        "ok"
    );
    receiver
        .set_secret("/standard-other", "whsec_b3RoZXIga2V5")
        .await;
    vault
        .proxy(
            &standard,
            &json!({"method": "POST", "url": receiver.url("/standard-other"),
                                  "body": "{\"n\":1}"}),
        )
        .await;
    let other = receiver
        .eventually_received(4, Duration::from_secs(10))
        .await;
    let other = other
        .iter()
        .find(|r| r.path == "/standard-other")
        .expect("delivered");
    assert_eq!(
        other.verified,
        Some(false),
        "another secret does not verify"
    );

    // A retry the caller sends with the message's id keeps it, and still verifies.
    receiver.set_secret("/standard-retry", &whsec).await;
    let retry = json!({"method": "POST", "url": receiver.url("/standard-retry"),
                       "headers": {"webhook-id": "msg_2Wq9retry"}, "body": "{\"n\":2}"});
    let reply = vault.proxy(&standard, &retry).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let all = receiver
        .eventually_received(5, Duration::from_secs(10))
        .await;
    let retried = all
        .iter()
        .find(|r| r.path == "/standard-retry")
        .expect("delivered");
    assert_eq!(retried.headers["webhook-id"], "msg_2Wq9retry");
    assert_eq!(retried.verified, Some(true), "{:?}", retried.error);

    // A template that names no part of the request is refused, naming the field.
    let refused = vault
        .call(
            Method::POST,
            "/credentials",
            Some(&json!({
            "name": "bad", "type": "hmac_signature", "secret": "k",
            "stringToSign": "{timestamp}", "signatureHeaders": {"x-sig": "{signature}"}})),
        )
        .await;
    assert_eq!(
        refused.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        refused.body
    );
    assert_eq!(refused.json()["field"], "stringToSign", "{}", refused.body);
    vault.stop_and_check_logs(&[]);
}

/// Sets up moto: a KMS key, a user allowed to describe it with an access key, temporary
/// credentials of a role allowed the same, then has moto check every request's SigV4
/// signature (recomputed by botocore from the secret it issued) and IAM policy.
fn moto_with_users(moto: &vault_testkit::key_managers::MotoServer) -> Value {
    moto.botocore(
        r#"
iam = botocore.session.get_session().create_client("iam")
sts = botocore.session.get_session().create_client("sts")
key = kms.create_key(Description="signed")["KeyMetadata"]["KeyId"]
allow = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": ["kms:DescribeKey"], "Resource": "*"}]})
iam.create_user(UserName="caller")
iam.put_user_policy(UserName="caller", PolicyName="kms", PolicyDocument=allow)
k = iam.create_access_key(UserName="caller")["AccessKey"]
trust = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
    "Principal": {"AWS": "arn:aws:iam::123456789012:root"}, "Action": "sts:AssumeRole"}]})
role = iam.create_role(RoleName="caller", AssumeRolePolicyDocument=trust)["Role"]["Arn"]
iam.put_role_policy(RoleName="caller", PolicyName="kms", PolicyDocument=allow)
c = sts.assume_role(RoleArn=role, RoleSessionName="signed")["Credentials"]
urllib.request.urlopen(urllib.request.Request(
    os.environ["AWS_ENDPOINT_URL"] + "/moto-api/reset-auth", data=b"0", method="POST",
    headers={"Content-Type": "text/plain"}))
print(json.dumps({"key": key, "id": k["AccessKeyId"], "secret": k["SecretAccessKey"],
                  "session": {"id": c["AccessKeyId"], "secret": c["SecretAccessKey"],
                              "token": c["SessionToken"]}}))
"#,
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigv4_uses_pass_motos_signature_check() {
    let Some(moto) = vault_testkit::key_managers::MotoServer::start() else {
        return;
    };
    let setup = moto_with_users(&moto);
    let mut vault = Vault::start(true);
    let text = |v: &Value| v.as_str().expect("text").to_owned();
    let (secret, session_secret, token) = (
        text(&setup["secret"]),
        text(&setup["session"]["secret"]),
        text(&setup["session"]["token"]),
    );
    vault
        .canaries
        .extend([secret.clone(), session_secret.clone(), token.clone()]);
    let endpoint = moto.endpoint().to_owned();
    let create = |id: &Value, secret: &str, token: Option<&str>| {
        let mut body = json!({"name": "kms", "type": "aws_sigv4", "accessKeyId": id,
                              "secretAccessKey": secret, "region": "us-east-1",
                              "service": "kms", "allowedHosts": [endpoint]});
        if let Some(token) = token {
            body["sessionToken"] = json!(token);
        }
        body
    };
    let describe = json!({"method": "POST", "url": format!("{endpoint}/"),
                          "headers": {"content-type": "application/x-amz-json-1.1",
                                      "x-amz-target": "TrentService.DescribeKey"},
                          "body": json!({"KeyId": setup["key"]}).to_string()});

    let user = vault.create(&create(&setup["id"], &secret, None)).await;
    let reply = vault.proxy(&user, &describe).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(
        reply.json()["KeyMetadata"]["KeyId"],
        setup["key"],
        "{}",
        reply.body
    );

    let session = vault
        .create(&create(
            &setup["session"]["id"],
            &session_secret,
            Some(&token),
        ))
        .await;
    let reply = vault.proxy(&session, &describe).await;
    assert_eq!(
        reply.status,
        StatusCode::OK,
        "the session token is sent and signed: {}",
        reply.body
    );

    // The same check refuses another secret: moto really verifies.
    let wrong = vault
        .create(&create(&setup["id"], "not-the-secret-access-key", None))
        .await;
    let reply = vault.proxy(&wrong, &describe).await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN, "{}", reply.body);

    // Fields that are not what AWS takes are refused, naming them.
    for (field, value) in [
        ("region", "mars-1"),
        ("service", "KMS"),
        ("accessKeyId", "short"),
    ] {
        let mut body = create(&setup["id"], &secret, None);
        body[field] = json!(value);
        let refused = vault.call(Method::POST, "/credentials", Some(&body)).await;
        assert_eq!(
            refused.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{field}: {}",
            refused.body
        );
        assert_eq!(refused.json()["field"], field, "{}", refused.body);
    }
    vault.stop_and_check_logs(&[]);
}
