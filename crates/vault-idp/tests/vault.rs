//! The vault with this verifier, as a library: identity-provider tokens authenticate beside
//! access keys, are refused when their organization does not exist, their failures are
//! audited where they belong, and what a token's subject does is recorded as its own.

use std::path::PathBuf;

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use secrecy::SecretString;
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::macros::datetime;
use vault_cipher_ring::{KeyEncryptionKey, RingCipher};
use vault_core::logs::{AuditAction, AuditEvent, AuditOutcome};
use vault_core::{
    AccessKeyRequest, Clock, CredentialFields, CredentialType, LogListRequest, OrganizationId,
    Principal, Scope, Vault, VaultError,
};
use vault_idp::{IdpConfig, JwtIdentityVerifier};
use vault_testkit::memory::MemoryStore;

const ISSUER: &str = "https://login.example.com/";
const AUDIENCE: &str = "vault";
const SECRET: &str = "an HS256 secret of at least 32 bytes, for the tests only";
const NOW: OffsetDateTime = datetime!(2026-11-28 12:00 UTC);

#[derive(Clone, Copy, Debug)]
struct Pinned;

impl Clock for Pinned {
    fn now(&self) -> OffsetDateTime {
        NOW
    }
}

type TestVault = Vault<MemoryStore>;

fn verifier() -> JwtIdentityVerifier {
    let mut config = IdpConfig::new(ISSUER, AUDIENCE);
    config.hs256_secrets = vec![SecretString::from(SECRET.to_owned())];
    config.jwks_file =
        Some(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/idp/jwks.json"));
    JwtIdentityVerifier::new(&config).expect("a valid configuration")
}

async fn vault(with_verifier: bool) -> (TestVault, OrganizationId, Principal) {
    let cipher = RingCipher::new(KeyEncryptionKey::generate().expect("a key"), Vec::new());
    let vault = Vault::open(MemoryStore::new(), cipher, Pinned)
        .await
        .expect("a vault");
    let vault = if with_verifier {
        vault.with_identity_verifier(verifier())
    } else {
        vault
    };
    let (organization, admin) = vault.create_organization("acme").await.expect("an org");
    let admin = vault
        .authenticate(admin.token.expose())
        .await
        .expect("the admin key");
    (vault, organization.id, admin)
}

fn token(org: OrganizationId, scope: &str, changes: &Value) -> String {
    let mut claims = json!({
        "iss": ISSUER, "aud": AUDIENCE, "sub": "alice@example.com",
        "org": org.to_string(), "scope": scope, "exp": NOW.unix_timestamp() + 300,
    });
    if let (Some(claims), Some(changes)) = (claims.as_object_mut(), changes.as_object()) {
        claims.extend(changes.clone());
    }
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(SECRET.as_bytes()),
    )
    .expect("signed")
}

async fn failures(vault: &TestVault, admin: &Principal) -> Vec<AuditEvent> {
    let request = LogListRequest {
        action: Some("authentication.failure".to_owned()),
        ..LogListRequest::default()
    };
    vault
        .list_audit_events(admin, &request)
        .await
        .expect("the audit log")
        .items
}

#[tokio::test]
async fn a_token_authenticates_as_its_subject_in_its_organization() {
    let (vault, org, _) = vault(true).await;
    let who = vault
        .authenticate(&token(org, "credentials:read openid", &json!({})))
        .await
        .expect("a valid token");
    assert_eq!(
        who,
        Principal {
            organization_id: org,
            access_key_id: None,
            subject: Some("alice@example.com".to_owned()),
            scopes: [Scope::CredentialsRead].into(),
            // The token's exp: keys this principal creates never outlive it.
            expires_at: Some(NOW + time::Duration::seconds(300)),
            groups: Vec::new(),
        }
    );
    assert!(
        vault
            .list_credentials(&who, &Default::default())
            .await
            .is_ok()
    );
    assert!(matches!(
        vault
            .create_credential(&who, CredentialType::BearerToken, &bearer())
            .await,
        Err(VaultError::MissingScope(Scope::CredentialsWrite))
    ));
}

fn bearer() -> CredentialFields {
    CredentialFields {
        name: Some("GitHub".to_owned()),
        ..CredentialFields::default()
    }
    .with(
        "value",
        Some(SecretString::from("ghp_0123456789abcdef".to_owned())),
    )
}

#[tokio::test]
async fn access_keys_still_authenticate_and_their_prefix_never_reaches_the_verifier() {
    let (vault, org, admin) = vault(true).await;
    assert!(admin.access_key_id.is_some() && admin.subject.is_none());
    assert_eq!(admin.organization_id, org);
    assert!(matches!(
        vault.authenticate("vlt_not-a-real-key").await,
        Err(VaultError::Unauthenticated)
    ));
    let reasons: Vec<_> = failures(&vault, &admin)
        .await
        .iter()
        .map(|e| e.reason.clone())
        .collect();
    assert!(
        reasons.is_empty(),
        "a malformed key has no organization: {reasons:?}"
    );
}

#[tokio::test]
async fn without_a_verifier_a_token_is_a_malformed_access_key() {
    let (vault, org, _) = vault(false).await;
    assert!(matches!(
        vault
            .authenticate(&token(org, "credentials:read", &json!({})))
            .await,
        Err(VaultError::Unauthenticated)
    ));
}

#[tokio::test]
async fn a_token_of_an_unknown_organization_is_refused() {
    let (vault, _, admin) = vault(true).await;
    let stranger = OrganizationId::new();
    assert!(matches!(
        vault
            .authenticate(&token(stranger, "credentials:read", &json!({})))
            .await,
        Err(VaultError::Unauthenticated)
    ));
    // Audited without an organization (there is none to audit it in).
    assert!(failures(&vault, &admin).await.is_empty());
}

