//! Seats (Owners): the billing screen of the seeds. Edit quantities → Review (the quote as
//! the invoice will show it) → Update (confirm) → the invoice. The idempotency key is made
//! with the edit form and travels in the Review link and the Update form, so a reload, a
//! double click or going back and submitting again returns the first invoice instead of
//! charging twice.

use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;

use super::flash::{self, Incoming};
use super::{format, layout, show, tier_label};
use crate::domain::billing::seat_orders::{self, Editor, OrderRequest};
use crate::domain::members::web_sessions::random_secret;
use crate::domain::members::Role;
use crate::error::Error;
use crate::state::AppState;
use crate::web::csrf::Submitted;
use crate::web::layout::Layout;
use crate::web::page::{self, PageError};
use crate::web::session::SignedIn;

/// What the edit form holds, as typed.
#[derive(Debug, Clone, Default)]
struct Draft {
    add_standard: String,
    add_premium: String,
    upgrade: String,
    members: Vec<String>,
    key: String,
}

impl Draft {
    fn from_query(req: &HttpRequest) -> Draft {
        // Pairs, not a struct: `member` repeats, once per checked box.
        let pairs = web::Query::<Vec<(String, String)>>::from_query(req.query_string())
            .map(|q| q.into_inner())
            .unwrap_or_default();
        let mut d = Draft::default();
        for (k, v) in pairs {
            match k.as_str() {
                "add_standard" => d.add_standard = v,
                "add_premium" => d.add_premium = v,
                "upgrade" => d.upgrade = v,
                "member" if !v.is_empty() => d.members.push(v),
                "key" => d.key = v,
                _ => {}
            }
        }
        if seat_orders::check_key(&d.key).is_err() {
            d.key = format!("console-{}", random_secret());
        }
        d
    }

    fn order(&self) -> Result<OrderRequest, Error> {
        seat_orders::from_form(
            &self.add_standard,
            &self.add_premium,
            &self.upgrade,
            &self.members,
        )
    }

    /// The query that reopens this draft (the Change link of the Review page).
    fn query(&self) -> String {
        let mut pairs: Vec<(&str, Option<&str>)> = vec![
            ("add_standard", Some(&self.add_standard)),
            ("add_premium", Some(&self.add_premium)),
            ("upgrade", Some(&self.upgrade)),
        ];
        for m in &self.members {
            pairs.push(("member", Some(m)));
        }
        pairs.push(("key", Some(&self.key)));
        super::query_of(&pairs)
    }
}

pub struct PoolLine {
    label: &'static str,
    purchased: String,
    claimed: String,
    free: String,
}

pub struct Choice {
    id: String,
    name: String,
    checked: bool,
}

#[derive(Template)]
#[template(path = "console/seats.html")]
struct EditPage {
    layout: Layout,
    error: Option<String>,
    refused: Option<String>,
    pools: Vec<PoolLine>,
    standard_price: String,
    premium_price: String,
    upgrade_price: String,
    months_left: String,
    draft_standard: String,
    draft_premium: String,
    draft_upgrade: String,
    key: String,
    members: Vec<Choice>,
    more_members: bool,
}

fn edit_page(
    who: &SignedIn,
    flash: &Incoming,
    ed: Editor,
    draft: &Draft,
    error: Option<String>,
) -> EditPage {
    let s = &ed.standing;
    let cur = &s.contract.currency;
    let prices = &s.contract.prices;
    let more_members = ed.standard_members.len() as i64 >= seat_orders::NAMEABLE_MEMBERS;
    EditPage {
        layout: layout("Seats", who, "/console/seats", flash),
        error,
        refused: s.purchase_refused.clone(),
        pools: s
            .pools
            .iter()
            .map(|p| PoolLine {
                label: tier_label(&p.tier),
                purchased: format::count(p.purchased),
                claimed: format::count(p.claimed),
                free: format::count(p.unclaimed),
            })
            .collect(),
        standard_price: format::money(prices.standard, cur),
        premium_price: format::money(prices.premium, cur),
        upgrade_price: prices
            .upgrade_price()
            .map(|p| format::money(p, cur))
            .unwrap_or_default(),
        months_left: s.months_left.map_or("none".to_string(), |m| m.to_string()),
        draft_standard: draft.add_standard.clone(),
        draft_premium: draft.add_premium.clone(),
        draft_upgrade: draft.upgrade.clone(),
        key: draft.key.clone(),
        members: ed
            .standard_members
            .into_iter()
            .map(|(id, name)| Choice {
                checked: draft.members.contains(&id),
                id,
                name,
            })
            .collect(),
        more_members,
    }
}

/// `GET /console/seats`: the edit form, pre-filled from the query ("buy what is needed").
pub async fn edit(
    state: web::Data<AppState>,
    who: SignedIn,
    req: HttpRequest,
    flash: Incoming,
) -> Result<HttpResponse, PageError> {
    who.require(Role::Owner)?;
    let draft = Draft::from_query(&req);
    let (org, today) = (who.session.org_id.clone(), state.clock.today());
    let ed = state
        .db
        .read(move |c| seat_orders::editor(c, &org, today))
        .await?;
    show(&edit_page(&who, &flash, ed, &draft, None), &flash)
}

pub struct QuoteRow {
    description: String,
    unit_price: String,
    quantity: String,
    months_left: String,
    amount: String,
}

