//! Announcing this replica's credential changes to every replica (cache.rs explains why
//! the vault's sessions announce their own). A write queues its credential's id once it
//! has committed and returns; one task sends whatever is queued as one statement, in a
//! transaction that waits for no WAL flush, so a burst of writes costs a few statements,
//! not one each, and no write waits for its announcement. A change is announced within
//! a round trip of its commit, as the trigger would; losing one in a crash costs at most
//! [`FRESH_FOR`] of staleness elsewhere.

use std::collections::HashSet;

use diesel::QueryResult;
use diesel::pg::Pg;
use diesel::query_builder::{AstPass, QueryFragment, QueryId};
use diesel::sql_types::{Array, Text};
use diesel_async::RunQueryDsl as _;
use tokio::sync::mpsc;
use vault_core::ids::CredentialId;

use crate::Connections;
use crate::cache::{CHANNEL, FRESH_FOR};
use crate::error::from_diesel;

/// Past this many distinct credentials queued, everything is announced instead: replicas
/// then forget everything, which is always safe.
const MOST_NAMED: usize = 10_000;

/// Queues announcements for the task [`Announcer::start`] spawned.
#[derive(Clone)]
pub(crate) struct Announcer {
    /// A credential that changed; `None`: any may have.
    queue: mpsc::UnboundedSender<Option<CredentialId>>,
}

impl Announcer {
    /// Starts the task, which sends on `db`'s connections, each payload naming the changed
    /// credential and then `origin` (so that the cache that wrote it ignores its own). It
    /// ends when the last clone of the announcer is dropped.
    pub(crate) fn start(db: Connections, origin: String) -> Self {
        let (queue, queued) = mpsc::unbounded_channel();
        tokio::spawn(announce_queued(queued, db, origin));
        Self { queue }
    }

    /// Announces (soon) that credential `id` changed.
    pub(crate) fn announce(&self, id: CredentialId) {
        // Fails only once the task is gone, when the store is being dropped.
        let _ = self.queue.send(Some(id));
    }

    /// Announces (soon) that any credential may have changed: every replica forgets all.
    pub(crate) fn announce_all(&self) {
        let _ = self.queue.send(None);
    }
}

async fn announce_queued(
    mut queued: mpsc::UnboundedReceiver<Option<CredentialId>>,
    db: Connections,
    origin: String,
) {
    while let Some(first) = queued.recv().await {
        let mut ids = HashSet::from([first]);
        while let Ok(id) = queued.try_recv() {
            ids.insert(id);
        }
        let payloads = if ids.len() > MOST_NAMED || ids.contains(&None) {
            vec![format!("* {origin}")]
        } else {
            ids.iter()
                .flatten()
                .map(|id| format!("{id} {origin}"))
                .collect()
        };
        let sent = db
            .with_connection(async move |conn| {
                Announce { payloads }
                    .execute(conn)
                    .await
                    .map_err(from_diesel)
            })
            .await;
        if let Err(error) = sent {
            tracing::warn!(%error, changes = ids.len(), "credential changes not announced: other replicas may serve the old rows for up to {FRESH_FOR:?}");
        }
    }
}

/// Notifies each payload, in a transaction that waits for no WAL flush. A statement of
/// its own type, so that it is prepared once per connection.
#[derive(QueryId)]
struct Announce {
    payloads: Vec<String>,
}

impl QueryFragment<Pg> for Announce {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        out.push_sql("SELECT set_config('synchronous_commit', 'off', true), pg_notify('");
        out.push_sql(CHANNEL);
        out.push_sql("', payload) FROM unnest(");
        out.push_bind_param::<Array<Text>, _>(&self.payloads)?;
        out.push_sql(") AS payload");
        Ok(())
    }
}
