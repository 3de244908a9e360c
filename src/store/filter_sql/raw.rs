//! SQL text with bind parameters, built piece by piece (`SqlBuf`) and handed to diesel as a
//! boolean expression for boxed queries (`RawPredicate`) or as a whole query (`RawQuery`).

use chrono::NaiveDateTime;
use diesel::expression::{
    is_aggregate, AppearsOnTable, Expression, SelectableExpression, ValidGrouping,
};
use diesel::query_builder::{AstPass, QueryFragment, QueryId};
use diesel::sql_types::{BigInt, Bool, Text, Timestamp};
use diesel::QueryResult;

use crate::store::{DbConn, MultiBackend};

#[derive(Debug, Clone)]
pub(super) enum Bind {
    Text(String),
    Int(i64),
    Bool(bool),
    Ts(NaiveDateTime),
}

/// SQL text split around bind parameters: `parts.len() == binds.len() + 1`.
#[derive(Debug, Clone)]
pub(super) struct SqlBuf {
    pub(super) parts: Vec<String>,
    pub(super) binds: Vec<Bind>,
    /// False once a value is written into the SQL text (numbers), which would make every
    /// value a new prepared statement.
    pub(super) cacheable: bool,
}

impl Default for SqlBuf {
    fn default() -> Self {
        SqlBuf {
            parts: vec![String::new()],
            binds: Vec::new(),
            cacheable: true,
        }
    }
}

impl SqlBuf {
    pub(super) fn sql(&mut self, s: &str) -> &mut Self {
        if let Some(last) = self.parts.last_mut() {
            last.push_str(s);
        }
        self
    }
    pub(super) fn bind(&mut self, b: Bind) -> &mut Self {
        self.binds.push(b);
        self.parts.push(String::new());
        self
    }
    pub(super) fn into_predicate(self) -> RawPredicate {
        RawPredicate {
            parts: self.parts,
            binds: self.binds,
            cacheable: self.cacheable,
        }
    }
}

/// The finished predicate. Implements just enough of diesel's expression traits to be boxed
/// into `BoxableExpression<table, MultiBackend, SqlType = Bool>`.
#[derive(Debug, Clone)]
pub struct RawPredicate {
    parts: Vec<String>,
    binds: Vec<Bind>,
    cacheable: bool,
}

impl Expression for RawPredicate {
    type SqlType = Bool;
}

impl<QS> AppearsOnTable<QS> for RawPredicate {}
impl<QS> SelectableExpression<QS> for RawPredicate {}

impl ValidGrouping<()> for RawPredicate {
    type IsAggregate = is_aggregate::No;
}

impl QueryId for RawPredicate {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl QueryFragment<MultiBackend> for RawPredicate {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, MultiBackend>) -> QueryResult<()> {
        // The text depends only on the filter's shape (values are binds), so the prepared
        // statement can be reused, unless a number literal was written into it.
        if !self.cacheable {
            out.unsafe_to_cache_prepared();
        }
        for (i, part) in self.parts.iter().enumerate() {
            out.push_sql(part);
            match self.binds.get(i) {
                Some(Bind::Text(s)) => out.push_bind_param::<Text, String>(s)?,
                Some(Bind::Int(n)) => out.push_bind_param::<BigInt, i64>(n)?,
                Some(Bind::Bool(b)) => out.push_bind_param::<Bool, bool>(b)?,
                Some(Bind::Ts(t)) => out.push_bind_param::<Timestamp, NaiveDateTime>(t)?,
                None => {}
            }
        }
        Ok(())
    }
}

/// A whole query built like a predicate (`mixed_page`): rows of `(Text, Text)`.
#[derive(Debug, Clone)]
pub struct RawQuery(pub(super) RawPredicate);

impl diesel::query_builder::Query for RawQuery {
    type SqlType = (Text, Text);
}

impl QueryId for RawQuery {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl QueryFragment<MultiBackend> for RawQuery {
    fn walk_ast<'b>(&'b self, out: AstPass<'_, 'b, MultiBackend>) -> QueryResult<()> {
        self.0.walk_ast(out)
    }
}

impl diesel::RunQueryDsl<DbConn> for RawQuery {}

#[cfg(test)]
impl RawPredicate {
    /// The SQL as the backend receives it, `?` (SQLite) or `$n` (PostgreSQL) for each bind,
    /// and then the binds: what the snapshot tests pin.
    pub(super) fn render(&self, backend: crate::store::Backend) -> String {
        let mut sql = String::new();
        for (i, part) in self.parts.iter().enumerate() {
            sql.push_str(part);
            if i < self.binds.len() {
                match backend {
                    crate::store::Backend::Sqlite => sql.push('?'),
                    crate::store::Backend::Pg => sql.push_str(&format!("${}", i + 1)),
                }
            }
        }
        let binds: Vec<String> = self
            .binds
            .iter()
            .map(|b| match b {
                Bind::Text(s) => format!("{s:?}"),
                Bind::Int(n) => n.to_string(),
                Bind::Bool(b) => b.to_string(),
                Bind::Ts(t) => t.to_string(),
            })
            .collect();
        let cache = if self.cacheable { "" } else { " (not cached)" };
        format!("{sql}\n  binds: [{}]{cache}", binds.join(", "))
    }
}
