//! Invoices (Owners): the list, a print-friendly page per invoice, its CSV.

use actix_web::{http::header, web, HttpResponse};
use askama::Template;
use serde::Deserialize;

use super::flash::Incoming;
use super::{format, layout, show, Pager};
use crate::domain::billing::invoices::{self, InvoiceView};
use crate::domain::members::Role;
use crate::state::AppState;
use crate::web::layout::Layout;
use crate::web::page::{self, PageError};
use crate::web::session::SignedIn;

const PER_PAGE: i64 = 20;

#[derive(Debug, Deserialize)]
pub struct PageQuery {
    page: Option<i64>,
}

pub struct Summary {
    number: String,
    issued_on: String,
    kind: &'static str,
    total: String,
}

fn kind_label(kind: &str) -> &'static str {
    match kind {
        invoices::KIND_RENEWAL => "Renewal",
        _ => "Seat change",
    }
}

#[derive(Template)]
#[template(path = "console/invoices.html")]
struct ListPage {
    layout: Layout,
    rows: Vec<Summary>,
    pager: Pager,
}

/// `GET /console/invoices`
pub async fn list(
    state: web::Data<AppState>,
    who: SignedIn,
    query: web::Query<PageQuery>,
    flash: Incoming,
) -> Result<HttpResponse, PageError> {
    who.require(Role::Owner)?;
    let page = query.page.unwrap_or(1).max(1);
    let offset = (page - 1).saturating_mul(PER_PAGE);
    let org = who.session.org_id.clone();
    let (views, total) = state
        .db
        .read(move |c| invoices::page(c, &org, offset, PER_PAGE))
        .await?;
    show(
        &ListPage {
            layout: layout("Invoices", &who, "/console/invoices", &flash),
            rows: views
                .iter()
                .map(|v| Summary {
                    number: v.row.number.clone(),
                    issued_on: format::date(v.row.issued_on),
                    kind: kind_label(&v.row.kind),
                    total: format::money_minor(v.row.total_minor, &v.currency),
                })
                .collect(),
            pager: Pager::new("/console/invoices", "", page, PER_PAGE, total),
        },
        &flash,
    )
}

pub struct Line {
    description: String,
    unit_price: String,
    quantity: String,
    months_left: String,
    amount: String,
}

#[derive(Template)]
#[template(path = "console/invoice.html")]
struct InvoicePage {
    layout: Layout,
    org_name: String,
    number: String,
    kind: &'static str,
    issued_on: String,
    term: String,
    currency: String,
    lines: Vec<Line>,
    total: String,
}

fn invoice_page(layout: Layout, inv: &InvoiceView, org_name: String) -> InvoicePage {
    let cur = &inv.currency;
    InvoicePage {
        layout,
        org_name,
        number: inv.row.number.clone(),
        kind: kind_label(&inv.row.kind),
        issued_on: format::date(inv.row.issued_on),
        term: format!(
            "{} – {}",
            format::date(inv.row.term_start),
            format::date(inv.row.term_end.pred_opt().unwrap_or(inv.row.term_end))
        ),
        currency: cur.code.clone(),
        lines: inv
            .lines
            .iter()
            .map(|l| Line {
                description: l.description.clone(),
                unit_price: format::money_minor(l.unit_price_minor, cur),
                quantity: format::count(l.quantity),
                months_left: format!("{} of 12", invoices::months_left(l)),
                amount: format::money_minor(l.amount_minor, cur),
            })
            .collect(),
        total: format::money_minor(inv.row.total_minor, cur),
    }
}

/// `GET /console/invoices/{number}`: print-friendly (the navigation is hidden in print).
pub async fn show_invoice(
    state: web::Data<AppState>,
    who: SignedIn,
    number: web::Path<String>,
    flash: Incoming,
) -> Result<HttpResponse, PageError> {
    who.require(Role::Owner)?;
    let (org, number) = (who.session.org_id.clone(), number.into_inner());
    let (inv, org_name) = state
        .db
        .read(move |c| invoices::document(c, &org, &number))
        .await?;
    let title = format!("Invoice {}", inv.row.number);
    let l = layout(&title, &who, "/console/invoices", &flash);
    show(&invoice_page(l, &inv, org_name), &flash)
}

/// `GET /console/invoices/{number}.csv`
pub async fn csv(
    state: web::Data<AppState>,
    who: SignedIn,
    number: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    who.require(Role::Owner)?;
    let (org, number) = (who.session.org_id.clone(), number.into_inner());
    let (inv, _) = state
        .db
        .read(move |c| invoices::document(c, &org, &number))
        .await?;
    let body = crate::api::owner::render::invoice_csv(&inv)?;
    Ok(page::respond(actix_web::http::StatusCode::OK)
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{}.csv\"", inv.row.number),
        ))
        .body(body))
}
