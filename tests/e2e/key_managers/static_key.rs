//! The static key manager with a stored keyring: `keys rotate` on an installation that has
//! only `ENCRYPTION_KEY` creates a keyring wrapped by it, a running server follows, and
//! `keys rewrap` moves every row onto the new key.

use super::{Lifecycle, OnManager};
use crate::helpers::new_key;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_rotate_on_the_static_key_creates_a_keyring_that_a_running_server_follows() {
    let key = new_key();
    let mut lifecycle = Lifecycle::bootstrap(OnManager::new(&[("ENCRYPTION_KEY", &key)])).await;
    let server = lifecycle.on.start();
    lifecycle.create(&server, 3).await;
    let status = lifecycle.status();
    assert!(
        status.contains("no keyring: ENCRYPTION_KEY is the key-encryption key"),
        "{status}"
    );

    lifecycle.rotate_and_rewrap(&server).await;
    // The running server opens rows now under a key it learned from the hand-over.
    lifecycle.use_all(&server).await;
    server.stop();
    let status = lifecycle.status();
    assert!(
        status.contains("keyring generation 1 (1 keys), wrapped by static key")
            && status.contains("every sealed row is under the current key"),
        "{status}"
    );
    assert!(!status.contains(&key), "{status}");

    let server = lifecycle.on.start();
    lifecycle.use_all(&server).await;
    server.stop();
    // ENCRYPTION_KEY still wraps the keyring: without it nothing starts.
    lifecycle
        .on
        .settings
        .retain(|(name, _)| name != "ENCRYPTION_KEY");
    let refused = lifecycle.on.refused(&["serve"]);
    assert!(refused.contains("ENCRYPTION_KEY"), "{refused}");
}
