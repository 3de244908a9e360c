//! Checks of the request head that every route needs, before routing and extractors see it:
//! a path or query that is not UTF-8 once percent-decoded (extractors would read it as
//! U+FFFD and look up something else), a NUL anywhere in them (PostgreSQL cannot compare
//! with it: the same rule as `scim::limits`), entity tags that are not visible ASCII (they
//! were ignored, so a conditional write went through unconditionally), and a request head
//! over our limit. Each refusal is the server's error body (a SCIM error on SCIM routes).
//!
//! Heads beyond the HTTP codec's own limits (96 headers, 128 KiB) or with control bytes in
//! a header are refused by actix-http itself, before any of our code runs; `codec_refusals`
//! gives those answers a SCIM error body. Ours are lower so that real clients meet ours first.

use actix_web::dev::ServiceRequest;
use actix_web::http::header;
use percent_encoding::percent_decode;

use crate::error::Error;
use crate::scim::error::ScimError;

/// Most headers a request may carry.
pub const MAX_HEADERS: usize = 64;
/// Most bytes of all header names and values together.
pub const MAX_HEAD_BYTES: usize = 32 * 1024;

pub fn check(req: &ServiceRequest) -> Result<(), Error> {
    check_head(req)?;
    check_path(req.uri().path())?;
    check_query(req.query_string())?;
    for name in [header::IF_MATCH, header::IF_NONE_MATCH] {
        for v in req.headers().get_all(&name) {
            if v.to_str().is_err() {
                return Err(Error::BadRequest(format!(
                    "the {name} header must hold entity tags of visible ASCII characters"
                )));
            }
        }
    }
    Ok(())
}

fn check_head(req: &ServiceRequest) -> Result<(), Error> {
    let headers = req.headers();
    let bytes: usize = headers
        .iter()
        .map(|(k, v)| k.as_str().len() + v.len() + 4)
        .sum();
    if headers.len() > MAX_HEADERS || bytes > MAX_HEAD_BYTES {
        return Err(Error::HeadTooLarge(format!(
            "the request head is over the limit ({} headers, {bytes} bytes; at most \
             {MAX_HEADERS} headers and {MAX_HEAD_BYTES} bytes)",
            headers.len()
        )));
    }
    Ok(())
}

fn check_path(path: &str) -> Result<(), Error> {
    let decoded = percent_decode(path.as_bytes()).collect::<Vec<u8>>();
    let text = std::str::from_utf8(&decoded)
        .map_err(|_| Error::BadRequest("the request path is not valid UTF-8".into()))?;
    if text.contains('\0') {
        return Err(ScimError::invalid_value(
            "the request path contains a NUL character (U+0000), which is not accepted",
        )
        .into());
    }
    Ok(())
}

/// Each `name=value` pair, decoded as `application/x-www-form-urlencoded` (`+` is a space).
/// Errors name the parameter, never its value (details reach the logs).
fn check_query(query: &str) -> Result<(), Error> {
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let decode = |s: &str| -> Vec<u8> {
            let plus = s.replace('+', " ");
            percent_decode(plus.as_bytes()).collect()
        };
        let (name, value) = (decode(k), decode(v));
        let Ok(name) = String::from_utf8(name) else {
            return Err(Error::BadRequest(
                "a query parameter name is not valid UTF-8".into(),
            ));
        };
        let shown: String = name.chars().filter(|c| !c.is_control()).take(64).collect();
        let Ok(value) = std::str::from_utf8(&value) else {
            return Err(Error::BadRequest(format!(
                "the query parameter '{shown}' is not valid UTF-8"
            )));
        };
        if name.contains('\0') || value.contains('\0') {
            return Err(ScimError::invalid_value(format!(
                "the query parameter '{shown}' contains a NUL character (U+0000), which is \
                 not accepted in any value"
            ))
            .into());
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_are_checked_per_parameter_naming_it() {
        assert!(check_query("filter=userName+eq+%22a%22&count=5").is_ok());
        assert!(check_query("a=%E2%82%AC&&b").is_ok());
        let e = check_query("count=1&filter=userName%20eq%20%22%FF%22").unwrap_err();
        assert!(e.to_string().contains("'filter'"), "{e}");
        assert!(!e.to_string().contains("userName"), "{e}");
        let e = check_query("filter=a%00b").unwrap_err();
        assert!(e.to_string().contains("NUL"), "{e}");
        assert!(check_query("%FF=1").is_err());
    }

    #[test]
    fn paths_must_decode_to_utf8_without_nul() {
        assert!(check_path("/scim/v2/Users/%C3%A9").is_ok());
        assert!(check_path("/scim/v2/Users/%FF").is_err());
        assert!(check_path("/scim/v2/Users/a%00").is_err());
    }
}
