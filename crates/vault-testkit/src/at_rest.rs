//! The at-rest scenario every store adapter runs: credentials of every type written and
//! updated through a real vault with canary secrets, so that the adapter's own test can
//! search its raw storage (files, tables) for them. The scenario first proves the canaries
//! are really there, behind the cipher: a store keeping them in the clear would be caught.

use secrecy::{ExposeSecret, SecretString};
use uuid::Uuid;
use vault_core::{
    CredentialFields, CredentialId, CredentialSecrets, CredentialType, Patch, Principal, Store,
    Vault,
};

fn canary(label: &str) -> String {
    format!("CANARY-{label}-{}", Uuid::new_v4())
}

fn secret(text: &str) -> Option<SecretString> {
    Some(SecretString::from(text.to_owned()))
}

/// A real RSA key (test-only, from vault-jwt's fixtures): the vault refuses keys that do
/// not sign, so the PEM case cannot carry a made-up canary. Its body lines are unique
/// enough to be canaries themselves.
const TEST_RSA_KEY: &str = include_str!("../../vault-jwt/tests/keys/rsa2048.pkcs8.pem");

/// The first body line of the test key: what must never be found in storage.
fn pem_canary() -> String {
    TEST_RSA_KEY.lines().nth(1).unwrap_or_default().to_owned()
}

/// True when `needle` occurs in `haystack` byte for byte.
#[must_use]
pub fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle.as_bytes())
}

/// The secret values of an opened credential (every header value, for custom).
fn opened_values(secrets: &CredentialSecrets) -> Vec<String> {
    secrets
        .secret_strings()
        .map(|s| s.expose_secret().to_owned())
        .collect()
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
        &|f, v| f.set("value", secret(v)),
        canary("api-key"),
        Some(canary("api-key-2")),
    );
    add(
        CredentialType::BearerToken,
        &|f, v| f.set("value", secret(v)),
        canary("bearer"),
        None,
    );
    add(
        CredentialType::BasicAuth,
        &|f, v| {
            if f.name.is_some() {
                f.set("username", Some("service-user".to_owned()));
            }
            f.set("password", secret(v));
        },
        canary("password"),
        Some(canary("password-2")),
    );
    add(
        CredentialType::OAuth2,
        &|f, v| {
            if f.name.is_some() {
                f.set("clientId", Some("client-id".to_owned()));
                f.set(
                    "tokenUrl",
                    Some("https://auth.example.com/oauth/token".to_owned()),
                );
                f.allowed_hosts = Patch::Value(vec!["auth.example.com".to_owned()]);
            }
            f.set("clientSecret", secret(v));
        },
        canary("client-secret"),
        None,
    );
    add(
        CredentialType::Jwt,
        &|f, v| {
            if f.name.is_some() {
                f.set("algorithm", Some("HS256".to_owned()));
            }
            f.set("secret", secret(v));
        },
        canary("hmac"),
        Some(canary("hmac-2")),
    );
    add(
        CredentialType::Jwt,
        &|f, v| {
            if f.name.is_some() {
                f.set("algorithm", Some("RS256".to_owned()));
            }
            assert_eq!(v, pem_canary());
            f.set("privateKey", secret(TEST_RSA_KEY));
        },
        pem_canary(),
        None,
    );
    add(
        CredentialType::Custom,
        &|f, v| {
            f.set(
                "headers",
                Some(vec![(
                    "X-Upstream-Token".to_owned(),
                    SecretString::from(v.to_owned()),
                )]),
            );
        },
        canary("header"),
        Some(canary("header-2")),
    );
    // The PEM case stores the whole key: compare against what open returns.
    for case in &mut cases {
        if case.all[0] == pem_canary() {
            case.current = vec![TEST_RSA_KEY.trim().to_owned()];
        }
    }
    cases
}

/// What an adapter's at-rest test searches its storage for.
#[derive(Debug)]
pub struct Canaries {
    /// Credential names: stored in the clear, so each must be found (the positive control
    /// that the search can see the data at all).
    pub names: Vec<String>,
    /// Every secret value ever written, first and updated ones: none may be found.
    pub secrets: Vec<String>,
    /// The organization's admin access-key token: must not be found either.
    pub token: String,
}

/// Writes one credential of every type (jwt twice: shared secret and PEM key) with canary
/// secrets, updates four of them to second canaries, and checks that each opens back to
/// its latest value.
///
/// # Panics
/// When any step fails: the message names the credential type.
pub async fn write_canaries<S: Store>(vault: &Vault<S>) -> Canaries {
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
                .update_credential(&who, *id, patch, None)
                .await
                .unwrap_or_else(|error| panic!("updating the {} credential: {error:?}", case.kind));
            assert_eq!(updated.version, 2, "{}: one update, one version", case.kind);
        }
    }
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
    Canaries {
        names: cases.iter().map(|c| c.name.clone()).collect(),
        secrets: cases.iter().flat_map(|c| c.all.iter().cloned()).collect(),
        token: admin.token.expose().to_owned(),
    }
}
