//! The key managers that the key-manager tests run against ([`crate::helpers::key_managers`]),
//! each checked on its own, with no vault code, before anything relies on them:
//!
//! - OpenBao Transit: encrypt and decrypt, a tampered ciphertext, key rotation (new
//!   ciphertexts on v2, v1 still opening, rewrap), a minimum decryption version, a wrong
//!   token;
//! - moto's KMS, through botocore: GenerateDataKey and Decrypt, a tampered ciphertext, the
//!   wrong key, another region, DisableKey, and a reset that forgets every key;
//! - SoftHSM2: a token in a temporary directory, an AES-256 key generated inside it with
//!   OpenSC's `pkcs11-tool`, a wrong PIN, and one token not seeing another's keys.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::key_managers::{MotoServer, OpenBaoDev, SoftHsm};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openbao_transit_encrypts_decrypts_and_rotates_a_key() {
    let Some(bao) = OpenBaoDev::start() else {
        return;
    };
    let bao = &bao;
    assert!(
        bao.addr().starts_with("http://127.0.0.1:"),
        "{}",
        bao.addr()
    );
    // Calls with the root token, each answering with a success; `open` may fail.
    let root = |path: &'static str, body: Value| async move {
        let body = (!body.is_null()).then_some(body);
        let (status, body) = bao.call(bao.root_token(), Method::POST, path, body).await;
        assert!(
            status.is_success(),
            "{path}: {status}: {body}\n{}",
            bao.output()
        );
        body
    };
    let seal = |plaintext: &str| {
        let body = json!({"plaintext": plaintext});
        async move { root("transit/encrypt/vault-kek", body).await["data"]["ciphertext"].clone() }
    };
    let open = |ciphertext: &Value| {
        let body = Some(json!({"ciphertext": ciphertext}));
        async move {
            let token = bao.root_token();
            let (status, body) = bao
                .call(token, Method::POST, "transit/decrypt/vault-kek", body)
                .await;
            (status, body["data"]["plaintext"].clone())
        }
    };
    root("sys/mounts/transit", json!({"type": "transit"})).await;
    root("transit/keys/vault-kek", Value::Null).await;

    let bytes: Vec<u8> = std::iter::repeat_with(|| fastrand::u8(..))
        .take(32)
        .collect();
    let secret = json!(STANDARD.encode(bytes));
    let plaintext = secret.as_str().expect("base64");
    let v1 = seal(plaintext).await;
    assert!(
        v1.as_str().is_some_and(|c| c.starts_with("vault:v1:")),
        "{v1}"
    );
    assert_eq!(open(&v1).await, (StatusCode::OK, secret.clone()));
    // A fresh nonce each time, and a ciphertext altered by one character does not open.
    assert_ne!(seal(plaintext).await, v1);
    let mut tampered = v1.as_str().expect("a ciphertext").to_owned().into_bytes();
    let at = tampered.len() - 3;
    tampered[at] = if tampered[at] == b'A' { b'B' } else { b'A' };
    let tampered = json!(String::from_utf8(tampered).expect("ascii"));
    assert_eq!(open(&tampered).await.0, StatusCode::BAD_REQUEST);

    // Rotation: new ciphertexts on v2, the v1 one still opens, and rewrap moves it to v2.
    root("transit/keys/vault-kek/rotate", Value::Null).await;
    let v2 = seal(plaintext).await;
    assert!(
        v2.as_str().is_some_and(|c| c.starts_with("vault:v2:")),
        "{v2}"
    );
    assert_eq!(open(&v1).await, (StatusCode::OK, secret.clone()));
    assert_eq!(open(&v2).await, (StatusCode::OK, secret.clone()));
    let rewrapped = root("transit/rewrap/vault-kek", json!({"ciphertext": v1})).await;
    let rewrapped = rewrapped["data"]["ciphertext"].clone();
    assert!(
        rewrapped
            .as_str()
            .is_some_and(|c| c.starts_with("vault:v2:")),
        "{rewrapped}"
    );

    // Retiring v1: its ciphertexts stop opening, the rewrapped one still does.
    root(
        "transit/keys/vault-kek/config",
        json!({"min_decryption_version": 2}),
    )
    .await;
    assert_eq!(open(&v1).await.0, StatusCode::BAD_REQUEST);
    assert_eq!(open(&rewrapped).await, (StatusCode::OK, secret.clone()));

    // Only its token opens anything.
    let key = "transit/keys/vault-kek";
    let (status, _) = bao.call(bao.root_token(), Method::GET, key, None).await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = bao.call("not-the-token", Method::GET, key, None).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    let body = Some(json!({"ciphertext": v2}));
    let (status, body) = bao
        .call(
            "not-the-token",
            Method::POST,
            "transit/decrypt/vault-kek",
            body,
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
}

