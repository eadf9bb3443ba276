//! moto enforcing IAM: after the setup, `POST /moto-api/reset-auth` with `0` (as
//! text/plain: a form body would be parsed away) makes moto check every request's SigV4 signature (recomputed with botocore's `SigV4Auth` from the
//! secret it issued) and the caller's IAM policies. So these tests prove that our signature
//! is the one AWS computes, that the session token is sent and signed, and that refusals
//! come back as `Denied`.
//!
//! moto evaluates KMS permissions against the resource `*` only, so the policies below use
//! `"Resource": "*"`: per-key scoping cannot be shown here (the README's policy names the
//! key).

use serde_json::Value;
use vault_core::KeyManager;
use vault_keymanager_awskms::AwsKmsKeyManager;
use vault_testkit::key_managers::MotoServer;

use crate::{CONTEXT, KEYRING, NO_STATIC, config, env_with, failure, moto_or_skip, text};

/// Creates a key, two users (`vault`: Encrypt, Decrypt, DescribeKey; `encrypt-only`:
/// Encrypt and DescribeKey) with access keys, a role `vault` allowed the three actions,
/// temporary credentials of that role, then turns enforcement on.
fn setup(moto: &MotoServer) -> Value {
    moto.botocore(
        r#"
iam = botocore.session.get_session().create_client("iam")
sts = botocore.session.get_session().create_client("sts")
key = kms.create_key(Description="vault")["KeyMetadata"]
def policy(actions):
    return json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": actions, "Resource": "*"}]})
out = {"key": key["KeyId"], "arn": key["Arn"]}
for user, actions in [("vault", ["kms:Encrypt", "kms:Decrypt", "kms:DescribeKey"]),
                      ("encrypt-only", ["kms:Encrypt", "kms:DescribeKey"])]:
    iam.create_user(UserName=user)
    iam.put_user_policy(UserName=user, PolicyName="kms", PolicyDocument=policy(actions))
    k = iam.create_access_key(UserName=user)["AccessKey"]
    out[user] = {"id": k["AccessKeyId"], "secret": k["SecretAccessKey"]}
trust = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
    "Principal": {"Federated": "arn:aws:iam::123456789012:oidc-provider/example"},
    "Action": "sts:AssumeRoleWithWebIdentity"}]})
role = iam.create_role(RoleName="vault", AssumeRolePolicyDocument=trust)["Role"]
iam.put_role_policy(RoleName="vault", PolicyName="kms",
    PolicyDocument=policy(["kms:Encrypt", "kms:Decrypt", "kms:DescribeKey"]))
out["role"] = role["Arn"]
c = sts.assume_role(RoleArn=role["Arn"], RoleSessionName="vault-session")["Credentials"]
out["session"] = {"id": c["AccessKeyId"], "secret": c["SecretAccessKey"], "token": c["SessionToken"]}
urllib.request.urlopen(urllib.request.Request(
    os.environ["AWS_ENDPOINT_URL"] + "/moto-api/reset-auth", data=b"0", method="POST",
    headers={"Content-Type": "text/plain"}))
# Enforced now: the setup's own dummy credentials are refused.
out["dummy"] = error_code(lambda: kms.describe_key(KeyId=key["KeyId"]))
print(json.dumps(out))
"#,
    )
}

/// Enforcement from now on, except for the next `free` requests.
fn enforce_after(moto: &MotoServer, free: u32) {
    let out = moto.botocore(&format!(
        r#"urllib.request.urlopen(urllib.request.Request(
    os.environ["AWS_ENDPOINT_URL"] + "/moto-api/reset-auth", data=b"{free}", method="POST",
    headers={{"Content-Type": "text/plain"}}))
print("{{}}")"#
    ));
    assert!(out.is_object());
}

