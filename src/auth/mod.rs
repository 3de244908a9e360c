//! Authentication extractors. SCIM clients present an organization's bearer token; owners
//! and admins present an owner JWT.

pub mod jwt;
pub mod owner;
pub mod scim_client;

pub use owner::OwnerSession;
pub use scim_client::ScimClient;

/// The bearer value of an `Authorization` header, if any.
pub fn bearer(req: &actix_web::HttpRequest) -> Option<&str> {
    let value = req
        .headers()
        .get(actix_web::http::header::AUTHORIZATION)?
        .to_str()
        .ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
}
