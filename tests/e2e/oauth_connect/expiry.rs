//! A connect link expires 10 minutes after it was made, as the vault's clock tells: a
//! library-level check, with a clock the test moves.

use vault_core::vault::{CONNECT_STATE_LIFETIME, CallbackParams};
use vault_core::{CredentialFields, CredentialType, VaultError};

use crate::helpers::SteppedClock;

/// A vault on the in-memory store with an organization, its admin, and an
/// authorization-code credential (a public client); the credential's id.
async fn connectable(
    clock: &SteppedClock,
) -> (
    vault_core::Vault<vault_testkit::memory::MemoryStore>,
    vault_core::Principal,
    vault_core::CredentialId,
) {
    let (vault, admin) = crate::helpers::memory_vault(clock).await;
    let mut fields = CredentialFields::default()
        .with("grant", Some("authorization_code"))
        .with("clientId", Some("public-app"))
        .with("clientAuth", Some("none"))
        .with(
            "authorizationUrl",
            Some("https://auth.example.com/authorize"),
        )
        .with("tokenUrl", Some("https://auth.example.com/token"));
    fields.name = Some("expiring".to_owned());
    fields.allowed_hosts = vault_core::Patch::Value(vec!["auth.example.com".to_owned()]);
    let credential = vault
        .create_credential(&admin, CredentialType::OAuth2, &fields)
        .await
        .expect("created");
    (vault, admin, credential.id)
}

/// The `state` of a fresh connect link.
async fn link_state(
    vault: &vault_core::Vault<vault_testkit::memory::MemoryStore>,
    admin: &vault_core::Principal,
    id: vault_core::CredentialId,
) -> String {
    let started = vault
        .start_connect(admin, id, "https://vault.example/oauth/callback")
        .await
        .expect("started");
    url::Url::parse(&started.authorization_url)
        .expect("a URL")
        .query_pairs()
        .find(|(name, _)| name == "state")
        .map(|(_, state)| state.into_owned())
        .expect("a state")
}

#[tokio::test]
async fn a_connect_link_is_accepted_for_ten_minutes_only() {
    let clock = SteppedClock::at(time::macros::datetime!(2026-12-07 12:00 UTC));
    let (vault, admin, id) = connectable(&clock).await;
    let callback = |state: String| CallbackParams {
        state: Some(state),
        code: Some("a-code".to_owned()),
        error: None,
    };

    // Just inside its lifetime, the link is taken: the exchange is tried (and fails here,
    // as this vault has no way out).
    let state = link_state(&vault, &admin, id).await;
    clock.advance(CONNECT_STATE_LIFETIME - time::Duration::seconds(1));
    let inside = vault.complete_connect(&callback(state)).await;
    assert!(
        matches!(inside, Err(VaultError::TokenEndpoint(_))),
        "{inside:?}"
    );

    // Just past it, the link is refused before anything goes out.
    let state = link_state(&vault, &admin, id).await;
    clock.advance(CONNECT_STATE_LIFETIME + time::Duration::seconds(1));
    let past = vault.complete_connect(&callback(state)).await;
    assert!(
        matches!(past, Err(VaultError::InvalidConnectState)),
        "{past:?}"
    );
}
