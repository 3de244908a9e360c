//! Organization settings an Owner manages: verified domains, SCIM tokens, SSO (OpenID Connect)
//! settings.

use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::json;

use super::input::{self, DomainRequest, TokenRequest};
use super::people;
use crate::auth::OwnerSession;
use crate::domain::members::Role;
use crate::domain::sso::{self, SsoInput};
use crate::domain::{members::domains, tokens};
use crate::error::Error;
use crate::state::AppState;

pub async fn list_domains(
    session: OwnerSession,
    state: web::Data<AppState>,
) -> Result<HttpResponse, Error> {
    session.require(Role::Owner)?;
    let org = session.org_id.clone();
    let list = state.db.read(move |c| domains::list(c, &org)).await?;
    Ok(HttpResponse::Ok().json(json!({"domains": list})))
}

pub async fn add_domain(
    session: OwnerSession,
    state: web::Data<AppState>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, Error> {
    session.require(Role::Owner)?;
    let body: DomainRequest =
        input::body(&req, payload, state.settings.http.max_body_bytes).await?;
    let (org, actor) = (session.org_id.clone(), session.actor());
    let d = state
        .db
        .write(move |c| domains::add(c, &org, &body.domain, &actor))
        .await?;
    Ok(HttpResponse::Created().json(json!({"domain": d})))
}

pub async fn remove_domain(
    session: OwnerSession,
    state: web::Data<AppState>,
    domain: web::Path<String>,
) -> Result<HttpResponse, Error> {
    session.require(Role::Owner)?;
    let (org, d, actor) = (session.org_id.clone(), domain.into_inner(), session.actor());
    state
        .db
        .write(move |c| domains::remove(c, &org, &d, &actor))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

pub async fn list_tokens(
    session: OwnerSession,
    state: web::Data<AppState>,
) -> Result<HttpResponse, Error> {
    session.require(Role::Owner)?;
    let org = session.org_id.clone();
    let rows = state.db.read(move |c| tokens::list(c, &org)).await?;
    Ok(HttpResponse::Ok()
        .json(json!({"tokens": rows.iter().map(people::token).collect::<Vec<_>>()})))
}

/// 201 with the token itself: the only time it is shown.
pub async fn create_token(
    session: OwnerSession,
    state: web::Data<AppState>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, Error> {
    session.require(Role::Owner)?;
    let body: TokenRequest = input::body(&req, payload, state.settings.http.max_body_bytes).await?;
    let (org, actor) = (session.org_id.clone(), session.actor());
    let (issued, row) = state
        .db
        .write(move |c| tokens::create(c, &org, &body.description, &actor))
        .await?;
    let mut out = people::token(&row);
    out["token"] = json!(issued.secret);
    Ok(HttpResponse::Created().json(out))
}

pub async fn revoke_token(
    session: OwnerSession,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, Error> {
    session.require(Role::Owner)?;
    let (org, id, actor) = (session.org_id.clone(), id.into_inner(), session.actor());
    state
        .db
        .write(move |c| tokens::revoke_audited(c, &org, &id, &actor))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

pub async fn get_sso(
    session: OwnerSession,
    state: web::Data<AppState>,
) -> Result<HttpResponse, Error> {
    session.require(Role::Owner)?;
    let org = session.org_id.clone();
    let public_url = state.settings.mail.public_url.clone();
    let view = state
        .db
        .read(move |c| sso::get(c, &org, &public_url))
        .await?;
    Ok(HttpResponse::Ok().json(view))
}

pub async fn put_sso(
    session: OwnerSession,
    state: web::Data<AppState>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, Error> {
    session.require(Role::Owner)?;
    let body: SsoInput = input::body(&req, payload, state.settings.http.max_body_bytes).await?;
    let (org, actor) = (session.org_id.clone(), session.actor());
    let public_url = state.settings.mail.public_url.clone();
    let view = state
        .db
        .write(move |c| sso::put(c, &org, &body, &actor, &public_url))
        .await?;
    Ok(HttpResponse::Ok().json(view))
}

pub async fn delete_sso(
    session: OwnerSession,
    state: web::Data<AppState>,
) -> Result<HttpResponse, Error> {
    session.require(Role::Owner)?;
    let (org, actor) = (session.org_id.clone(), session.actor());
    state
        .db
        .write(move |c| sso::delete(c, &org, &actor))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