#[derive(Template)]
#[template(path = "console/review.html")]
struct ReviewPage {
    layout: Layout,
    date: String,
    lines: Vec<QuoteRow>,
    total: String,
    named: Vec<String>,
    change_link: String,
    add_standard: String,
    add_premium: String,
    upgrade: String,
    members: String,
    key: String,
    csrf_token: String,
}

/// `GET /console/seats/review`: the quote exactly as the invoice will show it, and the
/// Update button. A refused order goes back to the form with the reason.
pub async fn review(
    state: web::Data<AppState>,
    who: SignedIn,
    req: HttpRequest,
    flash: Incoming,
) -> Result<HttpResponse, PageError> {
    who.require(Role::Owner)?;
    let draft = Draft::from_query(&req);
    let (org, today) = (who.session.org_id.clone(), state.clock.today());
    let order = draft.order();
    let result = state
        .db
        .read(move |c| match order {
            Ok(order) => Ok(seat_orders::review(c, &org, &order, today).map(|r| (r, order))),
            // The form's refusal, shown beside the form.
            Err(e) => Ok(Err(e)),
        })
        .await?;
    let ((plan, ed), order) = match result {
        Ok(r) => r,
        Err(e @ (Error::BadRequest(_) | Error::Conflict(_) | Error::Unprocessable(_))) => {
            let (org, status) = (
                who.session.org_id.clone(),
                actix_web::ResponseError::status_code(&e),
            );
            let ed = state
                .db
                .read(move |c| seat_orders::editor(c, &org, today))
                .await?;
            let msg = format!("{}.", e.to_string().trim_end_matches('.'));
            let page = edit_page(&who, &flash, ed, &draft, Some(capitalize(&msg)));
            let mut resp = page::render_status(status, &page)?;
            flash.clear_on(&mut resp);
            return Ok(resp);
        }
        Err(e) => return Err(e.into()),
    };
    let q = &plan.quote;
    let names: std::collections::HashMap<&str, &str> = ed
        .standard_members
        .iter()
        .map(|(id, n)| (id.as_str(), n.as_str()))
        .collect();
    let lines = q
        .lines
        .iter()
        .map(|l| QuoteRow {
            // The invoice's own wording: Review shows the lines exactly as Update issues them.
            description: l.description.clone(),
            unit_price: format::money(l.unit_price, &q.currency),
            quantity: format::count(i64::from(l.quantity)),
            months_left: format!("{} of 12", l.months_left),
            amount: format::money(l.amount, &q.currency),
        })
        .collect();
    show(
        &ReviewPage {
            layout: layout("Review the change", &who, "/console/seats", &flash),
            date: format::date(plan.day),
            lines,
            total: format::money(q.total, &q.currency),
            named: order
                .upgrade_members
                .iter()
                .map(|id| names.get(id.as_str()).map_or(id.clone(), |n| n.to_string()))
                .collect(),
            change_link: format!("/console/seats?{}", draft.query()),
            add_standard: order.order.add_standard.to_string(),
            add_premium: order.order.add_premium.to_string(),
            upgrade: order.order.upgrade_standard_to_premium.to_string(),
            members: order.upgrade_members.join(","),
            key: draft.key.clone(),
            csrf_token: who.csrf_token.clone(),
        },
        &flash,
    )
}

fn capitalize(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

#[derive(Debug, Deserialize)]
pub struct UpdateForm {
    add_standard: String,
    add_premium: String,
    upgrade: String,
    #[serde(default)]
    members: String,
    key: String,
}

/// `POST /console/seats/update`: confirm the reviewed order, then show its invoice.
pub async fn update(
    state: web::Data<AppState>,
    post: Submitted<UpdateForm>,
) -> Result<HttpResponse, PageError> {
    let Submitted { who, form } = post;
    who.require(Role::Owner)?;
    let members: Vec<String> = form
        .members
        .split(',')
        .map(str::trim)
        .filter(|m| !m.is_empty())
        .map(str::to_string)
        .collect();
    let order = seat_orders::from_form(
        &form.add_standard,
        &form.add_premium,
        &form.upgrade,
        &members,
    )?;
    let today = state.clock.today();
    let done = seat_orders::confirm_once(
        &state.db,
        &who.session.org_id,
        &form.key,
        &order,
        today,
        &who.session.actor(),
    )
    .await?;
    let inv = &done.invoice;
    let total = format::money_minor(inv.row.total_minor, &inv.currency);
    let text = if done.replayed {
        format!(
            "This order was already confirmed as invoice {} ({total}); it was not charged again.",
            inv.row.number
        )
    } else {
        let who_got = match done.activated_names.len() {
            0 => "Nobody was waiting for a seat.".to_string(),
            n => {
                const SHOWN: usize = 20;
                let mut names = done
                    .activated_names
                    .iter()
                    .take(SHOWN)
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", ");
                if n > SHOWN {
                    names.push_str(&format!(" and {} more", n - SHOWN));
                }
                format!(
                    "{n} pending {} got a seat: {names}.",
                    if n == 1 { "user" } else { "users" }
                )
            }
        };
        format!(
            "Seats updated. Invoice {} issued for {total}. {who_got}",
            inv.row.number
        )
    };
    Ok(flash::redirect(
        &format!("/console/invoices/{}", page::urlencode(&inv.row.number)),
        true,
        &text,
    ))
}