#[tokio::test]
async fn signed_failures_are_audited_in_their_organization_with_their_reason() {
    let (vault, org, admin) = vault(true).await;
    let expired = token(
        org,
        "credentials:read",
        &json!({"exp": NOW.unix_timestamp() - 3600}),
    );
    let early = token(
        org,
        "credentials:read",
        &json!({"nbf": NOW.unix_timestamp() + 3600}),
    );
    let elsewhere = token(org, "credentials:read", &json!({"aud": "another-api"}));
    let forged = format!("{}x", token(org, "credentials:read", &json!({})));
    for presented in [&expired, &early, &elsewhere, &forged] {
        assert!(matches!(
            vault.authenticate(presented).await,
            Err(VaultError::Unauthenticated)
        ));
    }
    let events = failures(&vault, &admin).await;
    let seen: Vec<_> = events
        .iter()
        .map(|e| {
            (
                e.reason.as_deref(),
                e.actor_subject.as_deref(),
                e.actor,
                e.outcome,
            )
        })
        .collect();
    // Newest first; the audience and signature failures carry no organization, so they
    // are not in this one's log.
    assert_eq!(
        seen,
        [
            (
                Some("token-not-yet-valid"),
                Some("alice@example.com"),
                None,
                AuditOutcome::Failure
            ),
            (
                Some("expired-token"),
                Some("alice@example.com"),
                None,
                AuditOutcome::Failure
            ),
        ]
    );
}

#[tokio::test]
async fn what_a_subject_does_is_recorded_as_its_own() {
    let (vault, org, admin) = vault(true).await;
    let who = vault
        .authenticate(&token(
            org,
            "credentials:write credentials:read access-keys:manage",
            &json!({}),
        ))
        .await
        .expect("a valid token");
    let credential = vault
        .create_credential(&who, CredentialType::BearerToken, &bearer())
        .await
        .expect("created by a token's subject");
    let versions = vault
        .list_versions(&who, credential.id)
        .await
        .expect("versions");
    assert_eq!(versions[0].created_by, None, "no access key made it");

    // Keys: no more scopes than the token holds, as for access keys.
    let issued = vault
        .create_access_key(
            &who,
            &AccessKeyRequest {
                name: Some("ci".to_owned()),
                scopes: Some(vec!["credentials:read".to_owned()]),
                expires_at: None,
            },
        )
        .await
        .expect("a key within the token's scopes");
    assert_eq!(issued.key.created_by, None);
    let escalation = vault
        .create_access_key(
            &who,
            &AccessKeyRequest {
                name: Some("admin".to_owned()),
                scopes: Some(vec!["credentials:read".to_owned(), "audit:read".to_owned()]),
                expires_at: None,
            },
        )
        .await;
    assert!(
        matches!(&escalation, Err(VaultError::ScopeEscalation(beyond)) if beyond == &[Scope::AuditRead]),
        "{escalation:?}"
    );
    // The key it made authenticates as a key (not as the subject).
    let key = vault
        .authenticate(issued.token.expose())
        .await
        .expect("the new key");
    assert_eq!(
        (key.subject, key.scopes),
        (None, [Scope::CredentialsRead].into())
    );

    let events = vault
        .list_audit_events(&admin, &LogListRequest::default())
        .await
        .expect("the audit log")
        .items;
    let by_subject: Vec<_> = events
        .iter()
        .filter(|e| e.actor_subject.as_deref() == Some("alice@example.com"))
        .map(|e| (e.action, e.outcome, e.actor, e.reason.as_deref()))
        .collect();
    assert_eq!(
        by_subject,
        [
            (
                AuditAction::AccessKeyCreate,
                AuditOutcome::Failure,
                None,
                Some("scope-escalation")
            ),
            (
                AuditAction::AccessKeyCreate,
                AuditOutcome::Success,
                None,
                None
            ),
            (
                AuditAction::CredentialCreate,
                AuditOutcome::Success,
                None,
                None
            ),
        ]
    );
}

/// Issue 14, finding 2: a token valid for five minutes cannot mint a key that outlives it.
/// Its `exp` is the principal's expiry: a key asked for without one gets it, a later one
/// is refused naming `expiresAt`.
#[tokio::test]
async fn a_token_cannot_mint_a_key_that_outlives_it() {
    let (vault, org, _) = vault(true).await;
    let who = vault
        .authenticate(&token(
            org,
            "access-keys:manage credentials:read",
            &json!({}),
        ))
        .await
        .expect("a valid token");
    let exp = NOW + time::Duration::seconds(300);
    assert_eq!(who.expires_at, Some(exp));
    let request = |expires_at: Option<&str>| AccessKeyRequest {
        name: Some("minted".to_owned()),
        scopes: Some(vec!["credentials:read".to_owned()]),
        expires_at: expires_at.map(str::to_owned),
    };
    let issued = vault
        .create_access_key(&who, &request(None))
        .await
        .expect("a key without an expiry of its own");
    assert_eq!(issued.key.expires_at, Some(exp), "the token's exp");
    for later in ["2099-01-01T00:00:00Z", "2026-11-28T12:05:01Z"] {
        let refused = vault.create_access_key(&who, &request(Some(later))).await;
        match refused {
            Err(VaultError::Invalid(errors)) => {
                assert!(errors.to_string().starts_with("expiresAt:"), "{errors}");
            }
            other => panic!("{later}: {other:?}"),
        }
    }
    let sooner = vault
        .create_access_key(&who, &request(Some("2026-11-28T12:04:00Z")))
        .await
        .expect("an earlier expiry is the caller's to choose");
    assert_eq!(sooner.key.expires_at, Some(datetime!(2026-11-28 12:04 UTC)));
}
