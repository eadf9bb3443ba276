//! Budgets across replicas: two stores on one database (two replicas' pools) spending one
//! grant's budget at once never let more through than its cap.

use std::time::Duration;

use vault_core::CredentialType;
use vault_core::grants::{Budget, Grant, Grantee, Permission, RequestRules, Window};
use vault_core::ids::GrantId;
use vault_core::logs::AuditAction;
use vault_core::store::{
    BudgetSpend, CredentialStore, CredentialWrite, GrantStore, OrganizationStore,
};
use vault_store_postgres::{PgOptions, PgStore, testing};
use vault_testkit::store_suite::{
    sample_change_audit, sample_credential, sample_organization, sample_time,
};

async fn replica(url: &str) -> PgStore {
    let options = PgOptions {
        max_connections: 8,
        acquire_timeout: Duration::from_secs(10),
    };
    PgStore::connect(url, options).await.expect("connect")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_replicas_spending_at_once_let_exactly_the_cap_through() {
    const CAP: u64 = 50;
    const USES_PER_REPLICA: usize = 100;
    let Some(database) = testing::fresh_database().await else {
        return;
    };
    let first = replica(database.url()).await;
    let second = replica(database.url()).await;

    let organization = sample_organization();
    first
        .insert_organization(&organization)
        .await
        .expect("organization");
    let credential = sample_credential(organization.id, CredentialType::BearerToken);
    let c = &credential.credential;
    let created = sample_change_audit(
        organization.id,
        AuditAction::CredentialCreate,
        *c.id.as_uuid(),
    );
    first
        .insert_credential(
            &credential,
            &CredentialWrite {
                versions: &[],
                keep_versions: 0,
                audit: &created,
            },
        )
        .await
        .expect("credential");
    let grant = Grant {
        id: GrantId::new(),
        organization_id: organization.id,
        credential_id: c.id,
        grantee: Grantee::Subject("gateway".to_owned()),
        permission: Permission::Use,
        rules: RequestRules::default(),
        budget: Some(Budget {
            total: Some(CAP),
            ..Budget::default()
        }),
        expires_at: None,
        granted_by: None,
        created_at: sample_time(),
        parent: None,
        binding: None,
    };
    let granted = sample_change_audit(
        organization.id,
        AuditAction::GrantCreate,
        *grant.id.as_uuid(),
    );
    first.insert_grant(&grant, &granted).await.expect("grant");

    let caps = [(Window::Minute, 1_000), (Window::Total, CAP)];
    let now = sample_time();
    let spends = (0..USES_PER_REPLICA).flat_map(|_| {
        [&first, &second].map(|store| store.spend_budget(organization.id, grant.id, &caps, now))
    });
    let outcomes = futures::future::join_all(spends).await;
    let mut spent: u64 = 0;
    for outcome in outcomes {
        match outcome.expect("a spend") {
            BudgetSpend::Spent => spent += 1,
            BudgetSpend::Exhausted(window) => assert_eq!(window, Window::Total),
        }
    }
    assert_eq!(spent, CAP, "uses let through by two replicas together");
    // The refused spends counted nowhere: the minute holds exactly the spent ones.
    let more = first
        .spend_budget(organization.id, grant.id, &[(Window::Minute, CAP + 1)], now)
        .await
        .expect("a spend of the minute alone");
    assert_eq!(
        more,
        BudgetSpend::Spent,
        "the minute is at {CAP}, under {}",
        CAP + 1
    );
    let full = second
        .spend_budget(organization.id, grant.id, &[(Window::Minute, CAP + 1)], now)
        .await
        .expect("another");
    assert_eq!(full, BudgetSpend::Exhausted(Window::Minute));
    first.close();
    second.close();
}
