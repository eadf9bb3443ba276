//! Issue 14 findings: keys.

use super::*;

// ---------------------------------------------------------------------------------------
// Finding 8: the current sealed row is bound to the credential's version
// ---------------------------------------------------------------------------------------

impl TestApp {
    /// The credential's sealed blob (hex) and key id, as the store holds them.
    fn sealed_of(&self, id: &str) -> (String, String) {
        let row = match self.backend {
            Backend::Sqlite => self.sql(&format!(
                "SELECT hex(sealed) || '|' || key_id FROM credentials WHERE id = {}",
                blob(id)
            )),
            Backend::Postgres => self.sql(&format!(
                "SELECT upper(encode(sealed, 'hex')) || '|' || key_id FROM credentials WHERE id = '{id}'"
            )),
        };
        let (sealed, key_id) = row.split_once('|').expect("one row");
        (sealed.to_owned(), key_id.to_owned())
    }

    /// Writes a sealed blob (and key id) over the credential's, behind the vault's back.
    fn put_sealed(&self, id: &str, (sealed, key_id): &(String, String)) {
        match self.backend {
            Backend::Sqlite => self.sql(&format!(
                "UPDATE credentials SET sealed = X'{sealed}', key_id = '{key_id}' WHERE id = {}",
                blob(id)
            )),
            Backend::Postgres => self.sql(&format!(
                "UPDATE credentials SET sealed = decode('{sealed}', 'hex'), key_id = '{key_id}' \
                 WHERE id = '{id}'"
            )),
        };
    }
}

/// Someone with write access to the database puts back the sealed blob a credential had
/// before its secret was rotated (or before any later change): the vault refuses to open
/// it (500 `sealed-data-tampered`), sends nothing upstream and shows neither secret.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sealed_blob_rolled_back_over_a_later_version_is_refused() {
    for backend in Backend::ALL {
        let upstream = start_upstream().await;
        let Some(mut vault) = start_on(backend, true).await else {
            continue;
        };
        let (before, after) = (canary("before-rotation"), canary("after-rotation"));
        let id = vault
            .api
            .create_credential(
                &vault.token,
                &json!({"name": "rotated", "type": "api_key", "value": before,
                        "allowedHosts": [upstream.origin()]}),
            )
            .await
            .id();
        // A second credential whose blob is rolled back over a name-only change.
        let renamed = vault
            .api
            .create_credential(
                &vault.token,
                &json!({"name": "renamed", "type": "api_key", "value": canary("renamed"),
                        "allowedHosts": [upstream.origin()]}),
            )
            .await
            .id();
        let (old, old_renamed) = (vault.sealed_of(&id), vault.sealed_of(&renamed));

        let rotated = vault
            .api
            .update_credential(&id, &vault.token, &json!({"value": after}))
            .await;
        assert_eq!(
            rotated.status,
            StatusCode::OK,
            "{backend:?}: {}",
            rotated.body
        );
        let name_only = vault
            .api
            .update_credential(&renamed, &vault.token, &json!({"name": "renamed again"}))
            .await;
        assert_eq!(name_only.status, StatusCode::OK, "{}", name_only.body);
        assert_ne!(
            vault.sealed_of(&renamed).0,
            old_renamed.0,
            "{backend:?}: a name-only change seals the row again, for its new version"
        );

        vault.stop().await;
        // The blob alone, and the blob with its key id: both are the row as it was.
        vault.put_sealed(&id, &old);
        vault.put_sealed(&renamed, &old_renamed);
        vault.restart().await;

        for target in [&id, &renamed] {
            let reply = proxy(&vault, &vault.token, target, &upstream).await;
            assert_eq!(
                reply.problem(),
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "sealed-data-tampered".to_owned()
                ),
                "{backend:?}: {}",
                reply.body
            );
            reply.reveals_none(&[&before, &after]);
        }
        assert!(
            upstream.requests().is_empty(),
            "{backend:?}: a rolled-back secret went out ({} requests)",
            upstream.requests().len()
        );
        // The credential itself is still listed and described, without a secret.
        let shown = vault
            .api
            .get(&format!("/credentials/{id}"), &vault.token)
            .await;
        assert_eq!(shown.status, StatusCode::OK);
        shown.reveals_none(&[&before, &after]);
    }
}
