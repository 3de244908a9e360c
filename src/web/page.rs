//! Rendering pages, and errors as pages. Every HTML response goes through `respond`, which sets
//! the security headers once: a Content-Security-Policy without inline script or style, no
//! framing, no Referer (invitation and sign-in links carry secrets in their query), no caching.

use actix_web::http::{header, StatusCode};
use actix_web::{HttpResponse, HttpResponseBuilder, ResponseError};
use askama::Template;

use super::layout::Layout;
use crate::error::Error;

const CSP: &str = "default-src 'none'; style-src 'self'; img-src 'self' data:; \
                   frame-ancestors 'none'; base-uri 'none'";

fn secure(mut builder: HttpResponseBuilder) -> HttpResponseBuilder {
    builder
        .insert_header((header::CONTENT_SECURITY_POLICY, CSP))
        .insert_header((header::X_FRAME_OPTIONS, "DENY"))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header((header::REFERRER_POLICY, "no-referrer"))
        .insert_header((header::CACHE_CONTROL, "no-store"));
    builder
}

/// A response builder with the page headers set (add cookies, then `body`).
pub fn respond(status: StatusCode) -> HttpResponseBuilder {
    secure(HttpResponse::build(status))
}

/// Render a template as a 200 page.
pub fn render(t: &impl Template) -> Result<HttpResponse, PageError> {
    render_status(StatusCode::OK, t)
}

pub fn render_status(status: StatusCode, t: &impl Template) -> Result<HttpResponse, PageError> {
    let html = t
        .render()
        .map_err(|e| PageError::from(Error::Internal(anyhow::anyhow!("template: {e}"))))?;
    Ok(respond(status)
        .content_type("text/html; charset=utf-8")
        .body(html))
}

/// 303 See Other: the answer to every form POST.
pub fn see_other(location: &str) -> HttpResponse {
    respond(StatusCode::SEE_OTHER)
        .insert_header((header::LOCATION, location))
        .finish()
}

/// A relative path inside this site, or `/console`: a `next` parameter never sends anyone to
/// another site.
pub fn local_path(next: Option<&str>) -> String {
    match next {
        Some(p) if p.starts_with('/') && !p.starts_with("//") && !p.contains('\\') => p.to_string(),
        _ => "/console".to_string(),
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    layout: Layout,
    status: u16,
    message: &'a str,
    hint: &'a str,
}

/// A domain error as a page with the same meaning as the API's status; or, without a session,
/// a redirect to sign-in that comes back here afterwards.
#[derive(Debug)]
pub enum PageError {
    Failed(Error),
    SignInRequired {
        next: String,
    },
    /// A sign-in (identity provider, sign-in link) that did not go through: same statuses,
    /// titled for a person who was trying to get in rather than for a link in a mail.
    SignInRefused(Error),
}

impl From<Error> for PageError {
    fn from(e: Error) -> Self {
        PageError::Failed(e)
    }
}

impl std::fmt::Display for PageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PageError::Failed(e) | PageError::SignInRefused(e) => write!(f, "{e}"),
            PageError::SignInRequired { .. } => f.write_str("sign-in required"),
        }
    }
}

impl PageError {
    fn title_and_hint(&self) -> (&'static str, &'static str) {
        match self {
            PageError::Failed(e) => match e {
                Error::Forbidden(_) => (
                    "You don't have access to this",
                    "Ask an Owner of your organization if you need it.",
                ),
                Error::NotFound(_) => (
                    "Not found",
                    "Check the address, or start from the overview.",
                ),
                Error::Gone(_) => ("This link can no longer be used", ""),
                Error::Unauthorized(_) => (
                    "This link is not valid",
                    "Check that you opened the whole link from the mail.",
                ),
                Error::Conflict(_) => ("That could not be done", ""),
                Error::Unavailable => ("The service is busy", "Wait a moment and try again."),
                Error::Internal(_) => {
                    ("Something went wrong on our side", "Try again in a moment.")
                }
                _ => (
                    "That did not work",
                    "Go back, correct the form and try again.",
                ),
            },
            PageError::SignInRequired { .. } => ("Sign in", ""),
            PageError::SignInRefused(e) => match e {
                Error::BadGateway(_) => (
                    "Your identity provider could not be reached",
                    "Try again in a moment. If it keeps failing, an Owner should check the SSO settings.",
                ),
                Error::Forbidden(_) => ("You could not be signed in", ""),
                Error::Internal(_) => {
                    ("Something went wrong on our side", "Try again in a moment.")
                }
                _ => (
                    "You could not be signed in",
                    "Start again from the sign-in page.",
                ),
            },
        }
    }
}

impl ResponseError for PageError {
    fn status_code(&self) -> StatusCode {
        match self {
            PageError::Failed(e) | PageError::SignInRefused(e) => e.status_code(),
            PageError::SignInRequired { .. } => StatusCode::SEE_OTHER,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let e = match self {
            PageError::SignInRequired { next } => {
                return see_other(&format!("/signin?next={}", urlencode(next)));
            }
            PageError::Failed(e) | PageError::SignInRefused(e) => e,
        };
        let (title, hint) = self.title_and_hint();
        // Internal causes stay in the log; the page says only that it failed.
        let detail = match e {
            Error::Internal(_) => String::new(),
            other => sentence(&other.to_string()),
        };
        let page = ErrorPage {
            layout: Layout::public(title),
            status: self.status_code().as_u16(),
            message: &detail,
            hint,
        };
        match page.render() {
            Ok(html) => respond(self.status_code())
                .content_type("text/html; charset=utf-8")
                .body(html),
            Err(_) => respond(self.status_code())
                .content_type("text/plain; charset=utf-8")
                .body(title),
        }
    }
}

/// A domain message as a sentence on a page: capital first letter, final full stop.
fn sentence(s: &str) -> String {
    let mut chars = s.chars();
    let mut out: String = match chars.next() {
        Some(c) => c.to_uppercase().chain(chars).collect(),
        None => return String::new(),
    };
    if !out.ends_with(['.', '!', '?']) {
        out.push('.');
    }
    out
}

/// Percent-encode a query value (RFC 3986 unreserved characters pass).
pub fn urlencode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_never_leaves_the_site() {
        assert_eq!(local_path(Some("/console/seats")), "/console/seats");
        for bad in [
            "//evil.example",
            "https://evil.example",
            "\\\\evil",
            "/\\evil",
            "",
        ] {
            assert_eq!(local_path(Some(bad)), "/console", "{bad}");
        }
        assert_eq!(local_path(None), "/console");
    }

    #[test]
    fn query_values_are_encoded() {
        assert_eq!(urlencode("/console?a=1&b=2"), "/console%3Fa%3D1%26b%3D2");
    }
}
