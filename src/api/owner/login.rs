//! `POST /sso/{org_slug}/login`: JIT provisioning at SSO login (see `domain::sso`).

use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::json;

use super::input::{self, LoginRequest};
use super::session;
use crate::domain::orgs;
use crate::domain::sso::{self, Login};
use crate::error::Error;
use crate::startup::AppState;

pub async fn login(
    state: web::Data<AppState>,
    slug: web::Path<String>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, Error> {
    let body: LoginRequest = input::body(&req, payload, state.settings.http.max_body_bytes).await?;
    let slug = slug.into_inner();
    let (org_id, settings) = state
        .db
        .read(move |c| {
            let org = orgs::by_slug(c, &slug)?;
            let settings = crate::store::sso::find(c, &org.id)?.ok_or_else(|| {
                Error::Conflict("SSO is not configured for this organization".into())
            })?;
            Ok((org.id, settings))
        })
        .await?;
    let (email, name) = sso::verify_id_token(&settings, &body.id_token)?;
    let login = state
        .db
        .write(move |c| sso::jit_login(c, &org_id, &email, name.as_deref()))
        .await?;
    match login {
        Login::Session {
            member,
            account,
            created_account,
        } => {
            let mut out = session::issue(&state, &member, &account)?;
            out["created_account"] = json!(created_account);
            Ok(HttpResponse::Ok().json(out))
        }
        // The queueing is committed; the refusal says why and what changes it.
        Login::NoSeat { account } => Err(Error::Forbidden(format!(
            "no seat is free: an owner must add seats. You are in the pending queue{}; log in again once seats are added",
            account
                .queue_position
                .map(|p| format!(" (position {p})"))
                .unwrap_or_default()
        ))),
    }
}
