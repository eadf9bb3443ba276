//! Statements diesel would prepare anew on every execution, prepared once per connection.

use diesel::QueryResult;
use diesel::connection::LoadConnection as _;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::sql_types::Untyped;
use diesel::sqlite::{Sqlite, SqliteConnection};

/// `Q`, prepared once per connection and SQL text. diesel never caches an `UPDATE`, an
/// `INSERT` with a nullable column, or raw SQL, because such text may vary without bound
/// (a column left out, `DEFAULT` for a missing value). The store's take a few forms each,
/// and preparing one anew compiles it on every write, in the writer's turn.
pub(crate) struct Prepared<Q>(pub(crate) Q);

impl<Q: QueryFragment<Sqlite>> Prepared<Q> {
    /// Runs the statement; the number of rows it returned (its `RETURNING` rows).
    ///
    /// Through `load`, which hands the statement to diesel's cache by value. `execute`
    /// hands it over by reference, and a reference does not pass on
    /// `is_safe_to_cache_prepared`: diesel would prepare it anew every time.
    pub(crate) fn run(self, conn: &mut SqliteConnection) -> QueryResult<usize> {
        let mut returned = 0;
        for row in conn.load(self)? {
            row?;
            returned += 1;
        }
        Ok(returned)
    }
}

impl<Q: QueryFragment<Sqlite>> QueryFragment<Sqlite> for Prepared<Q> {
    fn walk_ast<'b>(&'b self, pass: AstPass<'_, 'b, Sqlite>) -> QueryResult<()> {
        self.0.walk_ast(pass)
    }

    fn is_safe_to_cache_prepared(&self, _backend: &Sqlite) -> QueryResult<bool> {
        Ok(true)
    }
}

impl<Q> QueryId for Prepared<Q> {
    type QueryId = ();
    // Cached by its SQL text.
    const HAS_STATIC_QUERY_ID: bool = false;
}

/// Its rows are only counted, never decoded.
impl<Q> Query for Prepared<Q> {
    type SqlType = Untyped;
}

#[cfg(test)]
mod tests {
    use diesel::connection::{
        Connection as _, Instrumentation, InstrumentationEvent, SimpleConnection as _,
    };
    use diesel::prelude::*;
    use std::sync::{Arc, Mutex};

    use super::*;

    diesel::table! {
        notes (id) {
            id -> Integer,
            body -> Nullable<Text>,
        }
    }

    #[derive(Insertable)]
    #[diesel(table_name = notes)]
    struct Note {
        id: i32,
        body: Option<String>,
    }

    /// Counts the statements diesel prepares and caches.
    struct Cached(Arc<Mutex<usize>>);

    impl Instrumentation for Cached {
        fn on_connection_event(&mut self, event: InstrumentationEvent<'_>) {
            if let InstrumentationEvent::CacheQuery { .. } = event {
                *self
                    .0
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner) += 1;
            }
        }
    }

    #[test]
    fn a_statement_is_prepared_once_and_counts_what_it_returned() -> QueryResult<()> {
        let mut conn = SqliteConnection::establish(":memory:")
            .map_err(|e| diesel::result::Error::QueryBuilderError(Box::new(e)))?;
        conn.batch_execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)")?;
        let cached = Arc::new(Mutex::new(0));
        conn.set_instrumentation(Cached(Arc::clone(&cached)));
        for id in 0..3 {
            let note = Note { id, body: None };
            Prepared(diesel::insert_into(notes::table).values(&note)).run(&mut conn)?;
            let updated = Prepared(
                diesel::update(notes::table.filter(notes::id.eq(id)))
                    .set(notes::body.eq(Some("seen")))
                    .returning(notes::id),
            )
            .run(&mut conn)?;
            assert_eq!(updated, 1);
        }
        // The insert and the update, each prepared and cached once for three runs.
        assert_eq!(
            *cached
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
            2
        );
        let none = Prepared(
            diesel::update(notes::table.filter(notes::id.eq(99)))
                .set(notes::body.eq(None::<String>))
                .returning(notes::id),
        )
        .run(&mut conn)?;
        assert_eq!(none, 0);
        Ok(())
    }
}
