use std::time::Duration;

use super::*;

const TOKEN: &str = "s.token-that-must-not-show";
const SECRET_ID: &str = "secret-id-that-must-not-show";

fn config(auth: TransitAuth) -> TransitConfig {
    TransitConfig {
        address: "http://127.0.0.1:8200/".to_owned(),
        mount: "transit".to_owned(),
        key: "vault-kek".to_owned(),
        auth,
        namespace: None,
        ca_file: None,
        timeout: Duration::from_secs(5),
    }
}

fn token() -> TransitAuth {
    TransitAuth::Token(SecretString::from(TOKEN))
}

fn approle() -> TransitAuth {
    TransitAuth::AppRole {
        mount: "approle".to_owned(),
        role_id: "role-1".to_owned(),
        secret_id: SecretString::from(SECRET_ID),
    }
}

fn error(config: TransitConfig) -> String {
    TransitKeyManager::new(config)
        .expect_err("an invalid setting")
        .to_string()
}

#[test]
fn debug_output_shows_no_secret() {
    for auth in [token(), approle()] {
        let config = config(auth);
        let manager = TransitKeyManager::new(config.clone()).expect("valid");
        for printed in [
            format!("{config:?}"),
            format!("{:?}", config.auth),
            format!("{manager:?}"),
            format!("{manager:#?}"),
        ] {
            assert!(printed.contains("<redacted>"), "{printed}");
            assert!(
                !printed.contains(TOKEN) && !printed.contains(SECRET_ID),
                "{printed}"
            );
        }
        assert!(format!("{manager:?}").contains("vault-kek"));
    }
    assert!(format!("{:?}", approle()).contains("role-1"));
}

#[test]
fn describe_names_key_address_and_mount() {
    let manager = TransitKeyManager::new(config(token())).expect("valid");
    assert_eq!(manager.kind(), "transit");
    assert_eq!(
        manager.describe(),
        r#"transit key "vault-kek" at http://127.0.0.1:8200 (mount transit)"#
    );
    let mut with_namespace = config(token());
    with_namespace.namespace = Some("team-a".to_owned());
    let described = TransitKeyManager::new(with_namespace)
        .expect("valid")
        .describe();
    assert!(
        described.ends_with("(mount transit, namespace team-a)"),
        "{described}"
    );
}

/// Makes one setting invalid.
type Breaker = fn(&mut TransitConfig);

#[test]
fn settings_that_cannot_work_are_refused_by_name() {
    let cases: [(&str, Breaker); 9] = [
        ("address", |c| c.address = "ftp://127.0.0.1".to_owned()),
        ("address", |c| c.address = "not a url".to_owned()),
        ("address", |c| {
            c.address = "https://user:pw@bao.example".to_owned()
        }),
        ("mount", |c| c.mount = "../sys".to_owned()),
        ("key", |c| c.key = "a/b".to_owned()),
        ("key", |c| c.key = String::new()),
        ("namespace", |c| c.namespace = Some("a?b".to_owned())),
        ("token", |c| {
            c.auth = TransitAuth::Token(SecretString::from("a\nb"))
        }),
        ("timeout", |c| c.timeout = Duration::ZERO),
    ];
    for (setting, break_it) in cases {
        let mut config = config(token());
        break_it(&mut config);
        let message = error(config);
        assert!(
            message.contains(&format!("invalid {setting}")),
            "{setting}: {message}"
        );
        assert!(!message.contains("pw@"), "{message}");
    }
    let mut nested = config(token());
    nested.mount = "team/transit".to_owned();
    assert!(
        TransitKeyManager::new(nested).is_ok(),
        "a nested mount is a plain path"
    );
}

#[test]
fn ca_file_must_hold_certificates() {
    let dir = std::env::temp_dir().join(format!("transit-ca-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let missing = dir.join("missing.pem");
    let empty = dir.join("empty.pem");
    std::fs::write(&empty, "no certificate here\n").expect("write");
    for (path, why) in [(missing, "No such file"), (empty, "no PEM certificate")] {
        let mut config = config(token());
        config.ca_file = Some(path.clone());
        let message = error(config);
        assert!(
            message.contains(&path.display().to_string()) && message.contains(why),
            "{message}"
        );
    }
    std::fs::remove_dir_all(&dir).expect("clean up");
}
