//! Group → tier mapping (Owner and above): list the rules and tier waits, set and remove a
//! rule. The rules themselves live in `domain::seat_policy`.

use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::json;

use super::input::{self, TierRequest};
use crate::auth::OwnerSession;
use crate::domain::members::Role;
use crate::domain::{seats::seat_policy, Tier};
use crate::error::Error;
use crate::state::AppState;

pub async fn list(
    session: OwnerSession,
    state: web::Data<AppState>,
) -> Result<HttpResponse, Error> {
    session.require(Role::Owner)?;
    let org = session.org_id.clone();
    let policy = state.db.read(move |c| seat_policy::policy(c, &org)).await?;
    Ok(HttpResponse::Ok().json(policy))
}

pub async fn put(
    session: OwnerSession,
    state: web::Data<AppState>,
    group_id: web::Path<String>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, Error> {
    session.require(Role::Owner)?;
    let body: TierRequest = input::body(&req, payload, state.settings.http.max_body_bytes).await?;
    let tier = Tier::parse(&body.tier).ok_or_else(|| {
        Error::BadRequest(format!(
            "unknown tier '{}': use premium or standard",
            body.tier
        ))
    })?;
    let (org, group, actor) = (
        session.org_id.clone(),
        group_id.into_inner(),
        session.actor(),
    );
    let rule = state
        .db
        .write(move |c| seat_policy::put_rule(c, &org, &group, tier, &actor))
        .await?;
    Ok(HttpResponse::Ok().json(json!({"rule": rule})))
}

pub async fn remove(
    session: OwnerSession,
    state: web::Data<AppState>,
    group_id: web::Path<String>,
) -> Result<HttpResponse, Error> {
    session.require(Role::Owner)?;
    let (org, group, actor) = (
        session.org_id.clone(),
        group_id.into_inner(),
        session.actor(),
    );
    state
        .db
        .write(move |c| seat_policy::remove_rule(c, &org, &group, &actor))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
