//! Extractors of the SCIM handlers: the body (its limit set in one place), preconditions
//! (`If-Match` / `If-None-Match`), projection (`attributes` / `excludedAttributes`) and list
//! queries. Extractors run before the handler and beside the `ScimClient` check, so the ones
//! that can fail (reading a body, parsing a query) only capture the request: the handler asks
//! for the value after the caller is known, and an unauthenticated request is refused before
//! its body is read or its query judged, as it always was.

use std::future::{ready, Ready};

use actix_web::{dev::Payload, web, FromRequest, HttpRequest};
use serde_json::Value;

use super::{preconditions, query_pairs, Projection};
use crate::api::body::read_json;
use crate::domain::Preconditions;
use crate::error::Error;
use crate::scim::list::ListQuery;
use crate::state::AppState;

fn state(req: &HttpRequest) -> Result<&web::Data<AppState>, Error> {
    req.app_data::<web::Data<AppState>>()
        .ok_or_else(|| Error::Internal(anyhow::anyhow!("no app state")))
}

/// A SCIM request's JSON body, read when the handler asks for it.
pub struct ScimBody {
    req: HttpRequest,
    payload: web::Payload,
}

impl FromRequest for ScimBody {
    type Error = Error;
    type Future = Ready<Result<Self, Error>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        ready(
            web::Payload::from_request(req, payload)
                .into_inner()
                .map(|payload| ScimBody {
                    req: req.clone(),
                    payload,
                })
                .map_err(|e| Error::BadRequest(format!("reading the body failed: {e}"))),
        )
    }
}

impl ScimBody {
    /// The body as JSON, within `http.max_body_bytes` (malformed: 400 invalidSyntax; too
    /// large: 413).
    pub async fn json(self) -> Result<Value, Error> {
        let limit = state(&self.req)?.settings.http.max_body_bytes;
        self.json_within(limit).await
    }

    /// The body as JSON within `limit` bytes (`/Bulk` has a limit of its own).
    pub async fn json_within(self, limit: usize) -> Result<Value, Error> {
        read_json(&self.req, self.payload, limit).await
    }
}

/// What a list or search asks for: the query string of a GET, or the body of a POST to
/// `.search` (RFC 7644 §3.4.3); one handler serves both.
pub struct ListRequest {
    req: HttpRequest,
    body: Option<ScimBody>,
}

impl FromRequest for ListRequest {
    type Error = Error;
    type Future = Ready<Result<Self, Error>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        if req.method() != actix_web::http::Method::POST {
            return ready(Ok(ListRequest {
                req: req.clone(),
                body: None,
            }));
        }
        ready(
            ScimBody::from_request(req, payload)
                .into_inner()
                .map(|body| ListRequest {
                    req: req.clone(),
                    body: Some(body),
                }),
        )
    }
}

impl ListRequest {
    /// The query, checked and clamped to `scim.max_results`.
    pub async fn query(self) -> Result<ListQuery, Error> {
        let scim = &state(&self.req)?.settings.scim;
        let (max_results, max_page_members) = (scim.max_results, scim.max_page_members);
        let mut query = match self.body {
            Some(body) => ListQuery::from_search_request(&body.json().await?, max_results)?,
            None => ListQuery::from_pairs(&query_pairs(&self.req), max_results)?,
        };
        query.max_page_members = max_page_members;
        Ok(query)
    }
}

impl FromRequest for Preconditions {
    type Error = Error;
    type Future = Ready<Result<Self, Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(Ok(preconditions(req)))
    }
}

impl FromRequest for Projection {
    type Error = Error;
    type Future = Ready<Result<Self, Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(Ok(Projection::of_request(req)))
    }
}
