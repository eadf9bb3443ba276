//! Statements diesel would prepare anew on every execution, prepared once per connection.

use diesel::QueryResult;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::query_dsl::RunQueryDsl;
use diesel::sqlite::Sqlite;

/// `Q`, prepared once per connection and SQL text. diesel never caches an `UPDATE`, an
/// `INSERT` with a nullable column, or raw SQL, because such text may vary without bound
/// (a column left out, `DEFAULT` for a missing value). The store's take a few forms each,
/// and preparing one anew compiles it on every write, in the writers' turn.
pub(crate) struct Prepared<Q>(pub(crate) Q);

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

impl<Q: Query> Query for Prepared<Q> {
    type SqlType = Q::SqlType;
}

impl<Q, Conn> RunQueryDsl<Conn> for Prepared<Q> {}
