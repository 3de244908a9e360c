//! Members (Admins and above): the list with filters and paging, invitations (invite,
//! re-invite, void), and one member's page with its seat operations, role change (Owners)
//! and the transfer of primary ownership (Primary Owner).

use actix_web::{web, HttpResponse};
use askama::Template;
use serde::Deserialize;

use super::flash::{self, Incoming};
use super::{format, layout, query_of, show, tier_label, Pager};
use crate::domain::members::invitations::{self, NewInvitation};
use crate::domain::members::member_admin::{self, MemberFilter, MemberView};
use crate::domain::members::Role;
use crate::state::AppState;
use crate::web::csrf::{NoFields, Submitted};
use crate::web::layout::Layout;
use crate::web::page::{urlencode, PageError};
use crate::web::session::SignedIn;

const PER_PAGE: i64 = 25;

#[derive(Debug, Deserialize)]
pub struct ListQuery {
    role: Option<String>,
    status: Option<String>,
    tier: Option<String>,
    page: Option<i64>,
}

pub struct Row {
    id: String,
    email: String,
    role: &'static str,
    seat: String,
}

pub struct InvitationLine {
    id: String,
    email: String,
    role: String,
    role_label: &'static str,
    expires: String,
}

pub struct Opt {
    value: &'static str,
    label: &'static str,
    selected: bool,
}

fn options(all: &[(&'static str, &'static str)], current: Option<&str>) -> Vec<Opt> {
    all.iter()
        .map(|&(value, label)| Opt {
            value,
            label,
            selected: current == Some(value),
        })
        .collect()
}

#[derive(Template)]
#[template(path = "console/members.html")]
struct ListPage {
    layout: Layout,
    rows: Vec<Row>,
    total: i64,
    filtered: bool,
    pager: Pager,
    roles: Vec<Opt>,
    statuses: Vec<Opt>,
    tiers: Vec<Opt>,
    invite_roles: Vec<Opt>,
    invitations: Vec<InvitationLine>,
    csrf_token: String,
}

/// A member's seat as one phrase.
fn seat_of(v: &MemberView) -> String {
    match &v.account {
        None => "No account yet".to_string(),
        Some(a) => match (a.row.seat_status.as_str(), a.row.seat_tier.as_deref()) {
            ("active", Some(t)) => format!("{} seat", tier_label(t)),
            ("pending", _) => format!("Pending (#{} in queue)", a.queue_position.unwrap_or(0)),
            ("inactive", _) => "Inactive".to_string(),
            (s, _) => s.to_string(),
        },
    }
}

fn invite_roles(viewer: Role) -> Vec<Opt> {
    let mut all = vec![("member", "Member"), ("admin", "Admin")];
    if viewer.at_least(Role::Owner) {
        all.push(("owner", "Owner"));
    }
    options(&all, Some("member"))
}

/// `GET /console/members`
pub async fn list(
    state: web::Data<AppState>,
    who: SignedIn,
    query: web::Query<ListQuery>,
    flash: Incoming,
) -> Result<HttpResponse, PageError> {
    who.require(Role::Admin)?;
    let q = query.into_inner();
    let filter = MemberFilter::parse(q.role.as_deref(), q.status.as_deref(), q.tier.as_deref())?;
    let page = q.page.unwrap_or(1).max(1);
    let offset = (page - 1).saturating_mul(PER_PAGE);
    let (org, now) = (who.session.org_id.clone(), state.clock.now());
    let d = state
        .db
        .read(move |c| member_admin::directory(c, &org, &filter, offset, PER_PAGE, now))
        .await?;
    let filters = query_of(&[
        ("role", q.role.as_deref()),
        ("status", q.status.as_deref()),
        ("tier", q.tier.as_deref()),
    ]);
    show(
        &ListPage {
            layout: layout("Members", &who, "/console/members", &flash),
            rows: d
                .members
                .iter()
                .map(|v| Row {
                    id: v.member.id.clone(),
                    email: v.member.email.clone(),
                    role: v.member.role.label(),
                    seat: seat_of(v),
                })
                .collect(),
            total: d.total,
            filtered: !filters.is_empty(),
            pager: Pager::new("/console/members", &filters, page, PER_PAGE, d.total),
            roles: options(
                &[
                    ("member", "Member"),
                    ("admin", "Admin"),
                    ("owner", "Owner"),
                    ("primary_owner", "Primary Owner"),
                ],
                q.role.as_deref(),
            ),
            statuses: options(
                &[
                    ("active", "Holds a seat"),
                    ("pending", "Pending"),
                    ("inactive", "Inactive"),
                    ("none", "No account yet"),
                ],
                q.status.as_deref(),
            ),
            tiers: options(
                &[("premium", "Premium"), ("standard", "Standard")],
                q.tier.as_deref(),
            ),
            invite_roles: invite_roles(who.session.role),
            invitations: d
                .open_invitations
                .iter()
                .map(|r| InvitationLine {
                    id: r.id.clone(),
                    email: r.email.clone(),
                    role: r.role.clone(),
                    role_label: Role::parse(&r.role).map_or("Member", Role::label),
                    expires: format::time(r.expires_at),
                })
                .collect(),
            csrf_token: who.csrf_token.clone(),
        },
        &flash,
    )
}

