//! Reading JSON request bodies ourselves, so that malformed JSON and oversized bodies get
//! SCIM error bodies (400 invalidSyntax, 413) instead of the framework's plain-text errors.

use actix_web::{http::header, web, HttpRequest};
use futures_util::StreamExt;
use serde_json::Value;

use crate::error::Error;
use crate::scim::error::ScimError;

pub async fn read_json(
    req: &HttpRequest,
    mut payload: web::Payload,
    limit: usize,
) -> Result<Value, Error> {
    let too_large = || Error::PayloadTooLarge(format!("the request body exceeds {limit} bytes"));
    if let Some(len) = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok())
    {
        if len > limit {
            return Err(too_large());
        }
    }
    let mut buf = web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk =
            chunk.map_err(|e| Error::BadRequest(format!("reading the body failed: {e}")))?;
        if buf.len() + chunk.len() > limit {
            return Err(too_large());
        }
        buf.extend_from_slice(&chunk);
    }
    if buf.is_empty() {
        return Err(ScimError::invalid_syntax("the request body is empty").into());
    }
    let value: Value = serde_json::from_slice(&buf).map_err(|e| {
        Error::from(ScimError::invalid_syntax(format!(
            "the request body is not valid JSON: {e}"
        )))
    })?;
    drop(buf);
    // Every JSON body passes here (SCIM, Bulk, owner API, invitations): no NUL and no
    // oversized string anywhere, before any handler or database sees it.
    crate::scim::limits::check_body(&value)?;
    Ok(value)
}
