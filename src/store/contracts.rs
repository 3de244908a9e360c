//! Contracts: one per organization, with its term, prices and invoice counter.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use super::schema::contracts;
use super::{DbConn, Q};

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = contracts)]
pub struct ContractRow {
    pub org_id: String,
    pub term_start: NaiveDate,
    /// Exclusive: the first day of the next term.
    pub term_end: NaiveDate,
    pub auto_renew: bool,
    pub currency: String,
    pub price_standard_minor: i64,
    pub price_premium_minor: i64,
    pub status: String,
    pub invoice_counter: i64,
    pub renewed_through: Option<NaiveDate>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

pub fn insert(conn: &mut DbConn, row: &ContractRow) -> Q<()> {
    diesel::insert_into(contracts::table)
        .values(row)
        .execute(conn)
        .map(|_| ())
}

pub fn find(conn: &mut DbConn, org_id: &str) -> Q<Option<ContractRow>> {
    contracts::table
        .find(org_id)
        .select(ContractRow::as_select())
        .first(conn)
        .optional()
}

/// Organizations whose active contract's term has ended by `today`.
pub fn due(conn: &mut DbConn, today: NaiveDate) -> Q<Vec<String>> {
    contracts::table
        .filter(contracts::status.eq("active"))
        .filter(contracts::term_end.le(today))
        .order(contracts::term_end.asc())
        .select(contracts::org_id)
        .load(conn)
}

/// Take the next invoice number of the organization.
pub fn next_invoice_seq(conn: &mut DbConn, org_id: &str, now: NaiveDateTime) -> Q<i64> {
    diesel::update(contracts::table.find(org_id))
        .set((
            contracts::invoice_counter.eq(contracts::invoice_counter + 1),
            contracts::updated_at.eq(now),
        ))
        .returning(contracts::invoice_counter)
        .get_result(conn)
}

/// Move an active contract whose term ends on `term_end` to the next term. Conditional on the
/// term still being the one the caller read: false when another process renewed it first.
pub fn advance_term(
    conn: &mut DbConn,
    org_id: &str,
    term_end: NaiveDate,
    next_end: NaiveDate,
    now: NaiveDateTime,
) -> Q<bool> {
    let n = diesel::update(
        contracts::table
            .filter(contracts::org_id.eq(org_id))
            .filter(contracts::status.eq("active"))
            .filter(contracts::term_end.eq(term_end)),
    )
    .set((
        contracts::term_start.eq(term_end),
        contracts::term_end.eq(next_end),
        contracts::renewed_through.eq(Some(term_end)),
        contracts::updated_at.eq(now),
    ))
    .execute(conn)?;
    Ok(n == 1)
}

/// Expire an active contract whose term ends on `term_end`; false when already handled.
pub fn expire(conn: &mut DbConn, org_id: &str, term_end: NaiveDate, now: NaiveDateTime) -> Q<bool> {
    let n = diesel::update(
        contracts::table
            .filter(contracts::org_id.eq(org_id))
            .filter(contracts::status.eq("active"))
            .filter(contracts::term_end.eq(term_end)),
    )
    .set((
        contracts::status.eq("expired"),
        contracts::updated_at.eq(now),
    ))
    .execute(conn)?;
    Ok(n == 1)
}
