//! The owner console under `/console`: pages over the same domain functions and role checks
//! as the owner API. Each handler extracts the session (and its form, CSRF checked by
//! `Submitted`), checks the role the owner API checks, makes one domain call and renders; an
//! action answers 303 to a page that shows its result (Post/Redirect/Get) with a flash message.

pub mod audit;
pub mod flash;
pub mod format;
pub mod invoices;
pub mod members;
pub mod pending;
pub mod seats;
pub mod settings;

use actix_web::{web, HttpResponse};
use askama::Template;

use super::layout::Layout;
use super::page::{self, PageError};
use super::session::SignedIn;
use crate::domain::members::Role;
use crate::domain::overview;
use crate::state::AppState;
use flash::Incoming;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/console", web::get().to(overview))
        .route("/console/seats", web::get().to(seats::edit))
        .route("/console/seats/review", web::get().to(seats::review))
        .route("/console/seats/update", web::post().to(seats::update))
        .route("/console/members", web::get().to(members::list))
        .route("/console/members/invite", web::post().to(members::invite))
        .route(
            "/console/invitations/{id}/void",
            web::post().to(members::void_invitation),
        )
        .route("/console/members/{id}", web::get().to(members::manage))
        .route(
            "/console/members/{id}/role",
            web::post().to(members::change_role),
        )
        .route(
            "/console/members/{id}/tier",
            web::post().to(members::move_tier),
        )
        .route("/console/members/{id}/swap", web::post().to(members::swap))
        .route(
            "/console/members/{id}/give-seat",
            web::post().to(members::give_seat),
        )
        .route(
            "/console/members/{id}/remove",
            web::post().to(members::remove),
        )
        .route(
            "/console/members/{id}/transfer",
            web::post().to(members::transfer),
        )
        .route("/console/pending", web::get().to(pending::show_page))
        .route("/console/pending.csv", web::get().to(pending::csv))
        .route("/console/invoices", web::get().to(invoices::list))
        // Invoice numbers never contain a dot, so the CSV route cannot be shadowed.
        .route(
            "/console/invoices/{number:[^/.]+}.csv",
            web::get().to(invoices::csv),
        )
        .route(
            "/console/invoices/{number:[^/.]+}",
            web::get().to(invoices::show_invoice),
        )
        .route("/console/settings", web::get().to(settings::show_page))
        .route(
            "/console/settings/domains",
            web::post().to(settings::add_domain),
        )
        .route(
            "/console/settings/domains/remove",
            web::post().to(settings::remove_domain),
        )
        .route(
            "/console/settings/tokens",
            web::post().to(settings::create_token),
        )
        .route(
            "/console/settings/tokens/{id}/revoke",
            web::post().to(settings::revoke_token),
        )
        .route(
            "/console/settings/alerts",
            web::post().to(settings::save_alerts),
        )
        .route(
            "/console/settings/oauth-clients",
            web::post().to(settings::create_client),
        )
        .route(
            "/console/settings/oauth-clients/{id}/secrets",
            web::post().to(settings::add_client_secret),
        )
        .route(
            "/console/settings/oauth-clients/{id}/secrets/{secret}/revoke",
            web::post().to(settings::revoke_client_secret),
        )
        .route(
            "/console/settings/oauth-clients/{id}/revoke",
            web::post().to(settings::revoke_client),
        )
        .route("/console/settings/sso", web::post().to(settings::save_sso))
        .route(
            "/console/settings/sso/delete",
            web::post().to(settings::delete_sso),
        )
        .route(
            "/console/settings/group-tiers",
            web::post().to(settings::map_group),
        )
        .route(
            "/console/settings/group-tiers/{group_id}/remove",
            web::post().to(settings::unmap_group),
        )
        .route("/console/audit", web::get().to(audit::show_page));
}

/// Render a console page, clearing the flash message it showed.
pub fn show(t: &impl Template, flash: &Incoming) -> Result<HttpResponse, PageError> {
    let mut resp = page::render(t)?;
    flash.clear_on(&mut resp);
    Ok(resp)
}

/// A signed-in page's layout with the incoming flash message.
pub fn layout(title: &str, who: &SignedIn, section: &str, flash: &Incoming) -> Layout {
    Layout::signed_in(title, who, section).with_flash(flash.0.clone())
}

/// Links to the previous and next page of a list, keeping its filters (`query` is the
/// filter part, already encoded, without `page`).
#[derive(Debug, Clone)]
pub struct Pager {
    pub page: i64,
    pub pages: i64,
    pub prev: Option<String>,
    pub next: Option<String>,
}

impl Pager {
    pub fn new(path: &str, query: &str, page: i64, per_page: i64, total: i64) -> Pager {
        let pages = ((total + per_page - 1) / per_page).max(1);
        let link = |p: i64| {
            if query.is_empty() {
                format!("{path}?page={p}")
            } else {
                format!("{path}?{query}&page={p}")
            }
        };
        Pager {
            page,
            pages,
            prev: (page > 1).then(|| link(page - 1)),
            next: (page < pages).then(|| link(page + 1)),
        }
    }
}

