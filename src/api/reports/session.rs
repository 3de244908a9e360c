//! Who is asking, for the report page and its CSV: an owner JWT as a bearer token, or — on
//! those two GETs only — the same JWT in an HttpOnly, SameSite=Strict cookie the page set when
//! it was opened with `?token=` (a browser cannot send an Authorization header from a link).

use actix_web::{web, FromRequest, HttpRequest};

use crate::auth::{jwt, OwnerSession};
use crate::domain::members;
use crate::error::Error;
use crate::startup::AppState;

pub const COOKIE: &str = "scim_seats_report";

/// The session of a bearer token, else of the report cookie.
pub async fn bearer_or_cookie(req: &HttpRequest) -> Result<OwnerSession, Error> {
    if crate::auth::bearer(req).is_some() {
        return OwnerSession::extract(req).await;
    }
    let Some(cookie) = req.cookie(COOKIE) else {
        return Err(Error::Unauthorized(
            "an owner token is required: open /reports?token=<owner JWT> or send \
             Authorization: Bearer …"
                .into(),
        ));
    };
    from_token(req, cookie.value()).await
}

/// Verify an owner JWT and load its member, as the `OwnerSession` extractor does.
pub async fn from_token(req: &HttpRequest, token: &str) -> Result<OwnerSession, Error> {
    let state = req
        .app_data::<web::Data<AppState>>()
        .cloned()
        .ok_or_else(|| Error::Internal(anyhow::anyhow!("no app state")))?;
    let claims = jwt::verify_owner(&state.settings.auth.jwt, token)?;
    let (org, sub) = (claims.org, claims.sub);
    let member = state
        .db
        .read(move |conn| members::find(conn, &org, &sub))
        .await?
        .ok_or_else(|| {
            Error::Unauthorized(
                "the owner token names no current member of its organization".into(),
            )
        })?;
    Ok(OwnerSession {
        org_id: member.org_id,
        member_id: member.id,
        role: member.role,
    })
}

/// Seconds until the token expires (the cookie lives no longer than the token).
pub fn seconds_left(req: &HttpRequest, token: &str) -> i64 {
    let Some(state) = req.app_data::<web::Data<AppState>>() else {
        return 0;
    };
    jwt::verify_owner(&state.settings.auth.jwt, token)
        .map(|c| (c.exp - chrono::Utc::now().timestamp()).max(0))
        .unwrap_or(0)
}
