//! Invitations: send, list and void (Admin and above; inviting an Owner needs an Owner),
//! and accept (no owner token: the invitation token is the credential).

use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::json;

use super::input::{self, AcceptRequest, InvitationQuery, InviteRequest};
use super::{people, session};
use crate::auth::OwnerSession;
use crate::domain::members::invitations;
use crate::domain::members::Role;
use crate::error::Error;
use crate::state::AppState;

fn accept_url(state: &AppState) -> String {
    invitations::accept_url(&state.settings.mail.public_url)
}

pub async fn create(
    session: OwnerSession,
    state: web::Data<AppState>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, Error> {
    session.require(Role::Admin)?;
    let body: InviteRequest =
        input::body(&req, payload, state.settings.http.max_body_bytes).await?;
    let role = Role::parse(&body.role).ok_or_else(|| {
        Error::BadRequest(format!(
            "unknown role '{}': use member, admin or owner",
            body.role
        ))
    })?;
    let now = state.clock.now();
    let url = accept_url(&state);
    let (org, caller, actor) = (session.org_id.clone(), session.role, session.actor());
    let sent = state
        .db
        .write(move |c| {
            invitations::invite(
                c,
                &org,
                caller,
                &invitations::NewInvitation {
                    email: &body.email,
                    role,
                    now,
                    accept_url: &url,
                },
                &actor,
            )
        })
        .await?;
    let mut out = people::invitation(&sent.invitation, now);
    out["voided_previous"] = json!(sent.voided);
    Ok(HttpResponse::Created()
        .insert_header((
            actix_web::http::header::LOCATION,
            format!("/api/v1/invitations/{}", sent.invitation.id),
        ))
        .json(out))
}

pub async fn list(
    session: OwnerSession,
    state: web::Data<AppState>,
    query: web::Query<InvitationQuery>,
) -> Result<HttpResponse, Error> {
    session.require(Role::Admin)?;
    let status = query.into_inner().status;
    if let Some(s) = status.as_deref() {
        if !["pending", "accepted", "voided", "expired"].contains(&s) {
            return Err(Error::BadRequest(format!(
                "unknown status '{s}': use pending, accepted, voided or expired"
            )));
        }
    }
    let now = state.clock.now();
    let org = session.org_id.clone();
    let wanted = status.clone();
    let rows = state
        .db
        .read(move |c| invitations::list(c, &org, wanted.as_deref()))
        .await?;
    let items: Vec<_> = rows
        .iter()
        .filter(|r| {
            status
                .as_deref()
                .is_none_or(|s| invitations::effective_status(r, now) == s)
        })
        .map(|r| people::invitation(r, now))
        .collect();
    Ok(HttpResponse::Ok().json(json!({"invitations": items, "total": items.len()})))
}

pub async fn void(
    session: OwnerSession,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, Error> {
    session.require(Role::Admin)?;
    let now = state.clock.now();
    let (org, id, caller, actor) = (
        session.org_id.clone(),
        id.into_inner(),
        session.role,
        session.actor(),
    );
    state
        .db
        .write(move |c| invitations::void(c, &org, &id, caller, now, &actor))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Accept: 200 with a session token, the member and its account (`status` tells whether it
/// holds a seat or is pending). 410 Gone for expired, voided or used invitations.
pub async fn accept(
    state: web::Data<AppState>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, Error> {
    let body: AcceptRequest =
        input::body(&req, payload, state.settings.http.max_body_bytes).await?;
    let now = state.clock.now();
    let done = state
        .db
        .write(move |c| invitations::accept(c, &body.token, now))
        .await?;
    let mut out = session::issue(&state, &done.member, &done.account)?;
    out["created_account"] = json!(done.created_account);
    Ok(HttpResponse::Ok().json(out))
}
