//! Keeps the store's credential cache (vault-core's `credential_cache`) coherent across
//! replicas through PostgreSQL itself: every change of a credential row is announced with
//! a notification, and each store listens on a connection of its own and forgets what
//! changed.
//!
//! The vault's own sessions announce each change just after it commits (announcer.rs). A
//! notification sent inside the write's transaction would make its commit take a
//! cluster-wide lock held through its WAL flush, and every credential write of every
//! replica would commit one at a time. Any other writer (an operator's `UPDATE`) is
//! announced by a trigger, on commit (migrations `credential_changes` and
//! `faster_credential_writes`). A writer that dies between its commit and its announcement
//! leaves the others serving the old row for at most [`FRESH_FOR`], how long any entry is
//! served.
//!
//! The cache serves only while that connection listens: when it breaks, everything is
//! forgotten and every read goes to the database until a new connection listens again.
//! This replica's own writes keep what they wrote, and ignore their own announcements.

use std::str::FromStr as _;
use std::sync::{Arc, Weak};
use std::time::Duration;

use futures::StreamExt as _;
use futures::channel::oneshot;
use tokio_postgres::AsyncMessage;
pub(crate) use vault_core::credential_cache::{CredentialCache, FRESH_FOR};
use vault_core::ids::CredentialId;

/// The channel the migration's trigger notifies, with the changed credential's id (or
/// `*` when the table was truncated).
pub(crate) const CHANNEL: &str = "vault_credential_changed";

/// The trigger that notifies [`CHANNEL`].
const TRIGGER: &str = "vault_credential_changed";

/// Set in the vault's sessions: the trigger leaves their changes to announcer.rs.
pub(crate) const ANNOUNCES_CHANGES: &str = "SET vault.announces_changes = on";

/// The listening session's `application_name`, which tells it apart in
/// `pg_stat_activity`.
pub const APPLICATION_NAME: &str = "vault credential cache";

/// How long the listener waits before connecting again after losing its connection.
const RECONNECT_DELAY: Duration = Duration::from_secs(1);

/// Tells this store's own announcements (which it has applied already) from others': what
/// they say after the credential's id.
pub(crate) fn new_origin() -> Arc<str> {
    Arc::from(uuid::Uuid::new_v4().to_string())
}

/// Hears a notification: forgets the credential it names (everything, if it names none
/// that parses), unless it is this store's own announcement.
fn hear(cache: &CredentialCache, origin: &str, payload: &str) {
    let (id, from) = payload.split_once(' ').unwrap_or((payload, ""));
    if from == origin {
        return;
    }
    let id = uuid::Uuid::try_parse(id).ok();
    cache.forget(id.map(CredentialId::from_uuid));
}

/// Ends the listener when the store's last clone is dropped.
pub(crate) struct StopListening(#[allow(dead_code)] oneshot::Sender<()>);

/// Starts the listener of `cache` on its own connection to `url`: it runs until the
/// returned guard is dropped, reconnecting whenever its connection is lost.
pub(crate) fn listen(
    url: &str,
    cache: &Arc<CredentialCache>,
    origin: Arc<str>,
    timeout: Duration,
) -> StopListening {
    let (stop, stopped) = oneshot::channel();
    let config = tokio_postgres::Config::from_str(url);
    let cache = Arc::downgrade(cache);
    tokio::spawn(async move {
        let Ok(mut config) = config else { return };
        config.application_name(APPLICATION_NAME);
        let run = Box::pin(keep_listening(config, cache, origin, timeout));
        futures::future::select(run, stopped).await;
    });
    StopListening(stop)
}

async fn keep_listening(
    config: tokio_postgres::Config,
    cache: Weak<CredentialCache>,
    origin: Arc<str>,
    timeout: Duration,
) {
    loop {
        match listen_once(&config, &cache, &origin, timeout).await {
            Ok(()) => return,
            Err(error) => {
                tracing::warn!(%error, "credential cache: not listening for changes; reads go to the database");
            }
        }
        match cache.upgrade() {
            Some(cache) => cache.serve(false),
            None => return,
        }
        tokio::time::sleep(RECONNECT_DELAY).await;
    }
}

type ListenError = Box<dyn std::error::Error + Send + Sync>;

/// Listens until the connection breaks (an error) or the cache is gone (`Ok`).
async fn listen_once(
    config: &tokio_postgres::Config,
    cache: &Weak<CredentialCache>,
    origin: &str,
    timeout: Duration,
) -> Result<(), ListenError> {
    let connect = config.connect(tokio_postgres::NoTls);
    let Ok(connected) = tokio::time::timeout(timeout, connect).await else {
        return Err(format!("no connection within {timeout:?}").into());
    };
    let (client, mut connection) = connected?;
    let (sender, mut messages) = futures::channel::mpsc::unbounded();
    // The connection must be polled for the client's statements to progress, and it is
    // what yields the notifications.
    let driver = tokio::spawn(async move {
        let mut stream = futures::stream::poll_fn(move |cx| connection.poll_message(cx));
        while let Some(message) = stream.next().await {
            if sender.unbounded_send(message).is_err() {
                return;
            }
        }
    });
    let result: Result<(), ListenError> = async {
        client.batch_execute(&format!("LISTEN {CHANNEL}")).await?;
        // Without the trigger (a schema from before it) no change would be heard.
        let trigger = client
            .query_opt("SELECT 1 FROM pg_trigger WHERE tgname = $1", &[&TRIGGER])
            .await?;
        if trigger.is_none() {
            return Err(format!("the trigger {TRIGGER} is missing: migrate the database").into());
        }
        match cache.upgrade() {
            Some(cache) => cache.serve(true),
            None => return Ok(()),
        }
        tracing::info!("credential cache: listening for changes");
        while let Some(message) = messages.next().await {
            let Some(cache) = cache.upgrade() else {
                return Ok(());
            };
            match message? {
                AsyncMessage::Notification(note) if note.channel() == CHANNEL => {
                    hear(&cache, origin, note.payload());
                }
                _ => {}
            }
        }
        Err("the server closed the connection".into())
    }
    .await;
    driver.abort();
    result
}
