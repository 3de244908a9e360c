//! `scim_fold(text)`: the one case fold SQL uses for `caseExact = false` strings, on both
//! backends.
//!
//! SQLite's `LOWER()` folds ASCII only and PostgreSQL's `lower()` follows the database's
//! ctype (`C` folds ASCII only), while the `*_norm` columns hold Rust's `to_lowercase()`.
//! Comparing `LOWER(col)` with a value lowered in Rust missed every non-ASCII capital
//! ("Ölsen" never equalled "Ölsen"). So:
//! - SQLite: every connection gets `scim_fold` as a deterministic function that is Rust's
//!   `to_lowercase()`, the fold the `*_norm` columns were written with;
//! - PostgreSQL: migration `2026-12-02-114700_scim_fold` creates `scim_fold` as ICU's
//!   `lower()` (full Unicode case mapping whatever the database's ctype), or plain
//!   `lower()` on a server built without ICU.
//!
//! A filter folds both sides in SQL (`scim_fold(col) = scim_fold(?)`), so the two sides
//! always agree, whichever implementation the backend has. Columns stored folded
//! (`*_norm`) are never wrapped: they compare with a value folded in Rust and keep their
//! indexes.

use diesel::sql_types::{Nullable, Text};
use diesel::sqlite::SqliteConnection;
use diesel::QueryResult;

diesel::define_sql_function! {
    /// See the module documentation.
    fn scim_fold(x: Nullable<Text>) -> Nullable<Text>;
}

/// The fold of Rust strings, for values compared with `*_norm` columns.
pub fn fold(s: &str) -> String {
    s.to_lowercase()
}

/// Registers `scim_fold` on a SQLite connection (deterministic, so SQLite may use it in
/// indexes and factor it out of loops).
pub fn register(conn: &mut SqliteConnection) -> QueryResult<()> {
    scim_fold_utils::register_impl(conn, |x: Option<String>| x.map(|s| fold(&s)))
}

#[cfg(test)]
mod tests {
    use diesel::prelude::*;
    use diesel::sql_types::Text;

    #[derive(QueryableByName)]
    struct Folded {
        #[diesel(sql_type = diesel::sql_types::Nullable<Text>)]
        f: Option<String>,
    }

    #[test]
    fn sqlite_fold_is_rusts_lowercase() {
        let mut c = SqliteConnection::establish(":memory:").expect("sqlite");
        super::register(&mut c).expect("register");
        for s in [
            "Ölsen",
            "ÉMILE",
            "Über Lead",
            "ÆØÅ",
            "ΣΊΣΥΦΟΣ",
            "İstanbul",
            "abc",
            "",
        ] {
            let got: Folded = diesel::sql_query("SELECT scim_fold(?) AS f")
                .bind::<Text, _>(s)
                .get_result(&mut c)
                .expect("query");
            assert_eq!(got.f.as_deref(), Some(super::fold(s).as_str()), "{s}");
        }
        let null: Folded = diesel::sql_query("SELECT scim_fold(NULL) AS f")
            .get_result(&mut c)
            .expect("query");
        assert_eq!(null.f, None);
    }
}
