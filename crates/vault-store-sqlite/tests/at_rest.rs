//! Secrets never reach the database in the clear: credentials of every type are created and
//! updated through a real `Vault` with the real cipher, then the raw bytes of the database
//! file and of its write-ahead log are searched for the secret values.

use std::path::Path;

use secrecy::{ExposeSecret, SecretString};
use uuid::Uuid;
use vault_cipher_ring::{KeyEncryptionKey, RingCipher};
use vault_core::{
    CredentialFields, CredentialId, CredentialSecrets, CredentialType, Principal, SystemClock,
    Vault,
};
use vault_store_sqlite::SqliteStore;

fn canary(label: &str) -> String {
    format!("CANARY-{label}-{}", Uuid::new_v4())
}

fn secret(text: &str) -> Option<SecretString> {
    Some(SecretString::from(text.to_owned()))
}

fn pem(body: &str) -> String {
    format!("-----BEGIN PRIVATE KEY-----\n{body}\n-----END PRIVATE KEY-----")
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle.as_bytes())
}

fn read(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|error| panic!("reading {}: {error}", path.display()))
}

/// The secret values of an opened credential (every header value, for custom).
fn opened_values(secrets: &CredentialSecrets) -> Vec<String> {
    match secrets {
        CredentialSecrets::Value(s)
        | CredentialSecrets::Password(s)
        | CredentialSecrets::ClientSecret(s)
        | CredentialSecrets::JwtSecret(s)
        | CredentialSecrets::JwtPrivateKey(s) => vec![s.expose_secret().to_owned()],
        CredentialSecrets::Headers(map) => {
            map.values().map(|s| s.expose_secret().to_owned()).collect()
        }
    }
}

struct Case {
    kind: CredentialType,
    name: String,
    fields: CredentialFields,
    /// What `open_credential` must return after the updates.
    current: Vec<String>,
    /// Every secret value this credential ever had.
    all: Vec<String>,
    /// A patch replacing the secrets, if this case is updated.
    update: Option<CredentialFields>,
}

fn cases() -> Vec<Case> {
    let mut cases = Vec::new();
    let mut add = |kind: CredentialType,
                   fill: &dyn Fn(&mut CredentialFields, &str),
                   first: String,
                   second: Option<String>| {
        let name = format!("canary-name-{}", Uuid::new_v4());
        let mut fields = CredentialFields {
            name: Some(name.clone()),
            ..CredentialFields::default()
        };
        fill(&mut fields, &first);
        let update = second.as_ref().map(|second| {
            let mut patch = CredentialFields::default();
            fill(&mut patch, second);
            patch
        });
        let current = vec![second.clone().unwrap_or_else(|| first.clone())];
        let all = [Some(first), second].into_iter().flatten().collect();
        cases.push(Case {
            kind,
            name,
            fields,
            current,
            all,
            update,
        });
    };

    add(
        CredentialType::ApiKey,
        &|f, v| f.value = secret(v),
        canary("api-key"),
        Some(canary("api-key-2")),
    );
    add(
        CredentialType::BearerToken,
        &|f, v| f.value = secret(v),
        canary("bearer"),
        None,
    );
    add(
        CredentialType::BasicAuth,
        &|f, v| {
            if f.name.is_some() {
                f.username = Some("service-user".to_owned());
            }
            f.password = secret(v);
        },
        canary("password"),
        Some(canary("password-2")),
    );
    add(
        CredentialType::OAuth2,
        &|f, v| {
            if f.name.is_some() {
                f.client_id = Some("client-id".to_owned());
                f.token_url = Some("https://auth.example.com/oauth/token".to_owned());
            }
            f.client_secret = secret(v);
        },
        canary("client-secret"),
        None,
    );
    add(
        CredentialType::Jwt,
        &|f, v| {
            if f.name.is_some() {
                f.algorithm = Some("HS256".to_owned());
            }
            f.secret = secret(v);
        },
        canary("hmac"),
        Some(canary("hmac-2")),
    );
    add(
        CredentialType::Jwt,
        &|f, v| {
            if f.name.is_some() {
                f.algorithm = Some("RS256".to_owned());
            }
            f.private_key = secret(&pem(v));
        },
        canary("pem"),
        None,
    );
    add(
        CredentialType::Custom,
        &|f, v| {
            f.headers = Some(vec![(
                "X-Upstream-Token".to_owned(),
                SecretString::from(v.to_owned()),
            )])
        },
        canary("header"),
        Some(canary("header-2")),
    );
    // The PEM case stores the armoured key: compare against what open returns.
    for case in &mut cases {
        if case.kind == CredentialType::Jwt && case.all[0].starts_with("CANARY-pem") {
            case.current = vec![pem(&case.all[0])];
        }
    }
    cases
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_reaches_the_database_or_its_wal_in_the_clear() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("vault.db");
    let store = SqliteStore::open(path.to_str().expect("a UTF-8 path"))
        .await
        .expect("a fresh SQLite store");
    let cipher = RingCipher::new(
        KeyEncryptionKey::generate().expect("a random key-encryption key"),
        vec![],
    );
    let vault = Vault::open(store.clone(), cipher, SystemClock)
        .await
        .expect("the vault opens on a fresh store");
    let (organization, admin) = vault
        .create_organization("canary organization")
        .await
        .expect("an organization");
    let who = Principal::system(organization.id);

    let cases = cases();
    let mut created: Vec<(CredentialId, &Case)> = Vec::new();
    for case in &cases {
        let credential = vault
            .create_credential(&who, case.kind, &case.fields)
            .await
            .unwrap_or_else(|error| panic!("creating the {} credential: {error:?}", case.kind));
        created.push((credential.id, case));
    }
    for (id, case) in &created {
        if let Some(patch) = &case.update {
            let updated = vault
                .update_credential(&who, *id, patch)
                .await
                .unwrap_or_else(|error| panic!("updating the {} credential: {error:?}", case.kind));
            assert_eq!(updated.version, 2, "{}: one update, one version", case.kind);
        }
    }

    // The canaries are really there, behind the cipher: a store that kept them in the
    // clear would be caught by the byte search below.
    for (id, case) in &created {
        let (_, secrets) = vault
            .open_credential(&who, *id)
            .await
            .unwrap_or_else(|error| panic!("opening the {} credential: {error:?}", case.kind));
        assert_eq!(
            opened_values(&secrets),
            case.current,
            "{}: the opened secret is not the latest value",
            case.kind
        );
    }

    // Read the files while the store is open, so the write-ahead log still holds the
    // recent writes instead of having been checkpointed into the main file.
    let db = read(&path);
    let wal_path = dir.path().join("vault.db-wal");
    let wal = read(&wal_path);
    assert!(
        !wal.is_empty(),
        "the WAL is empty: the test would not be looking at recent writes"
    );
    let both: Vec<u8> = db.iter().chain(wal.iter()).copied().collect();

    for (_, case) in &created {
        assert!(
            contains(&both, &case.name),
            "positive control: the credential name {} is not in the raw files, so the search \
             cannot be trusted",
            case.name
        );
        for value in &case.all {
            for (file, bytes) in [("database", &db), ("WAL", &wal)] {
                assert!(
                    !contains(bytes, value),
                    "the {} secret {value} is in the {file} file in the clear",
                    case.kind
                );
            }
        }
    }
    let token = admin.token.expose();
    assert!(
        !contains(&both, token),
        "the access-key token is in the database in the clear"
    );
    drop(vault);
    drop(store);
}
