//! Members: list and get (Admin and above), seat operations (Admin and above), role changes
//! (Owner and above), transfer of primary ownership (Primary Owner), and `GET /me` (anyone).
//! Seat operations take a member id or an account (SCIM user) id: pending users from SCIM or
//! JIT need not be members.

use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::json;

use super::input::{
    self, GiveSeatRequest, MemberQuery, RoleRequest, SwapRequest, TierRequest, TransferRequest,
};
use super::people;
use crate::auth::OwnerSession;
use crate::domain::members::member_admin::{self, MemberFilter};
use crate::domain::members::Role;
use crate::error::Error;
use crate::state::AppState;

pub const MAX_PER_PAGE: i64 = 100;

use member_admin::{parse_role, parse_tier};

pub async fn list(
    session: OwnerSession,
    state: web::Data<AppState>,
    query: web::Query<MemberQuery>,
) -> Result<HttpResponse, Error> {
    session.require(Role::Admin)?;
    let q = query.into_inner();
    let filter = MemberFilter::parse(q.role.as_deref(), q.status.as_deref(), q.tier.as_deref())?;
    let page = q.page.unwrap_or(1).max(1);
    let per_page = q.per_page.unwrap_or(50).clamp(1, MAX_PER_PAGE);
    let offset = (page - 1).saturating_mul(per_page);
    let org = session.org_id.clone();
    let (views, total) = state
        .db
        .read(move |c| member_admin::list(c, &org, &filter, offset, per_page))
        .await?;
    Ok(HttpResponse::Ok().json(json!({
        "members": views.iter().map(people::member_view).collect::<Vec<_>>(),
        "page": page,
        "per_page": per_page,
        "total": total,
    })))
}

pub async fn get(
    session: OwnerSession,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, Error> {
    session.require(Role::Admin)?;
    let (org, id) = (session.org_id.clone(), id.into_inner());
    let v = state
        .db
        .read(move |c| member_admin::get(c, &org, &id))
        .await?;
    Ok(HttpResponse::Ok().json(people::member_view(&v)))
}

/// The caller: who it is, its role and seat. Every role may ask.
pub async fn me(session: OwnerSession, state: web::Data<AppState>) -> Result<HttpResponse, Error> {
    session.require(Role::Member)?;
    let (org, id) = (session.org_id.clone(), session.member_id.clone());
    let v = state
        .db
        .read(move |c| member_admin::get(c, &org, &id))
        .await?;
    Ok(HttpResponse::Ok().json(people::member_view(&v)))
}

pub async fn change_role(
    session: OwnerSession,
    state: web::Data<AppState>,
    id: web::Path<String>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, Error> {
    session.require(Role::Owner)?;
    let body: RoleRequest = input::body(&req, payload, state.settings.http.max_body_bytes).await?;
    let role = parse_role(&body.role)?;
    let (org, id, actor) = (session.org_id.clone(), id.into_inner(), session.actor());
    let v = state
        .db
        .write(move |c| member_admin::change_role(c, &org, &id, role, &actor))
        .await?;
    Ok(HttpResponse::Ok().json(people::member_view(&v)))
}

pub async fn move_tier(
    session: OwnerSession,
    state: web::Data<AppState>,
    id: web::Path<String>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, Error> {
    session.require(Role::Admin)?;
    let body: TierRequest = input::body(&req, payload, state.settings.http.max_body_bytes).await?;
    let tier = parse_tier(&body.tier)?;
    let (org, id, actor) = (session.org_id.clone(), id.into_inner(), session.actor());
    let v = state
        .db
        .write(move |c| member_admin::move_tier(c, &org, &id, tier, &actor))
        .await?;
    Ok(HttpResponse::Ok().json(json!({"account": people::account(&v)})))
}

pub async fn swap(
    session: OwnerSession,
    state: web::Data<AppState>,
    id: web::Path<String>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, Error> {
    session.require(Role::Admin)?;
    let body: SwapRequest = input::body(&req, payload, state.settings.http.max_body_bytes).await?;
    let (org, id, actor) = (session.org_id.clone(), id.into_inner(), session.actor());
    let (a, b) = state
        .db
        .write(move |c| member_admin::swap(c, &org, &id, &body.with, &actor))
        .await?;
    Ok(HttpResponse::Ok().json(json!({"accounts": [people::account(&a), people::account(&b)]})))
}

pub async fn give_seat(
    session: OwnerSession,
    state: web::Data<AppState>,
    id: web::Path<String>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, Error> {
    session.require(Role::Admin)?;
    let body: GiveSeatRequest =
        input::body(&req, payload, state.settings.http.max_body_bytes).await?;
    let (org, id, actor) = (session.org_id.clone(), id.into_inner(), session.actor());
    let (from, to) = state
        .db
        .write(move |c| member_admin::give_seat(c, &org, &id, &body.to, &actor))
        .await?;
    Ok(
        HttpResponse::Ok()
            .json(json!({"from": people::account(&from), "to": people::account(&to)})),
    )
}

pub async fn remove(
    session: OwnerSession,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, Error> {
    session.require(Role::Admin)?;
    let (org, id, actor, role) = (
        session.org_id.clone(),
        id.into_inner(),
        session.actor(),
        session.role,
    );
    let account = state
        .db
        .write(move |c| member_admin::remove(c, &org, &id, role, &actor))
        .await?;
    Ok(HttpResponse::Ok()
        .json(json!({"removed": true, "account": account.as_ref().map(people::account)})))
}

pub async fn transfer(
    session: OwnerSession,
    state: web::Data<AppState>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, Error> {
    session.require(Role::PrimaryOwner)?;
    let body: TransferRequest =
        input::body(&req, payload, state.settings.http.max_body_bytes).await?;
    let (org, me, actor) = (
        session.org_id.clone(),
        session.member_id.clone(),
        session.actor(),
    );
    let (old, new) = state
        .db
        .write(move |c| member_admin::transfer_primary(c, &org, &me, &body.member_id, &actor))
        .await?;
    Ok(HttpResponse::Ok().json(json!({
        "previous_primary_owner": people::member_view(&old),
        "primary_owner": people::member_view(&new),
    })))
}
