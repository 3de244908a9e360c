//! The browser session: a random secret in an HttpOnly cookie (SameSite=Lax; Secure when the
//! server is reached over https), its row on the server (`domain::web_sessions`). `SignedIn`
//! loads the member with its current role on every request.

use std::future::Future;
use std::pin::Pin;

use actix_web::cookie::{time, Cookie, SameSite};
use actix_web::{dev::Payload, web, FromRequest, HttpRequest, HttpResponse};

use super::layout::{Layout, NavItem, Viewer, SECTIONS};
use super::page::{self, PageError};
use crate::auth::OwnerSession;
use crate::domain::members::web_sessions;
use crate::domain::members::Member;
use crate::error::Error;
use crate::state::AppState;

pub const COOKIE: &str = "scim_seats_session";
/// The pre-session CSRF cookie (`csrf::pre_session_token`): named here because signing in
/// clears it, and csrf builds on this module rather than the other way round.
pub const PRE_SESSION_COOKIE: &str = "scim_seats_csrf";

/// A signed-in person: the same `OwnerSession` (organization, member, fresh role) the owner API
/// checks roles on, so pages and API share every rule.
#[derive(Debug, Clone)]
pub struct SignedIn {
    pub session: OwnerSession,
    pub email: String,
    pub csrf_token: String,
    secret: String,
}

impl SignedIn {
    /// 403 page unless the member's role is `min` or above.
    pub fn require(&self, min: crate::domain::members::Role) -> Result<(), PageError> {
        Ok(self.session.require(min)?)
    }
}

// The layout of a signed-in page is built here, from the session it shows, so that layout (which
// every page uses, errors included) does not depend on the session back.
impl Layout {
    /// A page for a signed-in person; `current` is the section's path.
    pub fn signed_in(title: impl Into<String>, who: &SignedIn, current: &str) -> Layout {
        let nav = SECTIONS
            .iter()
            .filter(|(_, _, min)| who.session.role.at_least(*min))
            .map(|&(href, label, _)| NavItem {
                href,
                label,
                current: href == current,
            })
            .collect();
        Layout {
            title: title.into(),
            viewer: Some(Viewer {
                email: who.email.clone(),
                role: who.session.role.label().to_string(),
                csrf_token: who.csrf_token.clone(),
                nav,
            }),
            flash: None,
        }
    }
}

fn state_of(req: &HttpRequest) -> Result<web::Data<AppState>, Error> {
    req.app_data::<web::Data<AppState>>()
        .cloned()
        .ok_or_else(|| Error::Internal(anyhow::anyhow!("no app state")))
}

impl FromRequest for SignedIn {
    type Error = PageError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, PageError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let state = state_of(req);
        let secret = req.cookie(COOKIE).map(|c| c.value().to_string());
        let next = req
            .uri()
            .path_and_query()
            .map_or("/console".to_string(), |p| p.as_str().to_string());
        Box::pin(async move {
            let state = state?;
            let sign_in = || PageError::SignInRequired { next: next.clone() };
            let secret = secret.ok_or_else(sign_in)?;
            let now = chrono::Utc::now().naive_utc();
            let lookup = secret.clone();
            let current = state
                .db
                .read_point(move |c| web_sessions::current(c, &lookup, now))
                .await?
                .ok_or_else(sign_in)?;
            Ok(SignedIn {
                session: OwnerSession {
                    org_id: current.member.org_id,
                    member_id: current.member.id,
                    role: current.member.role,
                },
                email: current.member.email,
                csrf_token: current.csrf_token,
                secret,
            })
        })
    }
}

/// Whether cookies must be Secure: the server's public URL is https, or this request came
/// over https.
fn secure(state: &AppState, req: &HttpRequest) -> bool {
    state.settings.mail.public_url.starts_with("https://")
        || req.connection_info().scheme() == "https"
}

/// Start a session for `member` and send the browser on to `next` (a local path).
pub async fn sign_in_response(
    state: &AppState,
    req: &HttpRequest,
    member: Member,
    next: &str,
) -> Result<HttpResponse, PageError> {
    let ttl = chrono::Duration::from_std(state.settings.auth.session_ttl)
        .map_err(|e| Error::Internal(anyhow::anyhow!("session ttl: {e}")))?;
    let now = chrono::Utc::now().naive_utc();
    let started = state
        .db
        .write(move |c| web_sessions::start(c, &member, now, ttl))
        .await?;
    let cookie = Cookie::build(COOKIE, started.secret)
        .path("/")
        .http_only(true)
        .secure(secure(state, req))
        .same_site(SameSite::Lax)
        .max_age(time::Duration::seconds(ttl.num_seconds()))
        .finish();
    let mut resp = page::see_other(&page::local_path(Some(next)));
    resp.add_cookie(&cookie)
        .map_err(|e| Error::Internal(anyhow::anyhow!("cookie: {e}")))?;
    // The pre-session CSRF cookie has done its work.
    resp.add_removal_cookie(&Cookie::build(PRE_SESSION_COOKIE, "").path("/").finish())
        .map_err(|e| Error::Internal(anyhow::anyhow!("cookie: {e}")))?;
    Ok(resp)
}

/// End `who`'s session (`POST /signout`, `signin::sign_out`): the session row goes, the
/// cookie is cleared.
pub async fn sign_out_response(
    state: &AppState,
    who: &SignedIn,
) -> Result<HttpResponse, PageError> {
    let secret = who.secret.clone();
    state
        .db
        .write(move |c| web_sessions::end(c, &secret))
        .await?;
    let mut resp = page::see_other("/signin?signed_out=1");
    resp.add_removal_cookie(&Cookie::build(COOKIE, "").path("/").finish())
        .map_err(|e| Error::Internal(anyhow::anyhow!("cookie: {e}")))?;
    Ok(resp)
}
