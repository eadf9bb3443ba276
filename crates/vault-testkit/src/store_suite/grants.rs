//! Checks of grants (issue 17): round trips, lists per credential and per grantee,
//! deletion with the credential, and budgets counted exactly under concurrency.

use time::Duration;
use vault_core::grants::{Budget, Grant, GrantBinding, Grantee, Permission, RequestRules, Window};
use vault_core::ids::{AccessKeyId, GrantId, OrganizationId};
use vault_core::logs::AuditAction;
use vault_core::store::BudgetSpend;
use vault_core::{CredentialType, Store, StoredCredential};

use super::fixtures::{
    assert_conflict, assert_not_found, delete, events_about, insert, must, new_organization,
    sample_access_key, sample_change_audit, sample_credential, sample_time,
};

/// A grant of `credential` to `grantee`, with every optional field set.
#[must_use]
pub fn sample_grant(credential: &StoredCredential, grantee: Grantee) -> Grant {
    let rules = RequestRules::parse(
        &["GET".to_owned(), "POST".to_owned()],
        &["/v1/charges*".to_owned(), "/v1/customers".to_owned()],
    )
    .expect("valid rules");
    Grant {
        id: GrantId::new(),
        organization_id: credential.credential.organization_id,
        credential_id: credential.credential.id,
        grantee,
        permission: Permission::Use,
        rules,
        budget: Some(Budget {
            per_minute: Some(50),
            per_hour: None,
            per_day: Some(10_000),
            total: Some(1_000_000),
        }),
        expires_at: Some(sample_time() + Duration::days(30)),
        granted_by: Some(AccessKeyId::new()),
        created_at: sample_time(),
        parent: Some(GrantId::new()),
        binding: Some(GrantBinding([7; 32])),
    }
}

async fn insert_grant<S: Store>(store: &S, grant: &Grant) -> Result<(), vault_core::StoreError> {
    let audit = sample_change_audit(
        grant.organization_id,
        AuditAction::GrantCreate,
        *grant.id.as_uuid(),
    );
    store.insert_grant(grant, &audit).await
}

async fn delete_grant<S: Store>(
    store: &S,
    organization: OrganizationId,
    grant: &Grant,
) -> Result<Grant, vault_core::StoreError> {
    let audit = sample_change_audit(organization, AuditAction::GrantRevoke, *grant.id.as_uuid());
    store
        .delete_grant(organization, grant.credential_id, grant.id, &audit)
        .await
}

async fn stored_credential<S: Store>(store: &S, organization: OrganizationId) -> StoredCredential {
    let credential = sample_credential(organization, CredentialType::BearerToken);
    must(insert(store, &credential).await, "insert_credential");
    credential
}

/// A grant reads back field for field, from its credential's list and from its grantee's,
/// with its audit event; a bare grant (no rules, budget or expiry) too.
pub async fn grant_round_trip<S: Store>(store: &S) {
    let org = new_organization(store).await;
    let credential = stored_credential(store, org).await;
    let group = Grantee::Group("payments-ops".to_owned());
    let full = sample_grant(&credential, Grantee::AccessKey(AccessKeyId::new()));
    let bare = Grant {
        id: GrantId::new(),
        permission: Permission::Manage,
        rules: RequestRules::default(),
        budget: None,
        expires_at: None,
        granted_by: None,
        ..sample_grant(&credential, group.clone())
    };
    for grant in [&full, &bare] {
        must(insert_grant(store, grant).await, "insert_grant");
    }
    let listed = must(
        store.list_grants(org, credential.credential.id).await,
        "list_grants",
    );
    assert_eq!(
        listed,
        [full.clone(), bare.clone()],
        "list_grants, in id order"
    );
    let of_group = must(store.grants_of(org, &[group]).await, "grants_of");
    assert_eq!(of_group, std::slice::from_ref(&bare));
    let of_both = must(
        store
            .grants_of(
                org,
                &[full.grantee.clone(), Grantee::Subject("nobody".into())],
            )
            .await,
        "grants_of",
    );
    assert_eq!(of_both, std::slice::from_ref(&full));
    assert!(
        must(store.grants_of(org, &[]).await, "grants_of nobody").is_empty(),
        "no grantee, no grant"
    );
    let events = events_about(store, org, *full.id.as_uuid()).await;
    assert_eq!(events.len(), 1, "the grant's audit event");
    assert_eq!(events[0].action, AuditAction::GrantCreate);
}

