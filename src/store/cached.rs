//! `Cached`: a statement diesel would prepare afresh on every run, prepared once per
//! connection instead.
//!
//! diesel never caches an UPDATE's prepared statement, because a changeset with `Option`
//! fields can leave columns out and so change the SQL from one run to the next. The hot
//! updates of the seat engine (the organization's queue counter, a seat pool's count, a
//! user's row with `treat_none_as_null`) always have the same SQL: re-parsing it on every
//! create was most of what SQLite's parser did under load. Wrap only statements whose SQL
//! text cannot vary with the values bound into it; the cache is keyed by that text.
//!
//! Run it on the backend's own connection (`native!`) with `load`/`get_result`, or, for an
//! UPDATE without a result of its own, with `rows`. Never with `execute`: that hands diesel's
//! cache a reference, and diesel's `QueryFragment` for `&T` does not pass
//! `is_safe_to_cache_prepared` on, so the statement was prepared afresh on every run (seen
//! with diesel's instrumentation: only a `RETURNING` statement ever reached the cache).

use diesel::backend::Backend;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::{QueryResult, RunQueryDsl};

#[derive(Debug, Clone, Copy)]
pub struct Cached<Q>(pub Q);

impl<Q, DB> QueryFragment<DB> for Cached<Q>
where
    DB: Backend,
    Q: QueryFragment<DB>,
{
    fn walk_ast<'b>(&'b self, pass: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        self.0.walk_ast(pass)
    }

    fn is_safe_to_cache_prepared(&self, _backend: &DB) -> QueryResult<bool> {
        Ok(true)
    }
}

impl<Q> QueryId for Cached<Q> {
    type QueryId = ();
    // No static id: the statement cache keys it by its SQL text.
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<Q: Query> Query for Cached<Q> {
    type SqlType = Q::SqlType;
}

impl<Q, Conn> RunQueryDsl<Conn> for Cached<Q> {}

impl<Q> Cached<Q> {
    /// Run a statement that returns nothing (an UPDATE) and answer how many rows it changed:
    /// it runs as `… RETURNING 1` through `load`, the path on which the cache works.
    pub fn rows<'q, Conn>(self, conn: &mut Conn) -> QueryResult<usize>
    where
        Counted<Q>: diesel::query_dsl::LoadQuery<'q, Conn, i32>,
    {
        RunQueryDsl::<Conn>::load::<i32>(Counted(self.0), conn).map(|rows| rows.len())
    }
}

/// `Cached::rows`' statement: the wrapped one followed by `RETURNING 1`, one row per row changed.
#[derive(Debug, Clone, Copy)]
pub struct Counted<Q>(Q);

impl<Q, DB> QueryFragment<DB> for Counted<Q>
where
    DB: Backend,
    Q: QueryFragment<DB>,
{
    fn walk_ast<'b>(&'b self, mut pass: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        self.0.walk_ast(pass.reborrow())?;
        pass.push_sql(" RETURNING 1");
        Ok(())
    }

    fn is_safe_to_cache_prepared(&self, _backend: &DB) -> QueryResult<bool> {
        Ok(true)
    }
}

impl<Q> QueryId for Counted<Q> {
    type QueryId = ();
    // No static id: the statement cache keys it by its SQL text.
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<Q> Query for Counted<Q> {
    type SqlType = diesel::sql_types::Integer;
}

impl<Q, Conn> RunQueryDsl<Conn> for Counted<Q> {}