/// `?name=value&…` for the non-empty values, encoded.
pub fn query_of(pairs: &[(&str, Option<&str>)]) -> String {
    pairs
        .iter()
        .filter_map(|(k, v)| {
            v.filter(|v| !v.is_empty())
                .map(|v| format!("{k}={}", page::urlencode(v)))
        })
        .collect::<Vec<_>>()
        .join("&")
}

/// One tier on the overview: numbers and the chart's bar.
pub struct TierLine {
    pub label: &'static str,
    pub purchased: String,
    pub claimed: String,
    pub free: String,
    pub utilization: String,
    /// Claimed share of the bar, 0-100 (an SVG width: the CSP allows no inline styles).
    pub bar: String,
    pub css: &'static str,
}

pub fn tier_label(tier: &str) -> &'static str {
    match tier {
        "premium" => "Premium",
        "standard" => "Standard",
        _ => "Other",
    }
}

#[derive(Template)]
#[template(path = "console/overview.html")]
struct OverviewPage {
    layout: Layout,
    org_name: String,
    is_admin: bool,
    is_owner: bool,
    my_seat: String,
    tiers: Vec<TierLine>,
    total_purchased: String,
    total_claimed: String,
    total_free: String,
    utilization: String,
    pending: i64,
    warning: Option<String>,
    /// Owners: (label, value) pairs of the contract.
    contract: Vec<(&'static str, String)>,
    purchase_refused: Option<String>,
}

/// `GET /console`: every role; seats and the queue for Admins, the contract for Owners.
pub async fn overview(
    state: web::Data<AppState>,
    who: SignedIn,
    flash: Incoming,
) -> Result<HttpResponse, PageError> {
    let (org_id, me) = (who.session.org_id.clone(), who.session.member_id.clone());
    let today = state.clock.today();
    let o = state
        .db
        .read(move |c| overview::get(c, &org_id, &me, today))
        .await?;
    let role = who.session.role;
    let u = &o.usage;
    let tiers = u
        .tiers
        .iter()
        .map(|t| TierLine {
            label: tier_label(&t.tier),
            purchased: format::count(t.purchased),
            claimed: format::count(t.claimed),
            free: format::count(t.free),
            utilization: format::percent(t.utilization),
            bar: format!("{:.1}", (t.utilization * 100.0).clamp(0.0, 100.0)),
            css: if t.tier == "premium" {
                "premium"
            } else {
                "standard"
            },
        })
        .collect();
    let warning = u.warning.then(|| {
        format!(
            "Only {} free seats left, below your alert threshold of {}. Buy seats before new people have to wait.",
            u.free,
            u.threshold.unwrap_or(0)
        )
    });
    let my_seat = match &o.me.account {
        Some(a) => match (a.row.seat_status.as_str(), a.row.seat_tier.as_deref()) {
            ("active", Some(t)) => format!("You hold a {} seat.", tier_label(t).to_lowercase()),
            ("pending", _) => format!(
                "You are waiting for a seat (position {} in the queue). An owner must add seats.",
                a.queue_position.unwrap_or(0)
            ),
            _ => "Your account holds no seat.".to_string(),
        },
        None => "You have no account with a seat yet.".to_string(),
    };
    let mut contract = Vec::new();
    let mut purchase_refused = None;
    if let Some(s) = &o.standing {
        let c = &s.contract;
        contract.push((
            "Term",
            format!(
                "{} – {}",
                format::date(c.term.start()),
                format::date(c.term.last_day())
            ),
        ));
        contract.push((
            "Months left",
            s.months_left
                .map_or("none (the term has ended)".to_string(), |m| m.to_string()),
        ));
        contract.push((
            "Auto-renew",
            if c.auto_renew { "Yes" } else { "No" }.to_string(),
        ));
        contract.push(("Currency", c.currency.code.clone()));
        contract.push((
            "Standard seat, per year",
            format::money(c.prices.standard, &c.currency),
        ));
        contract.push((
            "Premium seat, per year",
            format::money(c.prices.premium, &c.currency),
        ));
        if let Some(r) = &u.renewal {
            let seats = format!(
                "{} standard and {} premium (the seats in use today)",
                r.seats_in_use.standard, r.seats_in_use.premium
            );
            let price = r.quote.as_ref().map_or(String::new(), |q| {
                format!(" for {}", format::money(q.total, &q.currency))
            });
            let what = if r.auto_renew {
                format!("Renews on {} with {seats}{price}", format::date(r.on))
            } else {
                format!("Expires on {}; it does not renew", format::date(r.on))
            };
            contract.push(("Projected renewal", what));
        }
        purchase_refused = s.purchase_refused.clone();
    }
    show(
        &OverviewPage {
            layout: layout("Overview", &who, "/console", &flash),
            org_name: o.org_name,
            is_admin: role.at_least(Role::Admin),
            is_owner: role.at_least(Role::Owner),
            my_seat,
            tiers,
            total_purchased: format::count(u.purchased),
            total_claimed: format::count(u.claimed),
            total_free: format::count(u.free),
            utilization: format::percent(u.utilization),
            pending: u.pending,
            warning,
            contract,
            purchase_refused,
        },
        &flash,
    )
}