#[derive(Debug, Deserialize)]
pub struct InviteForm {
    email: String,
    role: String,
}

/// `POST /console/members/invite`: invite, or re-invite (a fresh link; the old one is void).
pub async fn invite(
    state: web::Data<AppState>,
    post: Submitted<InviteForm>,
) -> Result<HttpResponse, PageError> {
    let Submitted { who, form } = post;
    who.require(Role::Admin)?;
    let role = member_admin::parse_role(&form.role)?;
    let now = state.clock.now();
    let url = invitations::accept_url(&state.settings.mail.public_url);
    let (org, caller, actor) = (
        who.session.org_id.clone(),
        who.session.role,
        who.session.actor(),
    );
    let sent = state
        .db
        .write(move |c| {
            invitations::invite(
                c,
                &org,
                caller,
                &NewInvitation {
                    email: &form.email,
                    role,
                    now,
                    accept_url: &url,
                },
                &actor,
            )
        })
        .await?;
    let text = format!(
        "Invitation mailed to {} as {}; it expires {}.{}",
        sent.invitation.email,
        role.label(),
        format::time(sent.invitation.expires_at),
        if sent.voided > 0 {
            " The earlier invitation no longer works."
        } else {
            ""
        }
    );
    Ok(flash::redirect("/console/members", true, &text))
}

/// `POST /console/invitations/{id}/void`
pub async fn void_invitation(
    state: web::Data<AppState>,
    id: web::Path<String>,
    post: Submitted<NoFields>,
) -> Result<HttpResponse, PageError> {
    let who = post.who;
    who.require(Role::Admin)?;
    let now = state.clock.now();
    let (org, id, caller, actor) = (
        who.session.org_id.clone(),
        id.into_inner(),
        who.session.role,
        who.session.actor(),
    );
    state
        .db
        .write(move |c| invitations::void(c, &org, &id, caller, now, &actor))
        .await?;
    Ok(flash::redirect(
        "/console/members",
        true,
        "The invitation was voided; its link no longer works.",
    ))
}

#[derive(Template)]
#[template(path = "console/member.html")]
struct MemberPage {
    layout: Layout,
    id: String,
    email: String,
    role_label: &'static str,
    is_primary: bool,
    is_self: bool,
    seat: String,
    has_seat: bool,
    tier_options: Vec<Opt>,
    role_options: Vec<Opt>,
    seated_others: Vec<(String, String)>,
    pending: Vec<(String, String)>,
    may_change_role: bool,
    may_transfer: bool,
    csrf_token: String,
}

/// `GET /console/members/{id}`
pub async fn manage(
    state: web::Data<AppState>,
    who: SignedIn,
    id: web::Path<String>,
    flash: Incoming,
) -> Result<HttpResponse, PageError> {
    who.require(Role::Admin)?;
    let (org, id, now) = (
        who.session.org_id.clone(),
        id.into_inner(),
        state.clock.now(),
    );
    let m = state
        .db
        .read(move |c| member_admin::manage(c, &org, &id, now))
        .await?;
    let v = &m.view;
    let tier = v.account.as_ref().and_then(|a| a.row.seat_tier.clone());
    let has_seat = v
        .account
        .as_ref()
        .is_some_and(|a| a.row.seat_status == "active");
    let is_primary = v.member.role == Role::PrimaryOwner;
    let is_self = v.member.id == who.session.member_id;
    show(
        &MemberPage {
            layout: layout(&v.member.email, &who, "/console/members", &flash),
            id: v.member.id.clone(),
            email: v.member.email.clone(),
            role_label: v.member.role.label(),
            is_primary,
            is_self,
            seat: seat_of(v),
            has_seat,
            tier_options: options(
                &[("premium", "Premium"), ("standard", "Standard")],
                tier.as_deref(),
            ),
            role_options: options(
                &[("member", "Member"), ("admin", "Admin"), ("owner", "Owner")],
                Some(v.member.role.as_str()),
            ),
            seated_others: m.seated_others,
            pending: m.pending,
            may_change_role: who.session.role.at_least(Role::Owner) && !is_primary,
            may_transfer: who.session.role == Role::PrimaryOwner && !is_self,
            csrf_token: who.csrf_token.clone(),
        },
        &flash,
    )
}

fn back(id: &str) -> String {
    format!("/console/members/{}", urlencode(id))
}

#[derive(Debug, Deserialize)]
pub struct RoleForm {
    role: String,
}

