//! OAuth 2.0 clients for SCIM (Owner and above): create (the secret is shown once), list,
//! add a secret (rotation), revoke a secret, revoke the client.

use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::json;

use super::input::{self, TokenRequest};
use crate::auth::OwnerSession;
use crate::domain::members::Role;
use crate::domain::oauth;
use crate::error::Error;
use crate::state::AppState;

/// Where clients trade their secret for an access token, as this request reached the server.
fn token_url(req: &HttpRequest) -> String {
    let info = req.connection_info();
    format!("{}://{}/oauth/token", info.scheme(), info.host())
}

pub async fn list(
    session: OwnerSession,
    state: web::Data<AppState>,
) -> Result<HttpResponse, Error> {
    session.require(Role::Owner)?;
    let org = session.org_id.clone();
    let clients = state.db.read(move |c| oauth::list(c, &org)).await?;
    Ok(HttpResponse::Ok().json(json!({"clients": clients})))
}

/// 201 with the secret: the only time it is shown.
pub async fn create(
    session: OwnerSession,
    state: web::Data<AppState>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, Error> {
    session.require(Role::Owner)?;
    let body: TokenRequest = input::body(&req, payload, state.settings.http.max_body_bytes).await?;
    let (org, actor) = (session.org_id.clone(), session.actor());
    let issued = state
        .db
        .write(move |c| oauth::create_client(c, &org, &body.description, &actor))
        .await?;
    Ok(HttpResponse::Created().json(json!({
        "client_id": issued.client_id,
        "client_secret": issued.client_secret,
        "secret_id": issued.secret_id,
        "token_url": token_url(&req),
        "grant_type": "client_credentials",
    })))
}

pub async fn add_secret(
    session: OwnerSession,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, Error> {
    session.require(Role::Owner)?;
    let (org, id, actor) = (session.org_id.clone(), id.into_inner(), session.actor());
    let issued = state
        .db
        .write(move |c| oauth::add_secret(c, &org, &id, &actor))
        .await?;
    Ok(HttpResponse::Created().json(issued))
}

pub async fn revoke_secret(
    session: OwnerSession,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, Error> {
    session.require(Role::Owner)?;
    let (client, secret) = path.into_inner();
    let (org, actor) = (session.org_id.clone(), session.actor());
    state
        .db
        .write(move |c| oauth::revoke_secret(c, &org, &client, &secret, &actor))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

pub async fn revoke(
    session: OwnerSession,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, Error> {
    session.require(Role::Owner)?;
    let (org, id, actor) = (session.org_id.clone(), id.into_inner(), session.actor());
    state
        .db
        .write(move |c| oauth::revoke_client(c, &org, &id, &actor))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
