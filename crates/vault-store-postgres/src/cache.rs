//! Credentials kept in memory, so that a use reads none from the database, kept coherent
//! across replicas by PostgreSQL itself: every change of a credential row is announced
//! with a notification, and each store listens on a connection of its own and forgets what
//! changed.
//!
//! The vault's own sessions announce each change just after it commits (announcer.rs). A
//! notification sent inside the write's transaction would make its commit take a
//! cluster-wide lock held through its WAL flush, and every credential write of every
//! replica would commit one at a time. Any other writer (an operator's `UPDATE`) is
//! announced by a trigger, on commit (migrations `credential_changes` and
//! `faster_credential_writes`). A writer that dies between its commit and its announcement leaves
//! the others serving the old row for at most [`FRESH_FOR`], how long any entry is served.
//!
//! The cache is used only while that connection listens: when it breaks, everything is
//! forgotten and every read goes to the database until a new connection listens again.
//! A read racing a change never caches the old row: an entry is kept only if no change of
//! it was heard while it was read. This replica's own writes keep what they wrote, and
//! ignore their own announcements.

use std::collections::HashMap;
use std::str::FromStr as _;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError, Weak};
use std::time::{Duration, Instant};

use futures::StreamExt as _;
use futures::channel::oneshot;
use tokio_postgres::AsyncMessage;
use vault_core::credential::StoredCredential;
use vault_core::ids::{CredentialId, OrganizationId};

/// The channel the migration's trigger notifies, with the changed credential's id (or
/// `*` when the table was truncated).
pub(crate) const CHANNEL: &str = "vault_credential_changed";

/// The trigger that notifies [`CHANNEL`].
const TRIGGER: &str = "vault_credential_changed";

/// Set in the vault's sessions: the trigger leaves their changes to announcer.rs.
pub(crate) const ANNOUNCES_CHANGES: &str = "SET vault.announces_changes = on";

/// How long an entry is served: the bound on staleness when a change is never announced.
pub(crate) const FRESH_FOR: Duration = Duration::from_secs(1);

/// The listening session's `application_name`, which tells it apart in
/// `pg_stat_activity`.
pub const APPLICATION_NAME: &str = "vault credential cache";

/// Most credentials kept; past this the cache starts afresh.
const CAPACITY: usize = 10_000;

/// How long the listener waits before connecting again after losing its connection.
const RECONNECT_DELAY: Duration = Duration::from_secs(1);

/// Credentials read recently, by id.
pub(crate) struct CredentialCache {
    entries: Mutex<Entries>,
    /// Tells this cache's own announcements from others' (which it has applied already).
    origin: String,
    /// Whether the listener's connection listens now.
    listening: AtomicBool,
    /// The store was closed: nothing is served from memory any more.
    closed: AtomicBool,
}

/// What the cache holds, and the changes it heard, numbered: a read or a write keeps its
/// row only if no change of that credential was heard since it began.
#[derive(Default)]
struct Entries {
    /// Each with when the read (or write) that found it began.
    kept: HashMap<CredentialId, (Instant, StoredCredential)>,
    /// The number of the last change heard.
    heard: u64,
    /// The number of the last change heard of each credential.
    changed: HashMap<CredentialId, u64>,
    /// What began before this keeps nothing: everything was forgotten (or `changed`).
    floor: u64,
}

impl Entries {
    /// Whether nothing changed credential `id` since `mark`.
    fn unchanged_since(&self, mark: &Mark, id: CredentialId) -> bool {
        mark.heard >= self.floor && self.changed.get(&id).is_none_or(|last| *last <= mark.heard)
    }

    fn keep(&mut self, mark: &Mark, stored: &StoredCredential) {
        if self.kept.len() >= CAPACITY {
            self.kept.clear();
        }
        self.kept
            .insert(stored.credential.id, (mark.at, stored.clone()));
    }