#[test]
fn moto_kms_generates_and_decrypts_data_keys() {
    let Some(moto) = MotoServer::start() else {
        return;
    };
    assert!(
        moto.endpoint().starts_with("http://127.0.0.1:"),
        "{}",
        moto.endpoint()
    );
    let result = moto.botocore(
        r#"
key = kms.create_key(Description="vault-kek")["KeyMetadata"]["KeyId"]
other = kms.create_key()["KeyMetadata"]["KeyId"]
data = kms.generate_data_key(KeyId=key, KeySpec="AES_256")
blob = data["CiphertextBlob"]
opened = kms.decrypt(CiphertextBlob=blob)
tampered = blob[:-1] + bytes([blob[-1] ^ 1])
out = {
    "endpoint": kms.meta.endpoint_url,
    "plaintext": base64.b64encode(data["Plaintext"]).decode(),
    "ciphertext_len": len(blob),
    "decrypted": base64.b64encode(opened["Plaintext"]).decode(),
    "decrypted_key": opened["KeyId"],
    "key_arn": kms.describe_key(KeyId=key)["KeyMetadata"]["Arn"],
    "tampered": error_code(lambda: kms.decrypt(CiphertextBlob=tampered)),
    "wrong_key": error_code(lambda: kms.decrypt(CiphertextBlob=blob, KeyId=other)),
    "other_region": error_code(lambda: kms_in("eu-west-1").decrypt(CiphertextBlob=blob)),
}
kms.disable_key(KeyId=key)
out["state_after_disable"] = kms.describe_key(KeyId=key)["KeyMetadata"]["KeyState"]
out["decrypt_after_disable"] = error_code(lambda: kms.decrypt(CiphertextBlob=blob))
urllib.request.urlopen(urllib.request.Request(
    os.environ["AWS_ENDPOINT_URL"] + "/moto-api/reset", method="POST"))
out["decrypt_after_reset"] = error_code(lambda: kms.decrypt(CiphertextBlob=blob))
print(json.dumps(out))
"#,
    );
    // The client took its endpoint from the environment the vault will get (aws_env).
    assert_eq!(result["endpoint"], moto.endpoint(), "{result}");
    let plaintext = STANDARD
        .decode(result["plaintext"].as_str().expect("plaintext"))
        .expect("base64");
    assert_eq!(plaintext.len(), 32, "{result}");
    assert!(
        result["ciphertext_len"].as_u64().is_some_and(|n| n > 32),
        "{result}"
    );
    assert_eq!(result["decrypted"], result["plaintext"], "{result}");
    assert_eq!(result["decrypted_key"], result["key_arn"], "{result}");
    assert_eq!(result["tampered"], "InvalidCiphertextException", "{result}");
    assert_eq!(result["wrong_key"], "AccessDeniedException", "{result}");
    assert_eq!(result["other_region"], "AccessDeniedException", "{result}");
    assert_eq!(result["state_after_disable"], "Disabled", "{result}");
    // moto 5.2.5 does not enforce a key's state: Decrypt under a disabled key still
    // succeeds (AWS answers DisabledException). A disabled key is seen through DescribeKey;
    // a key that is gone, after /moto-api/reset, is refused. If moto starts enforcing it,
    // this fails: then the key-manager tests can rely on Decrypt refusing.
    assert_eq!(result["decrypt_after_disable"], json!(null), "{result}");
    assert_eq!(
        result["decrypt_after_reset"], "AccessDeniedException",
        "{result}"
    );
}

#[test]
fn softhsm_token_holds_an_aes_key_behind_its_pin() {
    let Some(hsm) = SoftHsm::init() else {
        return;
    };
    assert!(
        hsm.module_path().is_file(),
        "{}",
        hsm.module_path().display()
    );
    let out = hsm
        .command("softhsm2-util")
        .arg("--show-slots")
        .output()
        .expect("run softhsm2-util");
    let slots = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{slots}");
    assert!(slots.contains(&format!("Slot {}\n", hsm.slot())), "{slots}");
    assert!(
        slots
            .lines()
            .any(|l| l.trim() == format!("Label:            {}", hsm.label())),
        "{slots}"
    );

    let Some(mut keygen) = hsm.pkcs11_tool() else {
        return;
    };
    let out = keygen
        .args(["--login", "--pin", hsm.pin()])
        .args(["--keygen", "--key-type", "AES:32", "--label", "kek"])
        .output()
        .expect("run pkcs11-tool");
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{said}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let list = |pin: &str| {
        let mut command = hsm.pkcs11_tool().expect("pkcs11-tool");
        command.args([
            "--login",
            "--pin",
            pin,
            "--list-objects",
            "--type",
            "secrkey",
        ]);
        command.output().expect("run pkcs11-tool")
    };
    let out = list(hsm.pin());
    let objects = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{objects}");
    assert!(
        objects.contains("Secret Key Object; AES length 32"),
        "{objects}"
    );
    assert!(objects.contains("label:      kek"), "{objects}");
    // Generated inside the token, and it never leaves it.
    assert!(objects.contains("never extractable"), "{objects}");

    let out = list("wrong-pin");
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("CKR_PIN_INCORRECT"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // Another token, in its own directory, has the same label and none of these keys.
    let Some(other) = SoftHsm::init() else {
        return;
    };
    let mut command = other.pkcs11_tool().expect("pkcs11-tool");
    let out = command
        .args([
            "--login",
            "--pin",
            other.pin(),
            "--list-objects",
            "--type",
            "secrkey",
        ])
        .output()
        .expect("run pkcs11-tool");
    assert!(out.status.success());
    assert!(!String::from_utf8_lossy(&out.stdout).contains("kek"));
}
