//! Cross-site request forgery. Every state-changing form carries a `csrf` field, checked before
//! the domain is called: against the session's token once someone is signed in (`Submitted`),
//! and before that (accepting an invitation, asking for a sign-in link) against a random value
//! in a SameSite=Strict cookie set with the form (double submit), so another site can neither
//! post our forms nor sign someone into an account of its choosing.

use std::future::Future;
use std::pin::Pin;

use actix_web::cookie::{Cookie, SameSite};
use actix_web::{dev::Payload, web, FromRequest, HttpRequest};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use subtle::ConstantTimeEq;

use super::page::PageError;
use super::session::{SignedIn, PRE_SESSION_COOKIE};
use crate::domain::members::web_sessions::random_secret;
use crate::error::Error;

impl SignedIn {
    /// A form's `csrf` field against this session's token, before any domain call.
    pub fn check_csrf(&self, sent: Option<&str>) -> Result<(), PageError> {
        let ok = sent.is_some_and(|s| bool::from(s.as_bytes().ct_eq(self.csrf_token.as_bytes())));
        if ok {
            Ok(())
        } else {
            Err(refused())
        }
    }
}

/// The page a refused form gets: nothing was changed.
pub fn refused() -> PageError {
    PageError::Failed(Error::Forbidden(
        "the form was refused because it did not come from this site or has expired; nothing was changed. Go back, reload the page and try again".into(),
    ))
}

#[derive(Deserialize)]
struct CsrfField {
    csrf: Option<String>,
}

/// A form posted by a signed-in person, its CSRF field checked; `form` holds its own fields.
pub struct Submitted<T> {
    pub who: SignedIn,
    pub form: T,
}

impl<T: DeserializeOwned + 'static> FromRequest for Submitted<T> {
    type Error = PageError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, PageError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let who = SignedIn::from_request(req, payload);
        let body = web::Bytes::from_request(req, payload);
        Box::pin(async move {
            let who = who.await?;
            let body = body.await.map_err(|e| {
                PageError::Failed(Error::BadRequest(format!(
                    "the form could not be read: {e}"
                )))
            })?;
            let field: CsrfField = serde_urlencoded::from_bytes(&body).map_err(|_| refused())?;
            who.check_csrf(field.csrf.as_deref())?;
            let form = serde_urlencoded::from_bytes(&body).map_err(|e| {
                PageError::Failed(Error::BadRequest(format!("the form is not complete: {e}")))
            })?;
            Ok(Submitted { who, form })
        })
    }
}

/// A form with no fields but its CSRF token (sign out, void, revoke, …).
#[derive(Debug, Deserialize)]
pub struct NoFields {}

/// For a form shown before sign-in: the token to put in it, and the cookie to set with the
/// page (the browser's existing one is reused, so two open tabs both work).
pub fn pre_session_token(req: &HttpRequest) -> (String, Cookie<'static>) {
    let token = req
        .cookie(PRE_SESSION_COOKIE)
        .map(|c| c.value().to_string())
        .filter(|v| v.len() == 64 && v.bytes().all(|b| b.is_ascii_hexdigit()))
        .unwrap_or_else(random_secret);
    let cookie = Cookie::build(PRE_SESSION_COOKIE, token.clone())
        .path("/")
        .http_only(true)
        .same_site(SameSite::Strict)
        .finish();
    (token, cookie)
}

/// The `csrf` field of a form shown before sign-in, against its cookie.
pub fn check_pre_session(req: &HttpRequest, sent: Option<&str>) -> Result<(), PageError> {
    let cookie = req.cookie(PRE_SESSION_COOKIE);
    let ok = match (cookie, sent) {
        (Some(c), Some(s)) => !s.is_empty() && bool::from(c.value().as_bytes().ct_eq(s.as_bytes())),
        _ => false,
    };
    if ok {
        Ok(())
    } else {
        Err(refused())
    }
}
