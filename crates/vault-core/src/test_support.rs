//! Helpers for this crate's unit tests.

/// Lets the other tasks of a single-threaded executor run before this one goes on.
pub(crate) async fn yield_now() {
    let mut yielded = false;
    futures::future::poll_fn(|cx| {
        if yielded {
            std::task::Poll::Ready(())
        } else {
            yielded = true;
            cx.waker().wake_by_ref();
            std::task::Poll::Pending
        }
    })
    .await;
}

/// A bearer-token credential as a store would keep it (its sealed bytes are not real).
pub(crate) fn stored_credential() -> crate::credential::StoredCredential {
    use crate::credential::{Credential, CredentialKind, CredentialName, StoredCredential};
    let now = time::OffsetDateTime::UNIX_EPOCH;
    StoredCredential {
        credential: Credential {
            id: crate::ids::CredentialId::new(),
            organization_id: crate::ids::OrganizationId::new(),
            name: CredentialName::parse("cached").expect("a name"),
            description: None,
            kind: CredentialKind::BearerToken(crate::credential_types::bearer_token::Config {}),
            allowed_hosts: crate::egress::AllowedHosts::parse(&["api.example.com".to_owned()])
                .expect("hosts"),
            ca_bundle: None,
            secret_hints: std::collections::BTreeMap::new(),
            expires_at: None,
            created_at: now,
            updated_at: now,
            version: 3,
        },
        sealed: crate::cipher::SealedBlob {
            key_id: crate::cipher::KeyId::new("k1"),
            bytes: vec![1, 2, 3],
        },
        restore_floor: 0,
        secret_version: 3,
    }
}
