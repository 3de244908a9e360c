//! The statement cache's helpers, in one place: `native!`, `Cached` and `cached!`, for
//! statements diesel would otherwise build or prepare afresh on every run.
//!
//! diesel never caches an UPDATE's prepared statement, because a changeset with `Option`
//! fields can leave columns out and so change the SQL from one run to the next. The hot
//! updates of the seat engine (the organization's queue counter, a seat pool's count, a
//! user's row with `treat_none_as_null`) always have the same SQL, and re-parsing it on every
//! create kept SQLite's parser busy under load.
//!
//! - `cached!(query)`: for a statement whose SQL is fixed at its call site (no boxed or
//!   optional parts). The cache is keyed by the call site, a type the macro declares, so the
//!   SQL text is never built again after the first run (building it cost about as much as
//!   running a small UPDATE). A plain SELECT gains too: diesel would otherwise walk the whole
//!   query once more per run to ask whether it may be cached.
//! - `Cached::by_text(query)`: for a boxed query whose SQL depends on its inputs but never on
//!   the values bound into it; the cache is keyed by the SQL text.
//!
//! Run either on the backend's own connection (`native!`) with `load`/`get_result`, or, for
//! an UPDATE without a result of its own, with `rows`. Never with `execute`: that hands
//! diesel's cache a reference, and diesel's `QueryFragment` for `&T` does not pass
//! `is_safe_to_cache_prepared` on, so the statement was prepared afresh on every run.
//!
//! What each of these saved: `docs/benchmarks.md`, "Measurements behind the code".

use std::marker::PhantomData;

use diesel::backend::Backend;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::{QueryResult, RunQueryDsl};

/// How a `Cached` statement is found again in diesel's per-connection statement cache.
pub trait CacheKey: 'static {
    /// True: by the key type itself (a `cached!` call site); false: by the SQL text.
    const BY_TYPE: bool;
}

/// The key of `Cached::by_text`: the statement's SQL text.
#[derive(Debug, Clone, Copy)]
pub struct BySqlText;

impl CacheKey for BySqlText {
    const BY_TYPE: bool = false;
}

/// A statement prepared once per connection and found again by `K`.
#[derive(Debug, Clone, Copy)]
pub struct Cached<Q, K = BySqlText>(pub Q, pub PhantomData<K>);

impl<Q> Cached<Q> {
    pub fn by_text(query: Q) -> Self {
        Cached(query, PhantomData)
    }
}

/// Runs `$body` with `$c` bound to the backend's own connection (`SqliteConnection` or
/// `PgConnection`), so the statement in it is built for that backend directly. Through the
/// `MultiConnection` enum diesel renders a statement's whole SQL text in each of its passes
/// over it, and a statement reached by reference loses `Cached`'s "same SQL every time"
/// answer. For the statements of the hot write and lookup paths.
macro_rules! native {
    ($conn:expr, |$c:ident| $body:expr) => {
        match $conn {
            $crate::store::DbConn::Sqlite($c) => $body,
            $crate::store::DbConn::Pg($c) => $body,
        }
    };
}
pub(crate) use native;

/// Wrap a statement whose SQL never varies so that it is prepared once per connection and
/// found again by its call site (see the module docs).
macro_rules! cached {
    ($query:expr $(,)?) => {{
        /// The call site: the statement cache's key for this statement.
        struct Site;
        impl $crate::store::cached::CacheKey for Site {
            const BY_TYPE: bool = true;
        }
        $crate::store::cached::Cached::<_, Site>($query, ::std::marker::PhantomData)
    }};
}
pub(crate) use cached;

impl<Q, K, DB> QueryFragment<DB> for Cached<Q, K>
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

impl<Q, K: CacheKey> QueryId for Cached<Q, K> {
    type QueryId = K;
    const HAS_STATIC_QUERY_ID: bool = K::BY_TYPE;
}

impl<Q: Query, K> Query for Cached<Q, K> {
    type SqlType = Q::SqlType;
}

impl<Q, K, Conn> RunQueryDsl<Conn> for Cached<Q, K> {}

impl<Q, K> Cached<Q, K> {
    /// Run a statement that returns nothing (an UPDATE) and answer how many rows it changed:
    /// it runs as `… RETURNING 1` through `load`, the path on which the cache works.
    pub fn rows<'q, Conn>(self, conn: &mut Conn) -> QueryResult<usize>
    where
        Cached<Counted<Q>, K>: diesel::query_dsl::LoadQuery<'q, Conn, i32>,
    {
        RunQueryDsl::<Conn>::load::<i32>(Cached(Counted(self.0), PhantomData::<K>), conn)
            .map(|rows| rows.len())
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
}

impl<Q> Query for Counted<Q> {
    type SqlType = diesel::sql_types::Integer;
}
