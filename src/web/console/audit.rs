//! The audit log (Owners): newest first, filtered by user (subject id), kind and time, paged.

use actix_web::{web, HttpResponse};
use askama::Template;
use serde::Deserialize;

use super::flash::Incoming;
use super::{format, layout, query_of, show, Pager};
use crate::domain::audit;
use crate::domain::members::Role;
use crate::state::AppState;
use crate::web::layout::Layout;
use crate::web::page::PageError;
use crate::web::session::SignedIn;

const PER_PAGE: i64 = 50;

#[derive(Debug, Deserialize)]
pub struct AuditQuery {
    user: Option<String>,
    kind: Option<String>,
    since: Option<String>,
    until: Option<String>,
    page: Option<i64>,
}

pub struct Event {
    at: String,
    actor: String,
    kind: String,
    subject: String,
    detail: String,
}

#[derive(Template)]
#[template(path = "console/audit.html")]
struct AuditPage {
    layout: Layout,
    user: String,
    kind: String,
    since: String,
    until: String,
    events: Vec<Event>,
    total: i64,
    filtered: bool,
    pager: Pager,
}

/// `GET /console/audit`
pub async fn show_page(
    state: web::Data<AppState>,
    who: SignedIn,
    query: web::Query<AuditQuery>,
    flash: Incoming,
) -> Result<HttpResponse, PageError> {
    who.require(Role::Owner)?;
    let q = query.into_inner();
    let filter = audit::filter(
        q.user.as_deref(),
        q.kind.as_deref(),
        q.since.as_deref(),
        q.until.as_deref(),
    )?;
    let page = q.page.unwrap_or(1).max(1);
    let offset = (page - 1).saturating_mul(PER_PAGE);
    let org = who.session.org_id.clone();
    let (rows, total) = state
        .db
        .read(move |c| audit::page(c, &org, &filter, offset, PER_PAGE))
        .await?;
    let filters = query_of(&[
        ("user", q.user.as_deref()),
        ("kind", q.kind.as_deref()),
        ("since", q.since.as_deref()),
        ("until", q.until.as_deref()),
    ]);
    show(
        &AuditPage {
            layout: layout("Audit log", &who, "/console/audit", &flash),
            user: q.user.clone().unwrap_or_default(),
            kind: q.kind.clone().unwrap_or_default(),
            since: q.since.clone().unwrap_or_default(),
            until: q.until.clone().unwrap_or_default(),
            events: rows
                .into_iter()
                .map(|r| Event {
                    at: format::time(r.at),
                    actor: r.actor,
                    kind: r.kind,
                    subject: r.subject_id.unwrap_or_default(),
                    detail: r.detail,
                })
                .collect(),
            total,
            filtered: !filters.is_empty(),
            pager: Pager::new("/console/audit", &filters, page, PER_PAGE, total),
        },
        &flash,
    )
}
