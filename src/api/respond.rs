//! The SCIM responder: `application/scim+json`, `ETag`, `Location`.

use actix_web::http::{header, StatusCode};
use actix_web::{HttpRequest, HttpResponse, Responder};
use serde_json::Value;

use crate::domain::seat_decisions::SeatDecisions;

pub const SCIM_CONTENT_TYPE: &str = "application/scim+json";

pub struct ScimJson {
    status: StatusCode,
    body: Body,
    etag: Option<String>,
    location: Option<String>,
    /// Seat decisions the request caused, for the provisioning log (a response extension).
    decisions: SeatDecisions,
}

/// A body as a value, or as JSON text already written (users and pages of users).
enum Body {
    Value(Value),
    Text(String),
}

impl ScimJson {
    pub fn ok(body: Value) -> Self {
        ScimJson {
            status: StatusCode::OK,
            body: Body::Value(body),
            etag: None,
            location: None,
            decisions: SeatDecisions::default(),
        }
    }

    /// A resource (possibly projected by `attributes` / `excludedAttributes`): `etag` is the
    /// resource's own version and `location` its URL, asked for only for a 201. Both come from
    /// the resource, not the body, which a projection may have stripped of `meta`
    /// (RFC 7644 §3.3: `Location` on 201; §3.14: the version as an `ETag` header).
    pub fn resource(
        status: StatusCode,
        body: Value,
        etag: String,
        location: impl FnOnce() -> String,
    ) -> Self {
        ScimJson {
            status,
            body: Body::Value(body),
            etag: Some(etag),
            location: (status == StatusCode::CREATED).then(location),
            decisions: SeatDecisions::default(),
        }
    }

    /// A 200 with JSON text written by the caller.
    pub fn ok_text(text: String) -> Self {
        ScimJson {
            status: StatusCode::OK,
            body: Body::Text(text),
            etag: None,
            location: None,
            decisions: SeatDecisions::default(),
        }
    }

    /// `resource` for JSON text written by the caller.
    pub fn resource_text(
        status: StatusCode,
        text: String,
        version: String,
        location: impl FnOnce() -> String,
    ) -> Self {
        ScimJson {
            status,
            body: Body::Text(text),
            etag: Some(version),
            location: (status == StatusCode::CREATED).then(location),
            decisions: SeatDecisions::default(),
        }
    }
}

impl Responder for ScimJson {
    type Body = actix_web::body::BoxBody;

    fn respond_to(self, _req: &HttpRequest) -> HttpResponse {
        let mut resp = HttpResponse::build(self.status);
        resp.content_type(SCIM_CONTENT_TYPE);
        if let Some(etag) = self.etag {
            resp.insert_header((header::ETAG, etag));
        }
        if let Some(location) = self.location {
            resp.insert_header((header::LOCATION, location));
        }
        let mut resp = match self.body {
            Body::Value(v) => resp.json(v),
            Body::Text(t) => resp.body(t),
        };
        with_decisions(&mut resp, self.decisions);
        resp
    }
}

/// Attach the seat decisions a request caused to its response, where the provisioning log
/// middleware reads them (`provisioning_log::middleware`).
pub fn with_decisions(resp: &mut HttpResponse, decisions: SeatDecisions) {
    if !decisions.is_empty() {
        resp.extensions_mut().insert(decisions);
    }
}

/// 204 No Content carrying the seat decisions of the write.
pub fn no_content(decisions: SeatDecisions) -> HttpResponse {
    let mut resp = HttpResponse::NoContent().finish();
    with_decisions(&mut resp, decisions);
    resp
}

impl ScimJson {
    /// This answer with the seat decisions the request caused.
    pub fn decisions(mut self, decisions: SeatDecisions) -> Self {
        self.decisions = decisions;
        self
    }

    /// For handlers that answer either a resource or an empty response.
    pub fn respond_to_response(self, req: &HttpRequest) -> HttpResponse {
        self.respond_to(req)
    }
}