/// `POST /console/members/{id}/role` (Owners)
pub async fn change_role(
    state: web::Data<AppState>,
    id: web::Path<String>,
    post: Submitted<RoleForm>,
) -> Result<HttpResponse, PageError> {
    let Submitted { who, form } = post;
    who.require(Role::Owner)?;
    let role = member_admin::parse_role(&form.role)?;
    let (org, id, actor) = (
        who.session.org_id.clone(),
        id.into_inner(),
        who.session.actor(),
    );
    let target = id.clone();
    let v = state
        .db
        .write(move |c| member_admin::change_role(c, &org, &target, role, &actor))
        .await?;
    let text = format!("{} is now {}.", v.member.email, v.member.role.label());
    Ok(flash::redirect(&back(&id), true, &text))
}

#[derive(Debug, Deserialize)]
pub struct TierForm {
    tier: String,
}

/// `POST /console/members/{id}/tier`
pub async fn move_tier(
    state: web::Data<AppState>,
    id: web::Path<String>,
    post: Submitted<TierForm>,
) -> Result<HttpResponse, PageError> {
    let Submitted { who, form } = post;
    who.require(Role::Admin)?;
    let tier = member_admin::parse_tier(&form.tier)?;
    let (org, id, actor) = (
        who.session.org_id.clone(),
        id.into_inner(),
        who.session.actor(),
    );
    let target = id.clone();
    state
        .db
        .write(move |c| member_admin::move_tier(c, &org, &target, tier, &actor))
        .await?;
    let text = format!("Moved to a {} seat.", tier.as_str());
    Ok(flash::redirect(&back(&id), true, &text))
}

#[derive(Debug, Deserialize)]
pub struct SwapForm {
    with: String,
}

/// `POST /console/members/{id}/swap`
pub async fn swap(
    state: web::Data<AppState>,
    id: web::Path<String>,
    post: Submitted<SwapForm>,
) -> Result<HttpResponse, PageError> {
    let Submitted { who, form } = post;
    who.require(Role::Admin)?;
    let (org, id, actor) = (
        who.session.org_id.clone(),
        id.into_inner(),
        who.session.actor(),
    );
    let target = id.clone();
    let (a, b) = state
        .db
        .write(move |c| member_admin::swap(c, &org, &target, &form.with, &actor))
        .await?;
    let text = format!(
        "Swapped tiers: {} now holds {}, {} now holds {}.",
        a.label(),
        a.row.seat_tier.as_deref().unwrap_or("no seat"),
        b.label(),
        b.row.seat_tier.as_deref().unwrap_or("no seat"),
    );
    Ok(flash::redirect(&back(&id), true, &text))
}

#[derive(Debug, Deserialize)]
pub struct GiveForm {
    to: String,
}

/// `POST /console/members/{id}/give-seat`: the seat goes to a pending user; this member
/// joins the queue.
pub async fn give_seat(
    state: web::Data<AppState>,
    id: web::Path<String>,
    post: Submitted<GiveForm>,
) -> Result<HttpResponse, PageError> {
    let Submitted { who, form } = post;
    who.require(Role::Admin)?;
    let (org, id, actor) = (
        who.session.org_id.clone(),
        id.into_inner(),
        who.session.actor(),
    );
    let target = id.clone();
    let (from, to) = state
        .db
        .write(move |c| member_admin::give_seat(c, &org, &target, &form.to, &actor))
        .await?;
    let text = format!(
        "{} got the {} seat; {} is now pending.",
        to.label(),
        to.row.seat_tier.as_deref().unwrap_or(""),
        from.label()
    );
    Ok(flash::redirect(&back(&id), true, &text))
}

/// `POST /console/members/{id}/remove`: the seat goes to the queue, the role is removed.
pub async fn remove(
    state: web::Data<AppState>,
    id: web::Path<String>,
    post: Submitted<NoFields>,
) -> Result<HttpResponse, PageError> {
    let who = post.who;
    who.require(Role::Admin)?;
    let (org, id, actor, role) = (
        who.session.org_id.clone(),
        id.into_inner(),
        who.session.actor(),
        who.session.role,
    );
    state
        .db
        .write(move |c| member_admin::remove(c, &org, &id, role, &actor))
        .await?;
    Ok(flash::redirect(
        "/console/members",
        true,
        "The member was removed; its seat went to the next person waiting, if any.",
    ))
}

/// `POST /console/members/{id}/transfer` (Primary Owner): you become an Owner.
pub async fn transfer(
    state: web::Data<AppState>,
    id: web::Path<String>,
    post: Submitted<NoFields>,
) -> Result<HttpResponse, PageError> {
    let who = post.who;
    who.require(Role::PrimaryOwner)?;
    let (org, me, id, actor) = (
        who.session.org_id.clone(),
        who.session.member_id.clone(),
        id.into_inner(),
        who.session.actor(),
    );
    let target = id.clone();
    let (_, new) = state
        .db
        .write(move |c| member_admin::transfer_primary(c, &org, &me, &target, &actor))
        .await?;
    let text = format!(
        "{} is now the Primary Owner; you are an Owner.",
        new.member.email
    );
    Ok(flash::redirect(&back(&id), true, &text))
}
