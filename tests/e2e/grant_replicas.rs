//! Grants across two `vault-server` replicas on one PostgreSQL database: a budget holds
//! for both together, and a revocation through one takes effect on the other within a
//! second.

use std::path::Path;

use futures::future::join_all;
use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::postgres::TestDatabase;
use crate::helpers::upstream::start_upstream;
use crate::helpers::{Api, Id, Server, replicas};

/// Two replicas of one migrated, bootstrapped database, and the admin key.
fn two_replicas(dir: &Path, database: &str) -> (Server, Server, String) {
    let (mut servers, admin) = replicas(dir, database, 2, &[]);
    let b = servers.pop().expect("two");
    let a = servers.pop().expect("two");
    (a, b, admin)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_replicas_together_let_exactly_the_budget_through_and_see_a_revocation() {
    let Some(db) = TestDatabase::create() else {
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let (a, b, admin) = two_replicas(dir.path(), &db.url);
    let (on_a, on_b) = (Api::new(&a.base), Api::new(&b.base));
    let upstream = start_upstream().await;
    let id = on_a
        .create_credential(
            &admin,
            &json!({"name": "metered", "type": "bearer_token", "value": "tok_0123456789",
                    "allowedHosts": [upstream.origin()]}),
        )
        .await
        .id();
    let user = on_a
        .access_key(&admin, "metered user", &["credentials:use"])
        .await;
    let grant = on_a
        .grant(
            &id,
            &admin,
            &json!({"principal": format!("key:{}", user.id), "budget": {"total": 50}}),
        )
        .await;

    // 200 uses at once, half through each replica, against a budget of 50.
    let call = json!({"method": "GET", "url": upstream.url("/record/metered")});
    let uses = (0..200).map(|n| {
        let (api, call, id, secret) = (
            if n % 2 == 0 { &on_a } else { &on_b },
            &call,
            &id,
            &user.secret,
        );
        async move { api.proxy(id, secret, call).await }
    });
    let replies = join_all(uses).await;
    let ok = replies
        .iter()
        .filter(|r| r.status == StatusCode::OK)
        .count();
    let exhausted = replies
        .iter()
        .filter(|r| r.status != StatusCode::OK)
        .filter(|r| r.problem() == (StatusCode::TOO_MANY_REQUESTS, "budget-exhausted".to_owned()))
        .count();
    assert_eq!(
        (ok, exhausted),
        (50, 150),
        "every reply is a use or a refusal"
    );
    assert_eq!(
        upstream.requests().len(),
        50,
        "the upstream saw exactly the budget"
    );
    // A total never refills: no Retry-After invites a retry that would be refused.
    let refused = replies
        .iter()
        .find(|r| r.status == StatusCode::TOO_MANY_REQUESTS);
    assert!(refused.is_some_and(|r| r.headers.get("retry-after").is_none()));

    // A second grant, revoked through A: B refuses the next use within a second.
    let other = on_a
        .access_key(&admin, "revoked user", &["credentials:use"])
        .await;
    let revoked = on_a
        .grant(
            &id,
            &admin,
            &json!({"principal": format!("key:{}", other.id)}),
        )
        .await;
    let used = on_b.proxy(&id, &other.secret, &call).await;
    assert_eq!(used.status, StatusCode::OK, "{}", used.body);
    let path = format!("/credentials/{id}/grants/{revoked}");
    let reply = on_a
        .call(reqwest::Method::DELETE, &path, &admin, None)
        .await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT);
    // Within a second: no use B begins a second after the revocation went through is
    // let through. (Judged by when each use began, not when its answer came back, so a
    // loaded machine's slow answers do not count against B.)
    let revoked = std::time::Instant::now();
    let refused = loop {
        let began = revoked.elapsed();
        let reply = on_b.proxy(&id, &other.secret, &call).await;
        if reply.status != StatusCode::OK {
            break reply;
        }
        assert!(
            began < std::time::Duration::from_secs(1),
            "B let a use through that began {began:?} after the revocation"
        );
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    };
    assert_eq!(
        refused.problem(),
        (StatusCode::FORBIDDEN, "not-granted".to_owned())
    );

    // Both replicas audited every use by the grant that allowed it.
    let events = on_b
        .list_all("/audit-events?action=credential.use", &admin)
        .await;
    let by_grant = events
        .iter()
        .filter(|e| e["outcome"] == "success" && e["via"] == format!("grant:{grant}"))
        .count();
    assert_eq!(by_grant, 50);
    let spent = events
        .iter()
        .filter(|e| e["reason"] == "budget-exhausted")
        .count();
    assert_eq!(spent, 150);
    a.stop();
    b.stop();
}