/// A grant's id is taken once; a credential of another organization, or none, cannot be
/// granted; another organization sees no grant.
pub async fn grants_are_isolated_and_need_their_credential<S: Store>(store: &S) {
    let org = new_organization(store).await;
    let other = new_organization(store).await;
    let credential = stored_credential(store, org).await;
    let grant = sample_grant(&credential, Grantee::Subject("alice".to_owned()));
    must(insert_grant(store, &grant).await, "insert_grant");
    assert_conflict(insert_grant(store, &grant).await, "the same grant id twice");
    let elsewhere = Grant {
        id: GrantId::new(),
        organization_id: other,
        ..grant.clone()
    };
    assert_not_found(
        insert_grant(store, &elsewhere).await,
        "a grant of another organization's credential",
    );
    let missing = Grant {
        id: GrantId::new(),
        credential_id: sample_credential(org, CredentialType::ApiKey).credential.id,
        ..grant.clone()
    };
    assert_not_found(
        insert_grant(store, &missing).await,
        "a grant of no credential",
    );
    assert!(
        must(
            store.list_grants(other, credential.credential.id).await,
            "list_grants"
        )
        .is_empty()
    );
    assert!(
        must(
            store
                .grants_of(other, std::slice::from_ref(&grant.grantee))
                .await,
            "grants_of"
        )
        .is_empty()
    );
    assert_not_found(
        delete_grant(store, other, &grant).await,
        "deleting another organization's grant",
    );
    assert_not_found(
        store
            .spend_budget(other, grant.id, &[(Window::Minute, 5)], sample_time())
            .await,
        "spending another organization's grant",
    );
}

/// Deleting a grant returns it, records its audit event and forgets its counts; a second
/// delete, or one naming another credential, finds nothing.
pub async fn delete_grant_removes_it_with_its_counts<S: Store>(store: &S) {
    let org = new_organization(store).await;
    let credential = stored_credential(store, org).await;
    let grant = sample_grant(&credential, Grantee::Subject("bob".to_owned()));
    must(insert_grant(store, &grant).await, "insert_grant");
    let spent = must(
        store
            .spend_budget(org, grant.id, &[(Window::Total, 3)], sample_time())
            .await,
        "spend_budget",
    );
    assert_eq!(spent, BudgetSpend::Spent);
    let elsewhere = Grant {
        credential_id: stored_credential(store, org).await.credential.id,
        ..grant.clone()
    };
    assert_not_found(
        delete_grant(store, org, &elsewhere).await,
        "deleting through another credential",
    );
    let deleted = must(delete_grant(store, org, &grant).await, "delete_grant");
    assert_eq!(deleted, grant);
    assert_not_found(delete_grant(store, org, &grant).await, "a second delete");
    assert!(
        must(
            store.list_grants(org, credential.credential.id).await,
            "list_grants"
        )
        .is_empty()
    );
    let actions: Vec<AuditAction> = events_about(store, org, *grant.id.as_uuid())
        .await
        .iter()
        .map(|e| e.action)
        .collect();
    assert_eq!(
        actions,
        [AuditAction::GrantRevoke, AuditAction::GrantCreate]
    );
    assert_not_found(
        store
            .spend_budget(org, grant.id, &[(Window::Total, 3)], sample_time())
            .await,
        "spending a deleted grant",
    );
}

/// Deleting a credential deletes its grants and their counts, and only its own.
pub async fn deleting_a_credential_deletes_its_grants<S: Store>(store: &S) {
    let org = new_organization(store).await;
    let doomed = stored_credential(store, org).await;
    let kept = stored_credential(store, org).await;
    let grantee = Grantee::Subject("carol".to_owned());
    let gone = sample_grant(&doomed, grantee.clone());
    let stays = sample_grant(&kept, grantee.clone());
    for grant in [&gone, &stays] {
        must(insert_grant(store, grant).await, "insert_grant");
        must(
            store
                .spend_budget(org, grant.id, &[(Window::Day, 10)], sample_time())
                .await,
            "spend_budget",
        );
    }
    must(
        delete(store, org, doomed.credential.id).await,
        "delete_credential with grants",
    );
    assert_eq!(
        must(store.grants_of(org, &[grantee]).await, "grants_of"),
        [stays]
    );
}

