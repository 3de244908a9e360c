//! Owner-API representations: contracts, quotes and invoices as JSON, invoices as a readable
//! HTML page (every interpolated value escaped) and as CSV (quoted by the `csv` crate).
//! Money is shown as exact decimal strings ("2500.00") beside its minor units.

use serde_json::{json, Value};

use crate::domain::billing::contracts::Contract;
use crate::domain::billing::invoices::{self, InvoiceView};
use crate::domain::billing::{LineKind, MonthsLeft, Quote, Term};
use crate::domain::Tier;
use crate::error::Error;

pub fn term(t: &Term) -> Value {
    json!({"start": t.start(), "end": t.end(), "last_day": t.last_day()})
}

pub fn contract(c: &Contract) -> Value {
    let upgrade = c.prices.upgrade_price().map(|p| p.to_string()).ok();
    json!({
        "status": if c.active { "active" } else { "expired" },
        "term": term(&c.term),
        "auto_renew": c.auto_renew,
        "renews_on": (c.active && c.auto_renew).then(|| c.term.end()),
        "expires_on": (!c.auto_renew).then(|| c.term.end()),
        "renewed_through": c.renewed_through,
        "currency": c.currency.code,
        "prices": {
            "standard": c.prices.standard.to_string(),
            "premium": c.prices.premium.to_string(),
            "upgrade": upgrade,
        },
    })
}

fn months(m: &MonthsLeft) -> Value {
    json!({
        "months_left": m.to_string(),
        "months_left_decimal": m.as_decimal().to_string(),
        "fraction_of_term": m.fraction_of_term().to_string(),
    })
}

/// One invoice or quote line on the wire.
struct LineOut<'a> {
    kind: &'a str,
    tier: Option<&'a str>,
    description: &'a str,
    quantity: i64,
    unit_price: String,
    months: MonthsLeft,
    amount: String,
    amount_minor: Option<i64>,
}

impl LineOut<'_> {
    fn json(&self) -> Value {
        let mut v = json!({
            "kind": self.kind,
            "tier": self.tier,
            "description": self.description,
            "quantity": self.quantity,
            "unit_price": self.unit_price,
            "amount": self.amount,
            "amount_minor": self.amount_minor,
        });
        if let (Some(obj), Value::Object(extra)) = (v.as_object_mut(), months(&self.months)) {
            obj.extend(extra);
        }
        v
    }
}

fn kind_of(kind: LineKind) -> (&'static str, Option<Tier>) {
    match kind {
        LineKind::AddSeats(t) => ("add_seats", Some(t)),
        LineKind::Upgrade => ("upgrade", None),
        LineKind::Renewal(t) => ("renewal", Some(t)),
    }
}

/// A preview: the lines and total an order would be invoiced.
pub fn quote(q: &Quote) -> Value {
    let lines: Vec<Value> = q
        .lines
        .iter()
        .map(|l| {
            let (kind, tier) = kind_of(l.kind);
            LineOut {
                kind,
                tier: tier.map(Tier::as_str),
                description: &l.description,
                quantity: i64::from(l.quantity),
                unit_price: l.unit_price.to_string(),
                months: l.months_left,
                amount: l.amount.to_string(),
                amount_minor: l.amount_minor(&q.currency).ok(),
            }
            .json()
        })
        .collect();
    json!({
        "currency": q.currency.code,
        "lines": lines,
        "total": q.total.to_string(),
        "total_minor": q.total_minor().ok(),
    })
}

