//! Attack 4, tampering with sealed rows in the database: a flipped bit, two credentials'
//! ciphertexts swapped, a row moved to another organization. Also the credentials and the
//! proxy call the other attacks start from.

use super::*;

/// Creates one api_key credential per label in `token`'s organization, each allowed to reach
/// `upstream`; returns (id, secret) pairs.
pub(super) async fn credentials(
    vault: &TestApp,
    token: &str,
    upstream: &Upstream,
    labels: &[&str],
) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for label in labels {
        let secret = canary(label);
        let id = vault
            .api
            .create_credential(
                token,
                &json!({"name": label, "type": "api_key", "value": secret,
                        "allowedHosts": [upstream.origin()]}),
            )
            .await
            .id();
        out.push((id, secret));
    }
    out
}

/// A use of `id` with `token`, sent to `upstream`.
pub(super) async fn proxy(vault: &TestApp, token: &str, id: &str, upstream: &Upstream) -> Reply {
    let call = json!({"method": "GET", "url": upstream.url("/record/t")});
    vault.api.proxy(id, token, &call).await
}

/// A tampered credential does not open: a 500-class problem that names neither a secret
/// nor any key material, and nothing reaches the upstream.
fn refused_to_open(what: &str, reply: &Reply, secrets: &[&str], key: &str) {
    assert!(
        reply.status.is_server_error(),
        "{what}: {}: {}",
        reply.status,
        reply.body
    );
    reply.reveals_none(secrets);
    reply.reveals_none(&[key]);
    let code = reply.problem().1;
    assert!(!code.is_empty(), "a problem: {}", reply.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tampered_sealed_rows_refuse_to_open_and_reveal_nothing() {
    let upstream = start_upstream().await;
    let mut vault = start(true).await;
    let creds = credentials(
        &vault,
        &vault.token,
        &upstream,
        &["flipped", "swap-1", "swap-2", "moved", "control"],
    )
    .await;
    let secrets: Vec<&str> = creds.iter().map(|(_, s)| s.as_str()).collect();
    let key = vault
        .settings
        .encryption_key
        .as_ref()
        .map(|k| secrecy::ExposeSecret::expose_secret(k).to_owned())
        .expect("key");
    let ids: Vec<String> = creds.iter().map(|(id, _)| id.clone()).collect();
    let [flipped, swap1, swap2, moved, control] = &ids[..] else {
        unreachable!("five credentials were made")
    };
    let b_org = {
        let probe = vault
            .api
            .create_credential(
                &vault.other_token,
                &json!({"name": "b", "type": "api_key", "value": "b-secret",
                        "allowedHosts": [upstream.origin()]}),
            )
            .await
            .id();
        sqlite(
            &vault.db(),
            &format!(
                "SELECT hex(organization_id) FROM credentials WHERE id = {}",
                blob(&probe)
            ),
        )
    };

    vault.stop().await;
    let db = vault.db();
    // (a) one bit of the authentication tag, in the credential and its current version.
    for table in ["credentials", "credential_versions"] {
        let column = if table == "credentials" {
            "id"
        } else {
            "credential_id"
        };
        let hex = sqlite(
            &db,
            &format!(
                "SELECT hex(sealed) FROM {table} WHERE {column} = {} ORDER BY rowid DESC LIMIT 1",
                blob(flipped)
            ),
        );
        let mut bytes = hex.clone().into_bytes();
        let last = bytes.len() - 1;
        // One bit of the last byte (the GCM tag): the low bit of its last hex digit.
        let nibble = u8::from_str_radix(&hex[last..], 16).expect("hex") ^ 1;
        bytes[last] = format!("{nibble:X}").as_bytes()[0];
        let flipped_hex = String::from_utf8(bytes).expect("hex");
        sqlite(
            &db,
            &format!(
                "UPDATE {table} SET sealed = X'{flipped_hex}' WHERE {column} = {}",
                blob(flipped)
            ),
        );
    }
    // (b) two credentials' ciphertexts swapped, rows and versions alike (read first, then
    // written: an UPDATE whose subqueries read the table it changes would see its own work).
    for (table, column) in [
        ("credentials", "id"),
        ("credential_versions", "credential_id"),
    ] {
        let read = |id: &str| {
            sqlite(
                &db,
                &format!(
                    "SELECT hex(sealed) FROM {table} WHERE {column} = {}",
                    blob(id)
                ),
            )
        };
        let (one, two) = (read(swap1), read(swap2));
        assert_ne!(one, two);
        for (id, sealed) in [(swap1, &two), (swap2, &one)] {
            sqlite(
                &db,
                &format!(
                    "UPDATE {table} SET sealed = X'{sealed}' WHERE {column} = {}",
                    blob(id)
                ),
            );
        }
    }
    // (c) a row moved to the attacker's organization, its versions with it.
    for (table, column) in [
        ("credential_versions", "credential_id"),
        ("credentials", "id"),
    ] {
        sqlite(
            &db,
            &format!(
                "UPDATE {table} SET organization_id = X'{b_org}' WHERE {column} = {}",
                blob(moved)
            ),
        );
    }
    let tampered = sealed_rows(&db);
    vault.restart().await;

    for (what, id) in [("bit flip", flipped), ("swap 1", swap1), ("swap 2", swap2)] {
        let reply = proxy(&vault, &vault.token, id, &upstream).await;
        refused_to_open(what, &reply, &secrets, &key);
    }
    // The moved row: the attacker may see it listed, but cannot use it; its owner no longer
    // finds it.
    let reply = proxy(&vault, &vault.other_token, moved, &upstream).await;
    refused_to_open("moved", &reply, &secrets, &key);
    let reply = proxy(&vault, &vault.token, moved, &upstream).await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND, "{}", reply.body);
    let listed = vault.api.get("/credentials", &vault.other_token).await;
    listed.reveals_none(&secrets);
    assert!(
        upstream.requests().is_empty(),
        "no tampered secret went out"
    );

    // Untouched credentials still work.
    let reply = proxy(&vault, &vault.token, control, &upstream).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(upstream.last().header("x-api-key"), [creds[4].1.as_str()]);

    // Nothing the server did rewrote a sealed row.
    vault.stop().await;
    assert_eq!(
        sealed_rows(&db),
        tampered,
        "the rows are as the attacker left them"
    );
}
