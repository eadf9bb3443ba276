//! Credentials kept in memory, so that a use reads none from the database, kept coherent
//! across replicas by PostgreSQL itself: a trigger (migration `credential_changes`)
//! notifies every change of a credential row, whoever made it (a replica, `keys rewrap`,
//! an operator's `UPDATE`), and each store listens on a connection of its own and forgets
//! what changed.
//!
//! The cache is used only while that connection listens: when it breaks, everything is
//! forgotten and every read goes to the database until a new connection listens again.
//! A read racing a change never caches the old row: an entry is kept only if no change
//! was heard while it was read. This replica's own writes forget the row when they return;
//! another replica's change is forgotten when its notification arrives, within
//! milliseconds of the commit.

use std::collections::HashMap;
use std::str::FromStr as _;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError, Weak};
use std::time::Duration;

use futures::StreamExt as _;
use futures::channel::oneshot;
use tokio_postgres::AsyncMessage;
use vault_core::credential::StoredCredential;
use vault_core::ids::{CredentialId, OrganizationId};

/// The channel the migration's trigger notifies, with the changed credential's id (or
/// `*` when the table was truncated).
const CHANNEL: &str = "vault_credential_changed";

/// The trigger that notifies [`CHANNEL`].
const TRIGGER: &str = "vault_credential_changed";

/// The listening session's `application_name`, which tells it apart in
/// `pg_stat_activity`.
pub const APPLICATION_NAME: &str = "vault credential cache";

/// Most credentials kept; past this the cache starts afresh.
const CAPACITY: usize = 10_000;

/// How long the listener waits before connecting again after losing its connection.
const RECONNECT_DELAY: Duration = Duration::from_secs(1);

/// Credentials read recently, by id.
#[derive(Default)]
pub(crate) struct CredentialCache {
    entries: Mutex<HashMap<CredentialId, StoredCredential>>,
    /// Counts changes heard (and listening stopping or starting): a read caches its row
    /// only if this did not move while it read.
    changes: AtomicU64,
    /// Whether the listener's connection listens now.
    listening: AtomicBool,
    /// The store was closed: nothing is served from memory any more.
    closed: AtomicBool,
}

impl CredentialCache {
    /// The cached credential, if the cache is live and has it.
    pub(crate) fn get(
        &self,
        organization: OrganizationId,
        id: CredentialId,
    ) -> Option<StoredCredential> {
        if !self.listening.load(Ordering::Acquire) {
            return None;
        }
        let entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        entries
            .get(&id)
            .filter(|stored| stored.credential.organization_id == organization)
            .cloned()
    }

    /// Where changes stand before a read; give it to [`CredentialCache::keep`].
    pub(crate) fn mark(&self) -> u64 {
        self.changes.load(Ordering::Acquire)
    }

    /// Keeps `stored`, read after `mark`, unless a change was heard since.
    pub(crate) fn keep(&self, mark: u64, stored: &StoredCredential) {
        if !self.listening.load(Ordering::Acquire) {
            return;
        }
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        // Checked under the lock that `forget` takes too: a change heard after this check
        // removes the entry after it is inserted.
        if self.changes.load(Ordering::Acquire) != mark {
            return;
        }
        if entries.len() >= CAPACITY {
            entries.clear();
        }
        entries.insert(stored.credential.id, stored.clone());
    }

    /// Forgets credential `id` (all of them for `None`).
    pub(crate) fn forget(&self, id: Option<CredentialId>) {
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        self.changes.fetch_add(1, Ordering::AcqRel);
        match id {
            Some(id) => {
                entries.remove(&id);
            }
            None => entries.clear(),
        }
    }

    /// Forgets credential `id` when the returned guard is dropped: after a write returns
    /// (or is cancelled), whatever its outcome.
    pub(crate) const fn forget_after(&self, id: CredentialId) -> ForgetAfter<'_> {
        ForgetAfter { cache: self, id }
    }

    /// Serves nothing from now on.
    pub(crate) fn close(&self) {
        self.closed.store(true, Ordering::Release);
        self.set_listening(false);
    }

    fn set_listening(&self, listening: bool) {
        let listening = listening && !self.closed.load(Ordering::Acquire);
        self.forget(None);
        self.listening.store(listening, Ordering::Release);
        // A read that began before the switch must not keep its row.
        self.forget(None);
    }
}

/// See [`CredentialCache::forget_after`].
pub(crate) struct ForgetAfter<'a> {
    cache: &'a CredentialCache,
    id: CredentialId,
}

impl Drop for ForgetAfter<'_> {
    fn drop(&mut self) {
        self.cache.forget(Some(self.id));
    }
}

/// Ends the listener when the store's last clone is dropped.
pub(crate) struct StopListening(#[allow(dead_code)] oneshot::Sender<()>);

/// Starts the listener of `cache` on its own connection to `url`: it runs until the
/// returned guard is dropped, reconnecting whenever its connection is lost.
pub(crate) fn listen(url: &str, cache: &Arc<CredentialCache>, timeout: Duration) -> StopListening {
    let (stop, stopped) = oneshot::channel();
    let config = tokio_postgres::Config::from_str(url);
    let cache = Arc::downgrade(cache);
    tokio::spawn(async move {
        let Ok(mut config) = config else { return };
        config.application_name(APPLICATION_NAME);
        let run = Box::pin(keep_listening(config, cache, timeout));
        futures::future::select(run, stopped).await;
    });
    StopListening(stop)
}

async fn keep_listening(
    config: tokio_postgres::Config,
    cache: Weak<CredentialCache>,
    timeout: Duration,
) {
    loop {
        match listen_once(&config, &cache, timeout).await {
            Ok(()) => return,
            Err(error) => {
                tracing::warn!(%error, "credential cache: not listening for changes; reads go to the database");
            }
        }
        match cache.upgrade() {
            Some(cache) => cache.set_listening(false),
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
            Some(cache) => cache.set_listening(true),
            None => return Ok(()),
        }
        tracing::info!("credential cache: listening for changes");
        while let Some(message) = messages.next().await {
            let Some(cache) = cache.upgrade() else {
                return Ok(());
            };
            match message? {
                AsyncMessage::Notification(note) if note.channel() == CHANNEL => {
                    // An id that does not parse forgets everything: never keep a row
                    // that may have changed.
                    let id = uuid::Uuid::try_parse(note.payload()).ok();
                    cache.forget(id.map(CredentialId::from_uuid));
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