pub fn invoice(inv: &InvoiceView) -> Value {
    let r = &inv.row;
    let lines: Vec<Value> = inv
        .lines
        .iter()
        .map(|l| {
            LineOut {
                kind: &l.kind,
                tier: l.tier.as_deref(),
                description: &l.description,
                quantity: l.quantity,
                unit_price: inv.money(l.unit_price_minor),
                months: invoices::months_left(l),
                amount: inv.money(l.amount_minor),
                amount_minor: Some(l.amount_minor),
            }
            .json()
        })
        .collect();
    json!({
        "number": r.number,
        "kind": r.kind,
        "issued_on": r.issued_on,
        "term": {"start": r.term_start, "end": r.term_end,
                 "last_day": r.term_end.pred_opt().unwrap_or(r.term_end)},
        "currency": r.currency,
        "lines": lines,
        "total": inv.money(r.total_minor),
        "total_minor": r.total_minor,
        "request": serde_json::from_str::<Value>(&r.request).unwrap_or(Value::Null),
    })
}

/// Escape text for HTML element content and double-quoted attributes.
pub fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

pub fn invoice_html(inv: &InvoiceView, org_name: &str) -> String {
    let e = escape_html;
    let r = &inv.row;
    let mut rows = String::new();
    for l in &inv.lines {
        rows.push_str(&format!(
            "<tr><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>\n",
            e(&l.description),
            e(&inv.money(l.unit_price_minor)),
            l.quantity,
            e(&invoices::months_left(l).to_string()),
            e(&inv.money(l.amount_minor)),
        ));
    }
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
<title>Invoice {number}</title>\
<style>body{{font-family:sans-serif;margin:2em}}table{{border-collapse:collapse}}\
td,th{{border-bottom:1px solid #ccc;padding:.4em .8em;text-align:left}}.n{{text-align:right}}</style>\
</head><body>\n<h1>Invoice {number}</h1>\n\
<p>{org}<br>Issued {issued}<br>Contract term {start} to {last}<br>Currency {currency}</p>\n\
<table><thead><tr><th>Item</th><th class=\"n\">Unit price (a year)</th><th class=\"n\">Quantity</th>\
<th class=\"n\">Months left (of 12)</th><th class=\"n\">Amount</th></tr></thead><tbody>\n{rows}</tbody>\
<tfoot><tr><th colspan=\"4\">Total</th><th class=\"n\">{total} {currency}</th></tr></tfoot></table>\n\
<p>Each line is quantity × annual price × months left / 12, rounded once, half-up, to the cent; \
the total is the sum of the rounded lines.</p>\n</body></html>\n",
        number = e(&r.number),
        org = e(org_name),
        issued = r.issued_on,
        start = r.term_start,
        last = r.term_end.pred_opt().unwrap_or(r.term_end),
        currency = e(&r.currency),
        total = e(&inv.money(r.total_minor)),
    )
}

pub fn invoice_csv(inv: &InvoiceView) -> Result<String, Error> {
    let mut w = crate::api::csv::Writer::with_capacity(1024);
    w.record([
        "invoice",
        "issued_on",
        "currency",
        "kind",
        "tier",
        "description",
        "unit_price",
        "quantity",
        "months_left",
        "amount",
    ])?;
    let r = &inv.row;
    for l in &inv.lines {
        w.record([
            r.number.as_str(),
            &r.issued_on.to_string(),
            &r.currency,
            &l.kind,
            l.tier.as_deref().unwrap_or(""),
            &l.description,
            &inv.money(l.unit_price_minor),
            &l.quantity.to_string(),
            &invoices::months_left(l).to_string(),
            &inv.money(l.amount_minor),
        ])?;
    }
    w.record([
        r.number.as_str(),
        &r.issued_on.to_string(),
        &r.currency,
        "total",
        "",
        "Total",
        "",
        "",
        "",
        &inv.money(r.total_minor),
    ])?;
    let bytes = w.into_bytes()?;
    String::from_utf8(bytes).map_err(|e| Error::Internal(anyhow::anyhow!("CSV not UTF-8: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_is_escaped() {
        assert_eq!(
            escape_html("<a href=\"x\">O'Neil & co</a>"),
            "&lt;a href=&quot;x&quot;&gt;O&#39;Neil &amp; co&lt;/a&gt;"
        );
    }
}
