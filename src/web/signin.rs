//! `GET /signin`: where a person without a session is sent. Members of an organization with
//! an identity provider go there (`/sso?org=…`, see `sso.rs`); others ask for a one-use
//! sign-in link by mail (`POST /signin`), open it (`GET /signin/link?token=…`: a page with one
//! button) and press the button (`POST /signin/link`) to get a session.

use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;

use super::csrf;
use super::layout::Layout;
use super::page::{self, PageError};
use super::session;
use crate::domain::{members::signin_links, sso};
use crate::error::Error;
use crate::state::AppState;

#[derive(Deserialize)]
pub struct SignInQuery {
    signed_out: Option<String>,
    org: Option<String>,
}

#[derive(Template)]
#[template(path = "signin.html")]
struct SignInPage {
    layout: Layout,
    signed_out: bool,
    org: String,
    /// The organization named in `?org=` when it signs in through an identity provider.
    sso_org: Option<String>,
    csrf_token: String,
}

pub async fn show(
    state: web::Data<AppState>,
    req: HttpRequest,
    query: web::Query<SignInQuery>,
) -> Result<HttpResponse, PageError> {
    let query = query.into_inner();
    let org = query.org.unwrap_or_default().trim().to_string();
    let lookup = org.clone();
    let sso_org = if org.is_empty() {
        None
    } else {
        state.db.read(move |c| sso::offered(c, &lookup)).await?
    };
    let (csrf_token, cookie) = csrf::pre_session_token(&req);
    let mut resp = page::render(&SignInPage {
        layout: Layout::public("Sign in"),
        signed_out: query.signed_out.is_some(),
        org,
        sso_org,
        csrf_token,
    })?;
    resp.add_cookie(&cookie)
        .map_err(|e| Error::Internal(anyhow::anyhow!("cookie: {e}")))?;
    Ok(resp)
}

#[derive(Deserialize)]
pub struct LinkRequestForm {
    email: Option<String>,
    csrf: Option<String>,
}

/// `POST /signin`: mail a sign-in link. The answer is the same whoever the address belongs to.
pub async fn request_link(
    state: web::Data<AppState>,
    req: HttpRequest,
    form: web::Form<LinkRequestForm>,
) -> Result<HttpResponse, PageError> {
    let form = form.into_inner();
    csrf::check_pre_session(&req, form.csrf.as_deref())?;
    let email = form.email.unwrap_or_default();
    let (now, public_url) = (state.clock.now(), state.settings.mail.public_url.clone());
    state
        .db
        .write(move |c| signin_links::request(c, &email, now, &public_url))
        .await?;
    Ok(page::see_other("/signin/sent"))
}

#[derive(Template)]
#[template(path = "signin_sent.html")]
struct SentPage {
    layout: Layout,
    minutes: i64,
}

/// `GET /signin/sent`
pub async fn sent() -> Result<HttpResponse, PageError> {
    page::render(&SentPage {
        layout: Layout::public("Check your mail"),
        minutes: signin_links::VALID_MINUTES,
    })
}

#[derive(Deserialize)]
pub struct TokenQuery {
    token: Option<String>,
}

#[derive(Template)]
#[template(path = "signin_link.html")]
struct LinkPage {
    layout: Layout,
    org_name: String,
    email: String,
    expires: String,
    token: String,
    csrf_token: String,
}

fn token_of(token: Option<String>) -> Result<String, Error> {
    token.filter(|t| !t.trim().is_empty()).ok_or_else(|| {
        Error::Unauthorized(
            "the link has no sign-in token; open the whole link from the mail".into(),
        )
    })
}

/// `GET /signin/link?token=…`: who is signing in where, and one button.
pub async fn show_link(
    state: web::Data<AppState>,
    req: HttpRequest,
    query: web::Query<TokenQuery>,
) -> Result<HttpResponse, PageError> {
    let token = token_of(query.into_inner().token).map_err(PageError::SignInRefused)?;
    let now = state.clock.now();
    let lookup = token.clone();
    let info = state
        .db
        .read(move |c| signin_links::peek(c, &lookup, now))
        .await
        .map_err(PageError::SignInRefused)?;
    let (csrf_token, cookie) = csrf::pre_session_token(&req);
    let mut resp = page::render(&LinkPage {
        layout: Layout::public(format!("Sign in to {}", info.org_name)),
        org_name: info.org_name,
        email: info.email,
        expires: info
            .expires_at
            .format("%B %-d, %Y at %H:%M UTC")
            .to_string(),
        token,
        csrf_token,
    })?;
    resp.add_cookie(&cookie)
        .map_err(|e| Error::Internal(anyhow::anyhow!("cookie: {e}")))?;
    Ok(resp)
}

#[derive(Deserialize)]
pub struct LinkForm {
    token: Option<String>,
    csrf: Option<String>,
}

/// `POST /signin/link`: use the link (once) and sign in.
pub async fn use_link(
    state: web::Data<AppState>,
    req: HttpRequest,
    form: web::Form<LinkForm>,
) -> Result<HttpResponse, PageError> {
    let form = form.into_inner();
    csrf::check_pre_session(&req, form.csrf.as_deref())?;
    let token = token_of(form.token).map_err(PageError::SignInRefused)?;
    let now = state.clock.now();
    let member = state
        .db
        .write(move |c| signin_links::redeem(c, &token, now))
        .await
        .map_err(PageError::SignInRefused)?;
    session::sign_in_response(&state, &req, member, "/console").await
}

/// `POST /signout`: the session ends, the cookie is cleared.
pub async fn sign_out(
    state: web::Data<AppState>,
    post: csrf::Submitted<csrf::NoFields>,
) -> Result<HttpResponse, PageError> {
    session::sign_out_response(&state, &post.who).await
}