/// Revoking an access key deletes, with their counters, the grants it made and the grants
/// to it, in its organization; other grants stay.
pub async fn revoking_a_key_ends_the_grants_it_made_or_was_given<S: Store>(store: &S) {
    let org = new_organization(store).await;
    let credential = stored_credential(store, org).await;
    let key = sample_access_key(org);
    let id = key.key.id;
    let audit = sample_change_audit(org, AuditAction::AccessKeyCreate, *id.as_uuid());
    must(
        store.insert_access_key(&key, &audit).await,
        "insert_access_key",
    );
    let made = Grant {
        granted_by: Some(id),
        ..sample_grant(&credential, Grantee::Subject("carol".to_owned()))
    };
    let given = sample_grant(&credential, Grantee::AccessKey(id));
    let stays = sample_grant(&credential, Grantee::Subject("dave".to_owned()));
    for grant in [&made, &given, &stays] {
        must(insert_grant(store, grant).await, "insert_grant");
        must(
            store
                .spend_budget(org, grant.id, &[(Window::Day, 10)], sample_time())
                .await,
            "spend_budget",
        );
    }
    let audit = sample_change_audit(org, AuditAction::AccessKeyRevoke, *id.as_uuid());
    must(
        store
            .revoke_access_key(org, id, sample_time(), &audit)
            .await,
        "revoke_access_key",
    );
    assert_eq!(
        must(
            store.list_grants(org, credential.credential.id).await,
            "list_grants"
        ),
        [stays],
        "the revoked key's grants are gone, the others stay"
    );
    // Their counters went with them: spending the deleted grant finds nothing.
    assert_not_found(
        store
            .spend_budget(org, made.id, &[(Window::Day, 10)], sample_time())
            .await,
        "spend_budget of a grant ended with its key",
    );
}

/// A spend counts in every capped window or in none: the shortest window stops it first,
/// the next window starts afresh, and the total stops it for good.
pub async fn budgets_count_every_window_or_none<S: Store>(store: &S) {
    let org = new_organization(store).await;
    let credential = stored_credential(store, org).await;
    let grant = sample_grant(&credential, Grantee::Subject("dave".to_owned()));
    must(insert_grant(store, &grant).await, "insert_grant");
    let caps = [(Window::Minute, 2), (Window::Total, 3)];
    let now = sample_time();
    let spend = |at| store.spend_budget(org, grant.id, &caps, at);
    assert_eq!(must(spend(now).await, "spend 1"), BudgetSpend::Spent);
    assert_eq!(must(spend(now).await, "spend 2"), BudgetSpend::Spent);
    assert_eq!(
        must(spend(now).await, "spend 3"),
        BudgetSpend::Exhausted(Window::Minute),
        "the minute is full"
    );
    let next_minute = now + Duration::minutes(1);
    assert_eq!(
        must(spend(next_minute).await, "spend in the next minute"),
        BudgetSpend::Spent,
        "a refused spend counted nowhere, so the total is at 2 of 3"
    );
    assert_eq!(
        must(spend(next_minute).await, "spend 5"),
        BudgetSpend::Exhausted(Window::Total)
    );
    assert_eq!(
        must(spend(next_minute + Duration::days(2)).await, "spend later"),
        BudgetSpend::Exhausted(Window::Total),
        "the total never starts afresh"
    );
}

/// Concurrent spends against one cap let exactly the cap through.
pub async fn concurrent_spends_never_pass_the_cap<S: Store>(store: &S) {
    const CAP: u64 = 20;
    const SPENDS: usize = 60;
    let org = new_organization(store).await;
    let credential = stored_credential(store, org).await;
    let grant = sample_grant(&credential, Grantee::Subject("erin".to_owned()));
    must(insert_grant(store, &grant).await, "insert_grant");
    let caps = [(Window::Hour, CAP)];
    let now = sample_time();
    let spends = (0..SPENDS).map(|_| store.spend_budget(org, grant.id, &caps, now));
    let outcomes = futures::future::join_all(spends).await;
    let spent = outcomes
        .into_iter()
        .map(|outcome| must(outcome, "a concurrent spend"))
        .filter(|outcome| *outcome == BudgetSpend::Spent)
        .count();
    assert_eq!(
        spent,
        usize::try_from(CAP).expect("small"),
        "spends let through"
    );
}