fn with_keys(
    moto: &MotoServer,
    key: &str,
    id: &str,
    secret: &str,
    token: Option<&str>,
) -> AwsKmsKeyManager {
    let changes = [
        ("AWS_ACCESS_KEY_ID", Some(id)),
        ("AWS_SECRET_ACCESS_KEY", Some(secret)),
        ("AWS_SESSION_TOKEN", token),
    ];
    AwsKmsKeyManager::new(config(key), env_with(moto, &changes)).expect("manager")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signatures_and_policies_are_enforced() {
    let moto = moto_or_skip!();
    let setup = setup(&moto);
    // botocore reads moto's XML refusal of a JSON-protocol call as a bare "403".
    assert!(!setup["dummy"].is_null(), "enforcement is not on");
    let key = text(&setup["key"]);
    let (vault_id, vault_secret) = (text(&setup["vault"]["id"]), text(&setup["vault"]["secret"]));

    // Our signatures pass moto's recomputation, for every operation.
    let vault = with_keys(&moto, &key, &vault_id, &vault_secret, None);
    vault_testkit::key_manager_suite::run_all(&vault).await;
    let wrapped = vault.wrap(KEYRING, CONTEXT).await.expect("wrap");

    // A user allowed Encrypt and DescribeKey only: wraps, passes check, cannot unwrap.
    let only = &setup["encrypt-only"];
    let encrypt_only = with_keys(
        &moto,
        &key,
        &text(&only["id"]),
        &text(&only["secret"]),
        None,
    );
    encrypt_only.check().await.expect("check");
    encrypt_only.wrap(KEYRING, CONTEXT).await.expect("wrap");
    let message = failure(encrypt_only.unwrap(&wrapped, CONTEXT).await, "Denied");
    assert!(message.contains("kms:Decrypt"), "{message}");

    // The right key id with a wrong secret: the signature does not match.
    let wrong_secret = format!("{}x", &vault_secret[..vault_secret.len() - 1]);
    let forged = with_keys(&moto, &key, &vault_id, &wrong_secret, None);
    let message = failure(forged.check().await, "Denied");
    assert!(message.contains("SignatureDoesNotMatch"), "{message}");
    assert!(!message.contains(&wrong_secret) && !message.contains(&vault_secret));
    failure(forged.wrap(KEYRING, CONTEXT).await, "Denied");

    // An access key id IAM never issued.
    let unknown = with_keys(&moto, &key, "AKIAUNKNOWNUNKNOWN00", &vault_secret, None);
    let message = failure(unknown.check().await, "Denied");
    assert!(message.contains("InvalidClientTokenId"), "{message}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn temporary_credentials_sign_with_their_session_token() {
    let moto = moto_or_skip!();
    let setup = setup(&moto);
    let key = text(&setup["key"]);
    let session = &setup["session"];
    let (id, secret, token) = (
        text(&session["id"]),
        text(&session["secret"]),
        text(&session["token"]),
    );

    let role = with_keys(&moto, &key, &id, &secret, Some(&token));
    vault_testkit::key_manager_suite::round_trip(&role).await;
    role.check().await.expect("check");

    // Another session token with the same keys: moto compares it to the one it issued.
    let other = with_keys(&moto, &key, &id, &secret, Some("FQoGZXIvYXdzEOTHERTOKEN"));
    let message = failure(other.check().await, "Denied");
    assert!(message.contains("InvalidClientTokenId"), "{message}");
    assert!(!message.contains("FQoGZXIvYXdzEOTHERTOKEN") && !message.contains(&token));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn profile_and_web_identity_credentials_are_the_ones_signed_with() {
    let moto = moto_or_skip!();
    let setup = setup(&moto);
    let key = text(&setup["key"]);
    let dir = tempfile::tempdir().expect("temp dir");

    // The profile's keys (the environment has none): only the real ones pass.
    let file = dir.path().join("credentials");
    std::fs::write(
        &file,
        format!(
            "[default]\naws_access_key_id = {}\naws_secret_access_key = {}\n",
            text(&setup["vault"]["id"]),
            text(&setup["vault"]["secret"])
        ),
    )
    .expect("credentials file");
    let mut changes = NO_STATIC.to_vec();
    changes.push(("AWS_SHARED_CREDENTIALS_FILE", file.to_str()));
    let profile = AwsKmsKeyManager::new(config(&key), env_with(&moto, &changes)).expect("manager");
    vault_testkit::key_manager_suite::round_trip(&profile).await;

    // Web identity: moto cannot authenticate the unsigned AssumeRoleWithWebIdentity, so
    // that one request goes free; the KMS calls after it are checked, signed with the
    // secret and session token read from STS's XML answer.
    let token = dir.path().join("token");
    std::fs::write(&token, "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ2YXVsdCJ9.c2ln").expect("token");
    let role = text(&setup["role"]);
    let mut changes = NO_STATIC.to_vec();
    changes.extend([
        ("AWS_WEB_IDENTITY_TOKEN_FILE", token.to_str()),
        ("AWS_ROLE_ARN", Some(role.as_str())),
    ]);
    let web = AwsKmsKeyManager::new(config(&key), env_with(&moto, &changes)).expect("manager");
    enforce_after(&moto, 1);
    vault_testkit::key_manager_suite::round_trip(&web).await;
    web.check().await.expect("check");
}
