//! Versions and conditional changes through the API: `If-Match` on every change, secret
//! values that make versions and are restored without being read, pruning to the retention
//! count, and each change landing with its audit event.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{Id, canary, spawn_app};

#[tokio::test]
async fn conditional_updates_honour_if_match() {
    let app = spawn_app().await;
    let created = app
        .api
        .create_credential(
            &app.token,
            &json!({"name": "etag", "type": "bearer_token", "value": canary("etag")}),
        )
        .await;
    let path = format!("/credentials/{}", created.id());
    let read = app.call(Method::GET, &path, None).await;
    assert_eq!(read.headers["etag"], "\"1\"");

    let patched = app
        .call_if_match(
            Method::PATCH,
            &path,
            "\"1\"",
            Some(&json!({"description": "first"})),
        )
        .await;
    assert_eq!(patched.status, StatusCode::OK);
    assert_eq!(patched.headers["etag"], "\"2\"");

    // A stale tag, a weak tag and a tag this API never issued are all 412, and change nothing.
    for stale in ["\"1\"", "W/\"2\"", "\"abc\"", "\"1\", \"3\""] {
        let refused = app
            .call_if_match(
                Method::PATCH,
                &path,
                stale,
                Some(&json!({"description": "lost"})),
            )
            .await;
        refused.assert_problem(StatusCode::PRECONDITION_FAILED, "precondition-failed");
        let refused = app.call_if_match(Method::DELETE, &path, stale, None).await;
        refused.assert_problem(StatusCode::PRECONDITION_FAILED, "precondition-failed");
    }
    let after: Value = app.call(Method::GET, &path, None).await.json();
    assert_eq!(
        (after["revision"].as_i64(), after["description"].as_str()),
        (Some(2), Some("first"))
    );

    // `*` only needs the credential to exist; the right tag deletes.
    let any = app
        .call_if_match(
            Method::PATCH,
            &path,
            "*",
            Some(&json!({"description": "any"})),
        )
        .await;
    assert_eq!(any.status, StatusCode::OK);
    let deleted = app
        .call_if_match(Method::DELETE, &path, "\"3\"", None)
        .await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn secret_changes_make_versions_that_restore_without_being_read() {
    let app = spawn_app().await;
    let values = [canary("v1"), canary("v2"), canary("v3")];
    let created = app
        .api
        .create_credential(
            &app.token,
            &json!({"name": "rotating", "type": "api_key", "value": values[0]}),
        )
        .await;
    let id = created.id();
    let path = format!("/credentials/{id}");
    let hint = |value: &str| format!("…{}", &value[value.len() - 4..]);
    app.call(Method::PATCH, &path, Some(&json!({"value": values[1]})))
        .await;
    // A change of public fields only makes no new version.
    app.call(
        Method::PATCH,
        &path,
        Some(&json!({"description": "no new secret"})),
    )
    .await;
    app.call(Method::PATCH, &path, Some(&json!({"value": values[2]})))
        .await;

    let response = app
        .call(Method::GET, &format!("{path}/versions"), None)
        .await;
    response.reveals_none(&values);
    assert_eq!(response.status, StatusCode::OK);
    let listed = response.json();
    let items = listed["items"].as_array().expect("items");
    let numbers: Vec<i64> = items
        .iter()
        .map(|v| v["version"].as_i64().expect("n"))
        .collect();
    assert_eq!(numbers, [3, 2, 1]);
    assert_eq!(items[0]["current"], true);
    assert_eq!(items[2]["secretHints"]["value"], hint(&values[0]));

    // Restore version 1: the credential's hint is v1's again, as version 4.
    let restored = app
        .call_if_match(
            Method::POST,
            &format!("{path}/versions/1/restore"),
            "\"4\"",
            None,
        )
        .await;
    let etag = restored.header("etag").to_owned();
    restored.reveals_none(&values);
    assert_eq!(restored.status, StatusCode::OK, "{}", restored.body);
    assert_eq!(etag, "\"5\"");
    let restored = restored.json();
    assert_eq!(restored["secretHints"]["value"], hint(&values[0]));
    let listed: Value = app
        .call(Method::GET, &format!("{path}/versions"), None)
        .await
        .json();
    assert_eq!(listed["items"][0]["version"], 4);
    assert_eq!(listed["items"][0]["restoredFrom"], 1);

    // A stale precondition, a missing version, another organization: refused, nothing changes.
    let stale = app
        .call_if_match(
            Method::POST,
            &format!("{path}/versions/2/restore"),
            "\"4\"",
            None,
        )
        .await;
    stale.assert_problem(StatusCode::PRECONDITION_FAILED, "precondition-failed");
    let missing = app
        .call(
            Method::POST,
            &format!("{path}/versions/9/restore"),
            Some(&json!({})),
        )
        .await;
    missing.assert_problem(StatusCode::NOT_FOUND, "not-found");
    let foreign = app
        .api
        .get(&format!("{path}/versions"), &app.other_token)
        .await;
    foreign.assert_problem(StatusCode::NOT_FOUND, "not-found");
    let foreign = app
        .api
        .call(
            Method::POST,
            &format!("{path}/versions/1/restore"),
            &app.other_token,
            None,
        )
        .await;
    foreign.assert_problem(StatusCode::NOT_FOUND, "not-found");
    let after: Value = app.call(Method::GET, &path, None).await.json();
    assert_eq!(after["revision"], 5);
}

#[tokio::test]
async fn old_versions_are_pruned_to_the_retention_count() {
    let app = spawn_app().await;
    let created = app
        .api
        .create_credential(
            &app.token,
            &json!({"name": "busy", "type": "bearer_token", "value": canary("r0")}),
        )
        .await;
    let path = format!("/credentials/{}", created.id());
    for i in 1..=12 {
        let response = app
            .call(
                Method::PATCH,
                &path,
                Some(&json!({"value": canary(&format!("r{i}"))})),
            )
            .await;
        assert_eq!(response.status, StatusCode::OK);
    }
    let listed: Value = app
        .call(Method::GET, &format!("{path}/versions"), None)
        .await
        .json();
    let numbers: Vec<i64> = listed["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|v| v["version"].as_i64().expect("n"))
        .collect();
    assert_eq!(
        numbers,
        (4..=13).rev().collect::<Vec<_>>(),
        "the newest 10 are kept"
    );
    let pruned = app
        .call(
            Method::POST,
            &format!("{path}/versions/3/restore"),
            Some(&json!({})),
        )
        .await;
    pruned.assert_problem(StatusCode::NOT_FOUND, "not-found");
}

#[tokio::test]
async fn changes_and_their_audit_events_land_together() {
    let app = spawn_app().await;
    let created = app
        .api
        .create_credential(
            &app.token,
            &json!({"name": "audited", "type": "bearer_token", "value": canary("a")}),
        )
        .await;
    let id = created.id();
    let path = format!("/credentials/{id}");
    app.call(Method::PATCH, &path, Some(&json!({"value": canary("b")})))
        .await;
    let refused = app
        .call_if_match(Method::DELETE, &path, "\"1\"", None)
        .await;
    assert_eq!(refused.status, StatusCode::PRECONDITION_FAILED);
    assert_eq!(
        app.call(Method::DELETE, &path, None).await.status,
        StatusCode::NO_CONTENT
    );
    let events: Value = app
        .call(Method::GET, &format!("/audit-events?target={id}"), None)
        .await
        .json();
    let seen: Vec<(String, String, String)> = events["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|e| {
            (
                e["action"].as_str().expect("action").to_owned(),
                e["outcome"].as_str().expect("outcome").to_owned(),
                e["reason"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect();
    let expect = |a: &str, o: &str, r: &str| (a.to_owned(), o.to_owned(), r.to_owned());
    assert_eq!(
        seen,
        [
            expect("credential.delete", "success", ""),
            expect("credential.delete", "failure", "precondition-failed"),
            expect("credential.update", "success", ""),
            expect("credential.create", "success", ""),
        ]
    );
}
