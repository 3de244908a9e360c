//! Pending users (Admins and above): the report — queue order, source, since, days waiting,
//! groups, requested tier — with the seats needed and their price, "Buy what is needed"
//! (Owners) opening Seats pre-filled, and the CSV download.

use actix_web::{web, HttpResponse};
use askama::Template;
use serde::Deserialize;

use super::flash::Incoming;
use super::{format, layout, show, Pager};
use crate::domain::members::Role;
use crate::domain::reports;
use crate::state::AppState;
use crate::store;
use crate::web::layout::Layout;
use crate::web::page::PageError;
use crate::web::session::SignedIn;

const PER_PAGE: i64 = 50;

#[derive(Debug, Deserialize)]
pub struct PageQuery {
    page: Option<i64>,
}

pub struct Line {
    position: i64,
    name: String,
    email: String,
    source: String,
    since: String,
    days: i64,
    groups: String,
    requested: String,
}

#[derive(Template)]
#[template(path = "console/pending.html")]
struct PendingPage {
    layout: Layout,
    total: i64,
    by_source: String,
    need_standard: i64,
    need_premium: i64,
    quote_total: Option<String>,
    quote_unavailable: Option<String>,
    buy_link: Option<String>,
    lines: Vec<Line>,
    pager: Pager,
}

/// `GET /console/pending`
pub async fn show_page(
    state: web::Data<AppState>,
    who: SignedIn,
    query: web::Query<PageQuery>,
    flash: Incoming,
) -> Result<HttpResponse, PageError> {
    who.require(Role::Admin)?;
    let page = query.page.unwrap_or(1).max(1);
    let offset = (page - 1).saturating_mul(PER_PAGE);
    let (org, today, now) = (
        who.session.org_id.clone(),
        state.clock.today(),
        store::now(),
    );
    let (s, entries) = state
        .db
        .read(move |c| reports::pending_page(c, &org, today, offset, PER_PAGE, now))
        .await?;
    let is_owner = who.session.role.at_least(Role::Owner);
    let buy_link = (is_owner && s.quote.is_some()).then(|| {
        format!(
            "/console/seats?add_standard={}&add_premium={}",
            s.needed.standard, s.needed.premium
        )
    });
    show(
        &PendingPage {
            layout: layout("Pending users", &who, "/console/pending", &flash),
            total: s.total,
            by_source: s
                .by_source
                .iter()
                .map(|(k, v)| format!("{v} from {k}"))
                .collect::<Vec<_>>()
                .join(", "),
            need_standard: s.needed.standard,
            need_premium: s.needed.premium,
            quote_total: s
                .quote
                .as_ref()
                .map(|q| format::money(q.total, &q.currency)),
            quote_unavailable: s.quote_unavailable.clone(),
            buy_link,
            lines: entries
                .into_iter()
                .map(|e| Line {
                    position: e.queue_position,
                    name: e.display_name,
                    email: e.email.unwrap_or_default(),
                    source: e.source,
                    since: e.pending_since.map(format::time).unwrap_or_default(),
                    days: e.days_waiting,
                    groups: e.groups.join(", "),
                    requested: e
                        .requested_tier
                        .map_or(String::new(), |t| super::tier_label(t.as_str()).to_string()),
                })
                .collect(),
            pager: Pager::new("/console/pending", "", page, PER_PAGE, s.total),
        },
        &flash,
    )
}

/// `GET /console/pending.csv`: the whole queue, as the report API streams it.
pub async fn csv(state: web::Data<AppState>, who: SignedIn) -> Result<HttpResponse, PageError> {
    who.require(Role::Admin)?;
    Ok(crate::api::reports::pending::csv_response(
        state,
        who.session.org_id.clone(),
    ))
}
