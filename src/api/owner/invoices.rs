//! Invoices (Owner and above): a paged list, one invoice as JSON, HTML or CSV.

use actix_web::{web, HttpResponse};
use serde::Deserialize;
use serde_json::json;

use super::render;
use crate::auth::OwnerSession;
use crate::domain::billing::invoices::{self, InvoiceView};
use crate::domain::members::Role;
use crate::error::Error;
use crate::state::AppState;

pub const MAX_PER_PAGE: i64 = 100;

#[derive(Debug, Deserialize)]
pub struct PageQuery {
    page: Option<i64>,
    per_page: Option<i64>,
}

pub async fn list(
    session: OwnerSession,
    state: web::Data<AppState>,
    query: web::Query<PageQuery>,
) -> Result<HttpResponse, Error> {
    session.require(Role::Owner)?;
    let page = query.page.unwrap_or(1).max(1);
    let per_page = query.per_page.unwrap_or(20).clamp(1, MAX_PER_PAGE);
    let org_id = session.org_id.clone();
    let offset = (page - 1).saturating_mul(per_page);
    let (views, total) = state
        .db
        .read(move |c| invoices::page(c, &org_id, offset, per_page))
        .await?;
    Ok(HttpResponse::Ok().json(json!({
        "invoices": views.iter().map(render::invoice).collect::<Vec<_>>(),
        "page": page,
        "per_page": per_page,
        "total": total,
    })))
}

async fn load(
    session: &OwnerSession,
    state: &AppState,
    number: String,
) -> Result<(InvoiceView, String), Error> {
    session.require(Role::Owner)?;
    let org_id = session.org_id.clone();
    state
        .db
        .read(move |c| invoices::document(c, &org_id, &number))
        .await
}

pub async fn get(
    session: OwnerSession,
    state: web::Data<AppState>,
    number: web::Path<String>,
) -> Result<HttpResponse, Error> {
    let (inv, _) = load(&session, &state, number.into_inner()).await?;
    Ok(HttpResponse::Ok().json(render::invoice(&inv)))
}

pub async fn html(
    session: OwnerSession,
    state: web::Data<AppState>,
    number: web::Path<String>,
) -> Result<HttpResponse, Error> {
    let (inv, org_name) = load(&session, &state, number.into_inner()).await?;
    Ok(HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(render::invoice_html(&inv, &org_name)))
}

pub async fn csv(
    session: OwnerSession,
    state: web::Data<AppState>,
    number: web::Path<String>,
) -> Result<HttpResponse, Error> {
    let (inv, _) = load(&session, &state, number.into_inner()).await?;
    let body = render::invoice_csv(&inv)?;
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            actix_web::http::header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{}.csv\"", inv.row.number),
        ))
        .body(body))
}
