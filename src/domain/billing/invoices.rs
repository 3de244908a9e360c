//! Invoices: issued from a quote inside the transaction that changes the seats, numbered per
//! organization (`INV-<slug>-000001`), stored in minor units; read back as views.

use chrono::NaiveDate;
use serde_json::json;

use crate::domain::billing::{self, Currency, LineKind, MonthsLeft, Quote, Term};
use crate::domain::{audit, Actor, Tier};
use crate::error::Error;
use crate::store::{
    self,
    invoices::{InvoiceRow, LineRow},
    DbConn,
};

pub const KIND_SEAT_CHANGE: &str = "seat_change";
pub const KIND_RENEWAL: &str = "renewal";

/// What an invoice is issued for, besides its quote.
pub struct IssueRequest<'a> {
    pub kind: &'static str,
    pub issued_on: NaiveDate,
    pub term: Term,
    pub idempotency_key: Option<&'a str>,
    pub request_hash: Option<&'a str>,
    /// The order as confirmed, as JSON.
    pub request: serde_json::Value,
}

/// An invoice with its lines and the organization it belongs to.
#[derive(Debug, Clone)]
pub struct InvoiceView {
    pub row: InvoiceRow,
    pub lines: Vec<LineRow>,
    pub currency: Currency,
}

impl InvoiceView {
    /// A stored amount as an exact decimal in the invoice currency ("2500.00").
    pub fn money(&self, minor: i64) -> String {
        billing::from_minor(minor, self.currency.minor_units)
            .map(|d| d.to_string())
            .unwrap_or_else(|_| minor.to_string())
    }
}

/// The months left of a stored line, as the billing module shows them.
pub fn months_left(line: &LineRow) -> MonthsLeft {
    MonthsLeft {
        whole: u32::try_from(line.months_whole).unwrap_or(0),
        days_left: u32::try_from(line.days_left).unwrap_or(0),
        days_in_period: u32::try_from(line.days_in_period).unwrap_or(1),
    }
}

fn line_kind(kind: LineKind) -> (&'static str, Option<Tier>) {
    match kind {
        LineKind::AddSeats(t) => ("add_seats", Some(t)),
        LineKind::Upgrade => ("upgrade", None),
        LineKind::Renewal(t) => ("renewal", Some(t)),
    }
}

/// Issue an invoice for `quote` (caller holds the organization lock, in its transaction).
pub fn issue(
    conn: &mut DbConn,
    org_id: &str,
    slug: &str,
    quote: &Quote,
    req: IssueRequest<'_>,
    actor: &Actor,
) -> Result<InvoiceView, Error> {
    let now = store::now();
    let seq = store::contracts::next_invoice_seq(conn, org_id, now)?;
    let id = uuid::Uuid::new_v4().to_string();
    let minor = quote.currency.minor_units;
    let mut lines = Vec::with_capacity(quote.lines.len());
    for (i, l) in quote.lines.iter().enumerate() {
        let (kind, tier) = line_kind(l.kind);
        let to_i32 =
            |v: u32| i32::try_from(v).map_err(|_| Error::BadRequest("too many months".into()));
        lines.push(LineRow {
            invoice_id: id.clone(),
            position: i32::try_from(i).unwrap_or(i32::MAX),
            kind: kind.into(),
            tier: tier.map(|t| t.as_str().to_string()),
            description: l.description.clone(),
            quantity: i64::from(l.quantity),
            unit_price_minor: billing::to_minor(l.unit_price, minor)?,
            months_whole: to_i32(l.months_left.whole)?,
            days_left: to_i32(l.months_left.days_left)?,
            days_in_period: to_i32(l.months_left.days_in_period)?,
            amount_minor: l.amount_minor(&quote.currency)?,
        });
    }
    let row = InvoiceRow {
        id,
        org_id: org_id.to_string(),
        seq,
        number: format!("INV-{slug}-{seq:06}"),
        kind: req.kind.into(),
        issued_on: req.issued_on,
        term_start: req.term.start(),
        term_end: req.term.end(),
        currency: quote.currency.code.clone(),
        total_minor: quote.total_minor()?,
        idempotency_key: req.idempotency_key.map(str::to_string),
        request_hash: req.request_hash.map(str::to_string),
        request: req.request.to_string(),
        issued_by: actor.id.clone(),
        created_at: now,
    };
    store::invoices::insert(conn, &row, &lines)?;
    audit::record(
        conn,
        org_id,
        actor,
        "invoice.issued",
        Some(&row.number),
        json!({"kind": row.kind, "total": quote.total.to_string(), "currency": row.currency}),
    )?;
    Ok(InvoiceView {
        row,
        lines,
        currency: quote.currency.clone(),
    })
}

fn view(conn: &mut DbConn, row: InvoiceRow) -> Result<InvoiceView, Error> {
    let lines = store::invoices::lines(conn, &row.id)?;
    with_lines(row, lines)
}

fn with_lines(row: InvoiceRow, lines: Vec<LineRow>) -> Result<InvoiceView, Error> {
    let currency = Currency::parse(&row.currency)
        .map_err(|e| Error::Internal(anyhow::anyhow!("invoice {}: {e}", row.number)))?;
    Ok(InvoiceView {
        row,
        lines,
        currency,
    })
}

pub fn by_number(conn: &mut DbConn, org_id: &str, number: &str) -> Result<InvoiceView, Error> {
    let row = store::invoices::find_by_number(conn, org_id, number)?
        .ok_or_else(|| Error::not_found(format!("invoice '{number}'")))?;
    view(conn, row)
}

pub fn by_idempotency_key(
    conn: &mut DbConn,
    org_id: &str,
    key: &str,
) -> Result<Option<InvoiceView>, Error> {
    store::invoices::find_by_key(conn, org_id, key)?
        .map(|row| view(conn, row))
        .transpose()
}

/// A page of invoices, newest first, with the total count.
pub fn page(
    conn: &mut DbConn,
    org_id: &str,
    offset: i64,
    limit: i64,
) -> Result<(Vec<InvoiceView>, i64), Error> {
    let (rows, total) = store::invoices::page(conn, org_id, offset, limit)?;
    let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
    let mut all_lines = store::invoices::lines_of(conn, &ids)?;
    let views = rows
        .into_iter()
        .map(|row| {
            let (mine, rest): (Vec<LineRow>, Vec<LineRow>) =
                all_lines.drain(..).partition(|l| l.invoice_id == row.id);
            all_lines = rest;
            with_lines(row, mine)
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok((views, total))
}

/// An invoice with the name of the organization it is addressed to.
pub fn document(
    conn: &mut DbConn,
    org_id: &str,
    number: &str,
) -> Result<(InvoiceView, String), Error> {
    let inv = by_number(conn, org_id, number)?;
    let org = store::orgs::find(conn, org_id)?.ok_or_else(|| Error::not_found("organization"))?;
    Ok((inv, org.name))
}
