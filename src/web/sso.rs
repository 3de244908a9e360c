//! Sign-in through the organization's identity provider (OpenID Connect, Authorization Code
//! with PKCE): `GET /sso/{org}` sends the browser to the IdP, `GET /sso/{org}/callback`
//! brings it back. The state travels in the URL and in a short-lived HttpOnly cookie of this
//! browser; the callback takes the server-side flow row once (see `domain::sso::take_flow`).

use actix_web::cookie::{time, Cookie, SameSite};
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;

use crate::domain::members::Member;
use crate::domain::sso::{self, Login, NewFlow};
use crate::error::Error;
use crate::oidc::Oidc;
use crate::state::AppState;
use crate::store;

use super::page::{self, PageError};
use super::session::sign_in_response;

/// The browser's copy of the state of its sign-in in flight.
const STATE_COOKIE: &str = "scim_seats_sso_state";

#[derive(Debug, Deserialize)]
pub struct ChooseQuery {
    org: Option<String>,
}

/// `GET /sso?org=acme` (the sign-in page's form): on to that organization's sign-in.
pub async fn choose(q: web::Query<ChooseQuery>) -> Result<HttpResponse, PageError> {
    let org = q.org.as_deref().map(str::trim).unwrap_or("");
    let ok = !org.is_empty()
        && org
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if !ok {
        return Err(Error::BadRequest(
            "enter your organization's short name (as in its sign-in address, e.g. acme)".into(),
        )
        .into());
    }
    Ok(page::see_other(&format!("/sso/{org}")))
}

fn state_cookie(state: &AppState, slug: &str, value: &str, max_age_secs: i64) -> Cookie<'static> {
    Cookie::build(STATE_COOKIE, value.to_string())
        .path(format!("/sso/{slug}"))
        .http_only(true)
        .secure(state.settings.mail.public_url.starts_with("https://"))
        // Lax: the IdP's redirect back is a top-level GET from another site.
        .same_site(SameSite::Lax)
        .max_age(time::Duration::seconds(max_age_secs))
        .finish()
}

/// `GET /sso/{org}`: to the IdP's authorization endpoint with state, nonce and PKCE.
pub async fn start(
    state: web::Data<AppState>,
    oidc: web::Data<Oidc>,
    slug: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    begin(&state, &oidc, slug.into_inner())
        .await
        .map_err(PageError::SignInRefused)
}

async fn begin(state: &AppState, oidc: &Oidc, slug: String) -> Result<HttpResponse, Error> {
    let lookup = slug.clone();
    let (org_id, cfg) = state.db.read(move |c| sso::for_sign_in(c, &lookup)).await?;
    let redirect = sso::redirect_uri(&state.settings.mail.public_url, &slug);
    let started = oidc.start(&cfg, &redirect).await?;
    let (flow_state, nonce, verifier) = (
        started.state.clone(),
        started.nonce.clone(),
        started.pkce_verifier.clone(),
    );
    let now = store::now();
    state
        .db
        .write(move |c| {
            let flow = NewFlow {
                state: &flow_state,
                nonce: &nonce,
                pkce_verifier: &verifier,
            };
            sso::start_flow(c, &org_id, &flow, now)
        })
        .await?;
    let mut resp = page::see_other(&started.authorize_url);
    resp.add_cookie(&state_cookie(
        state,
        &slug,
        &started.state,
        sso::FLOW_MINUTES * 60,
    ))
    .map_err(|e| Error::Internal(anyhow::anyhow!("cookie: {e}")))?;
    Ok(resp)
}

#[derive(Debug, Deserialize)]
pub struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

/// `GET /sso/{org}/callback`: exchange the code, verify the ID token, then JIT.
pub async fn callback(
    req: HttpRequest,
    state: web::Data<AppState>,
    oidc: web::Data<Oidc>,
    slug: web::Path<String>,
    q: web::Query<CallbackQuery>,
) -> Result<HttpResponse, PageError> {
    let slug = slug.into_inner();
    let member = finish(&req, &state, &oidc, &slug, q.into_inner())
        .await
        .map_err(PageError::SignInRefused)?;
    let mut resp = sign_in_response(&state, &req, member, "/console").await?;
    resp.add_removal_cookie(&state_cookie(&state, &slug, "", 0))
        .map_err(|e| Error::Internal(anyhow::anyhow!("cookie: {e}")))?;
    Ok(resp)
}

/// The callback's work up to the member to sign in.
async fn finish(
    req: &HttpRequest,
    state: &AppState,
    oidc: &Oidc,
    slug: &str,
    q: CallbackQuery,
) -> Result<Member, Error> {
    if let Some(error) = q.error {
        return Err(Error::Unauthorized(format!(
            "your identity provider did not sign you in ({error}{}). Nothing was changed; start again from the sign-in page",
            q.error_description
                .map(|d| format!(": {d}"))
                .unwrap_or_default()
        )));
    }
    let (Some(code), Some(flow_state)) = (q.code, q.state) else {
        return Err(Error::BadRequest(
            "this address is where your identity provider sends you back after signing in; start from the sign-in page".into(),
        ));
    };
    let browser_state = req.cookie(STATE_COOKIE).map(|c| c.value().to_string());
    let now = store::now();
    let lookup = slug.to_string();
    let (org_id, cfg, flow) = state
        .db
        .write(move |c| {
            let (org_id, cfg) = sso::for_sign_in(c, &lookup)?;
            let flow = sso::take_flow(c, &org_id, &flow_state, browser_state.as_deref(), now)?;
            Ok((org_id, cfg, flow))
        })
        .await?;
    let redirect = sso::redirect_uri(&state.settings.mail.public_url, slug);
    let who = oidc
        .finish(&cfg, &redirect, &code, &flow.pkce_verifier, &flow.nonce)
        .await?;
    let login = state
        .db
        .write(move |c| sso::sign_in(c, &org_id, &who))
        .await?;
    match login {
        Login::Session { member, .. } => Ok(member),
        // The queueing is committed; the refusal says why and what changes it.
        Login::NoSeat { account } => Err(Error::Forbidden(format!(
            "No seat is free: an owner of your organization must add seats. You are in the waiting queue{}; sign in again once seats are added.",
            account
                .queue_position
                .map(|p| format!(" (position {p})"))
                .unwrap_or_default()
        ))),
    }
}
