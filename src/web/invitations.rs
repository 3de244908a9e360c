//! The page an invitation mail links to: it shows the organization, the role and the expiry,
//! with one button to accept. Accepting claims a seat (or queues the account) and signs the
//! person in.

use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;

use super::csrf;
use super::layout::Layout;
use super::page::{self, PageError};
use super::session;
use crate::domain::members::invitations;
use crate::error::Error;
use crate::state::AppState;

#[derive(Deserialize)]
pub struct TokenQuery {
    token: Option<String>,
}

#[derive(Template)]
#[template(path = "invitation.html")]
struct InvitationPage {
    layout: Layout,
    org_name: String,
    email: String,
    role: &'static str,
    expires: String,
    token: String,
    csrf_token: String,
}

fn token_of(token: Option<String>) -> Result<String, PageError> {
    token.filter(|t| !t.trim().is_empty()).ok_or_else(|| {
        PageError::from(Error::Unauthorized(
            "the link has no invitation token; open the whole link from the invitation mail".into(),
        ))
    })
}

/// `GET /invitations/accept?token=…`
pub async fn show(
    state: web::Data<AppState>,
    req: HttpRequest,
    query: web::Query<TokenQuery>,
) -> Result<HttpResponse, PageError> {
    let token = token_of(query.into_inner().token)?;
    let now = state.clock.now();
    let lookup = token.clone();
    let preview = state
        .db
        .read(move |c| invitations::preview(c, &lookup, now))
        .await?;
    let (csrf_token, cookie) = csrf::pre_session_token(&req);
    let page = InvitationPage {
        layout: Layout::public(format!("Join {}", preview.org_name)),
        org_name: preview.org_name,
        email: preview.email,
        role: preview.role.label(),
        expires: preview
            .expires_at
            .format("%B %-d, %Y at %H:%M UTC")
            .to_string(),
        token,
        csrf_token,
    };
    let mut resp = page::render(&page)?;
    resp.add_cookie(&cookie)
        .map_err(|e| Error::Internal(anyhow::anyhow!("cookie: {e}")))?;
    Ok(resp)
}

#[derive(Deserialize)]
pub struct AcceptForm {
    token: Option<String>,
    csrf: Option<String>,
}

/// `POST /invitations/accept`: accept, sign in, go to the console.
pub async fn accept(
    state: web::Data<AppState>,
    req: HttpRequest,
    form: web::Form<AcceptForm>,
) -> Result<HttpResponse, PageError> {
    let form = form.into_inner();
    csrf::check_pre_session(&req, form.csrf.as_deref())?;
    let token = token_of(form.token)?;
    let now = state.clock.now();
    let accepted = state
        .db
        .write(move |c| invitations::accept(c, &token, now))
        .await?;
    session::sign_in_response(&state, &req, accepted.member, "/console").await
}
