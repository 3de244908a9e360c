//! The SCIM responder: `application/scim+json`, `ETag`, `Location`.

use actix_web::http::{header, StatusCode};
use actix_web::{HttpRequest, HttpResponse, Responder};
use serde_json::Value;

pub const SCIM_CONTENT_TYPE: &str = "application/scim+json";

pub struct ScimJson {
    status: StatusCode,
    body: Body,
    etag: Option<String>,
    location: Option<String>,
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
        }
    }

    /// A 200 with JSON text written by the caller.
    pub fn ok_text(text: String) -> Self {
        ScimJson {
            status: StatusCode::OK,
            body: Body::Text(text),
            etag: None,
            location: None,
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
        match self.body {
            Body::Value(v) => resp.json(v),
            Body::Text(t) => resp.body(t),
        }
    }
}

impl ScimJson {
    /// For handlers that answer either a resource or an empty response.
    pub fn respond_to_response(self, req: &HttpRequest) -> HttpResponse {
        self.respond_to(req)
    }
}
