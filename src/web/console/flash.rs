//! Flash messages: after an action the handler redirects (303) with a short message in a
//! cookie; the next page shows it once and clears it. The cookie is HttpOnly, SameSite=Lax
//! and scoped to `/console`; its text is shown escaped like any other text.

use actix_web::cookie::{Cookie, SameSite};
use actix_web::{dev::Payload, FromRequest, HttpRequest, HttpResponse};
use std::future::{ready, Ready};

use crate::web::layout::FlashMessage;
use crate::web::page::{self, urlencode, PageError};

pub const COOKIE: &str = "scim_seats_flash";
const PATH: &str = "/console";
/// Browsers keep cookies up to about 4 KB; a longer message is cut.
const MAX_TEXT: usize = 1500;

/// The flash message this request brought, if any.
pub struct Incoming(pub Option<FlashMessage>);

impl FromRequest for Incoming {
    type Error = PageError;
    type Future = Ready<Result<Self, PageError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let msg = req.cookie(COOKIE).and_then(|c| {
            let v = c.value();
            let (ok, rest) = match v.as_bytes().first() {
                Some(b'1') => (true, &v[1..]),
                Some(b'0') => (false, &v[1..]),
                _ => return None,
            };
            let text = percent_decode(rest);
            (!text.is_empty()).then_some(FlashMessage { ok, text })
        });
        ready(Ok(Incoming(msg)))
    }
}

impl Incoming {
    /// Clear the cookie on the page that showed the message.
    pub fn clear_on(&self, resp: &mut HttpResponse) {
        if self.0.is_some() {
            // Only fails on an invalid header value, which a fixed name and path never are.
            let _ = resp.add_removal_cookie(&Cookie::build(COOKIE, "").path(PATH).finish());
        }
    }
}

/// 303 to `location` with a message for the next page.
pub fn redirect(location: &str, ok: bool, text: &str) -> HttpResponse {
    let mut cut: String = text.chars().take(MAX_TEXT).collect();
    if cut.len() < text.len() {
        cut.push('…');
    }
    let text = cut;
    let value = format!("{}{}", if ok { '1' } else { '0' }, urlencode(&text));
    let cookie = Cookie::build(COOKIE, value)
        .path(PATH)
        .http_only(true)
        .same_site(SameSite::Lax)
        .finish();
    let mut resp = page::see_other(location);
    let _ = resp.add_cookie(&cookie);
    resp
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = |b: u8| (b as char).to_digit(16);
            if let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_survive_the_cookie() {
        let text = "Invoice INV-1 issued: 3 got a seat — Ann <b>, Zoë; 100% done";
        assert_eq!(percent_decode(&urlencode(text)), text);
        assert_eq!(percent_decode("50%"), "50%");
        assert_eq!(percent_decode("%zz"), "%zz");
    }
}
