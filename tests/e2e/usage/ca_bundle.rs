//! `caBundle`, which every type has: a credential pinned to a private CA reaches an HTTPS
//! upstream (Python's `ssl`, `helpers/mtls_server.py` without client certificates) whose
//! certificate that CA issued, which the vault's own roots do not trust; without the
//! bundle, or pinned to another CA, nothing is sent. Pinning a new root is a change of
//! destinations.

use super::mtls::{ca, mtls_server};
use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bearer_token_pinned_to_a_private_ca_reaches_only_that_pki() {
    let (private_ca, other_ca) = (ca("private CA"), ca("other CA"));
    let (server, _dir) = mtls_server(&private_ca, None);
    let origin = format!("https://127.0.0.1:{}", server.port);
    let mut vault = Vault::start(true);
    let token = vault.secret("pinned-token");
    let body = |ca_bundle: Option<String>| {
        let mut body = json!({"name": "private api", "type": "bearer_token", "value": token,
                              "allowedHosts": [origin]});
        if let Some(bundle) = ca_bundle {
            body["caBundle"] = json!(bundle);
        }
        body
    };
    let pinned = vault.create(&body(Some(private_ca.pem()))).await;
    let unpinned = vault.create(&body(None)).await;
    let mispinned = vault.create(&body(Some(other_ca.pem()))).await;

    let shown = vault.get_json(&format!("/credentials/{pinned}")).await;
    assert_eq!(shown["caBundle"], private_ca.pem().trim(), "{shown}");
    let shown = vault.get_json(&format!("/credentials/{unpinned}")).await;
    assert!(shown["caBundle"].is_null(), "{shown}");

    let call = json!({"method": "GET", "url": format!("{origin}/private/orders")});
    let used = vault.proxy(&pinned, &call).await;
    assert_eq!(used.status, StatusCode::OK, "{}", used.body);
    assert_eq!(used.json()["authorization"], true, "{}", used.body);
    assert!(
        used.json()["client"].is_null(),
        "no client certificate: {}",
        used.body
    );
    for refused in [&unpinned, &mispinned] {
        let reply = vault.proxy(refused, &call).await;
        assert_eq!(reply.status, StatusCode::BAD_GATEWAY, "{}", reply.body);
    }

    // Pinning the unpinned one (the admin key holds `credentials:route`) makes it work;
    // clearing the bundle again makes it fail again.
    let patched = vault
        .patch(&unpinned, &json!({"caBundle": private_ca.pem()}))
        .await;
    assert_eq!(patched.status, StatusCode::OK, "{}", patched.body);
    assert_eq!(vault.proxy(&unpinned, &call).await.status, StatusCode::OK);
    let cleared = vault.patch(&unpinned, &json!({"caBundle": null})).await;
    assert_eq!(cleared.status, StatusCode::OK, "{}", cleared.body);
    assert!(cleared.json()["caBundle"].is_null(), "{}", cleared.body);
    let reply = vault.proxy(&unpinned, &call).await;
    assert_eq!(reply.status, StatusCode::BAD_GATEWAY, "{}", reply.body);

    // What is not a bundle of certificates is refused, naming the field, and changes
    // nothing: not PEM, a key among the certificates, a certificate that does not parse.
    let key_block = "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----";
    for bad in [
        "not pem".to_owned(),
        format!("{}\n{key_block}", private_ca.pem().trim()),
        "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----".to_owned(),
    ] {
        let reply = vault
            .call(Method::POST, "/credentials", Some(&body(Some(bad.clone()))))
            .await;
        assert_eq!(
            reply.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{bad}: {}",
            reply.body
        );
        assert_eq!(reply.json()["field"], "caBundle", "{}", reply.body);
        let reply = vault.patch(&pinned, &json!({"caBundle": bad})).await;
        assert_eq!(reply.json()["field"], "caBundle", "{}", reply.body);
    }
    assert_eq!(vault.proxy(&pinned, &call).await.status, StatusCode::OK);
    vault.stop_and_check_logs(&[]);
}
