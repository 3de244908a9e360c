//! Invoices and their lines, in minor units of the contract currency.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use super::schema::{invoice_lines, invoices};
use super::{DbConn, Q};

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = invoices)]
pub struct InvoiceRow {
    pub id: String,
    pub org_id: String,
    pub seq: i64,
    pub number: String,
    pub kind: String,
    pub issued_on: NaiveDate,
    pub term_start: NaiveDate,
    pub term_end: NaiveDate,
    pub currency: String,
    pub total_minor: i64,
    pub idempotency_key: Option<String>,
    pub request_hash: Option<String>,
    /// The order as confirmed (JSON), for the record.
    pub request: String,
    pub issued_by: String,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = invoice_lines)]
pub struct LineRow {
    pub invoice_id: String,
    pub position: i32,
    pub kind: String,
    pub tier: Option<String>,
    pub description: String,
    pub quantity: i64,
    pub unit_price_minor: i64,
    pub months_whole: i32,
    pub days_left: i32,
    pub days_in_period: i32,
    pub amount_minor: i64,
}

/// Insert an invoice with its lines (one insert per line: no batch inserts on `DbConn`).
pub fn insert(conn: &mut DbConn, invoice: &InvoiceRow, lines: &[LineRow]) -> Q<()> {
    diesel::insert_into(invoices::table)
        .values(invoice)
        .execute(conn)?;
    for line in lines {
        diesel::insert_into(invoice_lines::table)
            .values(line)
            .execute(conn)?;
    }
    Ok(())
}

pub fn find_by_number(conn: &mut DbConn, org_id: &str, number: &str) -> Q<Option<InvoiceRow>> {
    invoices::table
        .filter(invoices::org_id.eq(org_id))
        .filter(invoices::number.eq(number))
        .select(InvoiceRow::as_select())
        .first(conn)
        .optional()
}

pub fn find_by_key(conn: &mut DbConn, org_id: &str, key: &str) -> Q<Option<InvoiceRow>> {
    invoices::table
        .filter(invoices::org_id.eq(org_id))
        .filter(invoices::idempotency_key.eq(key))
        .select(InvoiceRow::as_select())
        .first(conn)
        .optional()
}

pub fn lines(conn: &mut DbConn, invoice_id: &str) -> Q<Vec<LineRow>> {
    invoice_lines::table
        .filter(invoice_lines::invoice_id.eq(invoice_id))
        .order(invoice_lines::position.asc())
        .select(LineRow::as_select())
        .load(conn)
}

/// Lines of many invoices at once (one query per page).
pub fn lines_of(conn: &mut DbConn, invoice_ids: &[String]) -> Q<Vec<LineRow>> {
    if invoice_ids.is_empty() {
        return Ok(Vec::new());
    }
    invoice_lines::table
        .filter(invoice_lines::invoice_id.eq_any(invoice_ids))
        .order((
            invoice_lines::invoice_id.asc(),
            invoice_lines::position.asc(),
        ))
        .select(LineRow::as_select())
        .load(conn)
}

/// A page of the organization's invoices, newest first, and the total count.
pub fn page(conn: &mut DbConn, org_id: &str, offset: i64, limit: i64) -> Q<(Vec<InvoiceRow>, i64)> {
    let total: i64 = invoices::table
        .filter(invoices::org_id.eq(org_id))
        .count()
        .get_result(conn)?;
    let rows = invoices::table
        .filter(invoices::org_id.eq(org_id))
        .order(invoices::seq.desc())
        .offset(offset)
        .limit(limit)
        .select(InvoiceRow::as_select())
        .load(conn)?;
    Ok((rows, total))
}

/// Invoices of one kind (tests and reports).
pub fn count_of_kind(conn: &mut DbConn, org_id: &str, kind: &str) -> Q<i64> {
    invoices::table
        .filter(invoices::org_id.eq(org_id))
        .filter(invoices::kind.eq(kind))
        .count()
        .get_result(conn)
}