    /// Numbers a change of `id` (of every credential for `None`) and forgets it.
    fn change(&mut self, id: Option<CredentialId>) {
        self.heard += 1;
        match id {
            Some(id) => {
                self.kept.remove(&id);
                if self.changed.len() >= CAPACITY {
                    self.changed.clear();
                    self.floor = self.heard;
                }
                self.changed.insert(id, self.heard);
            }
            None => {
                self.kept.clear();
                self.changed.clear();
                self.floor = self.heard;
            }
        }
    }
}

impl CredentialCache {
    pub(crate) fn new() -> Self {
        Self {
            entries: Mutex::default(),
            origin: uuid::Uuid::new_v4().to_string(),
            listening: AtomicBool::new(false),
            closed: AtomicBool::new(false),
        }
    }

    fn entries(&self) -> std::sync::MutexGuard<'_, Entries> {
        self.entries.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The cached credential, if the cache is live and has it.
    pub(crate) fn get(
        &self,
        organization: OrganizationId,
        id: CredentialId,
    ) -> Option<StoredCredential> {
        if !self.listening.load(Ordering::Acquire) {
            return None;
        }
        self.entries()
            .kept
            .get(&id)
            .filter(|(read, stored)| {
                read.elapsed() < FRESH_FOR && stored.credential.organization_id == organization
            })
            .map(|(_, stored)| stored.clone())
    }

    /// Where changes stand before a read or a write; give it to [`CredentialCache::keep`]
    /// or [`ForgetAfter::wrote`].
    pub(crate) fn mark(&self) -> Mark {
        Mark {
            heard: self.entries().heard,
            at: Instant::now(),
        }
    }

    /// Keeps `stored`, read after `mark`, unless a change of it was heard since.
    pub(crate) fn keep(&self, mark: &Mark, stored: &StoredCredential) {
        if !self.listening.load(Ordering::Acquire) {
            return;
        }
        // Checked under the lock that hearing a change takes too: a change heard after
        // this removes the entry after it is inserted.
        let mut entries = self.entries();
        if entries.unchanged_since(mark, stored.credential.id) {
            entries.keep(mark, stored);
        }
    }

    /// Forgets credential `id` (all of them for `None`).
    pub(crate) fn forget(&self, id: Option<CredentialId>) {
        self.entries().change(id);
    }

    /// Forgets credential `id` when the returned guard is dropped, unless told what was
    /// written ([`ForgetAfter::wrote`]): after a write returns or is cancelled.
    pub(crate) const fn forget_after(&self, id: CredentialId) -> ForgetAfter<'_> {
        ForgetAfter {
            cache: self,
            id,
            done: false,
        }
    }

    /// What this cache's own announcements say after the credential's id.
    pub(crate) fn origin(&self) -> &str {
        &self.origin
    }

    /// Hears a notification: forgets the credential it names (everything, if it names
    /// none that parses), unless it is this cache's own announcement.
    fn hear(&self, payload: &str) {
        let (id, origin) = payload.split_once(' ').unwrap_or((payload, ""));
        if origin == self.origin {
            return;
        }
        let id = uuid::Uuid::try_parse(id).ok();
        self.forget(id.map(CredentialId::from_uuid));
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

/// Where changes stood, and when, as a read or a write began.
pub(crate) struct Mark {
    heard: u64,
    at: Instant,
}

/// See [`CredentialCache::forget_after`].
pub(crate) struct ForgetAfter<'a> {
    cache: &'a CredentialCache,
    id: CredentialId,
    done: bool,
}

impl ForgetAfter<'_> {
    /// The write, begun after `mark`, committed `stored`: keep it, unless a change of it
    /// was heard since. Either way, reads that began before now keep nothing.
    pub(crate) fn wrote(mut self, mark: &Mark, stored: &StoredCredential) {
        self.done = true;
        let listening = self.cache.listening.load(Ordering::Acquire);
        let mut entries = self.cache.entries();
        let unchanged = entries.unchanged_since(mark, self.id);
        entries.change(Some(self.id));
        if listening && unchanged {
            entries.keep(mark, stored);
        }
    }
}

impl Drop for ForgetAfter<'_> {
    fn drop(&mut self) {
        if !self.done {
            self.cache.forget(Some(self.id));
        }
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
                    cache.hear(note.payload());
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
