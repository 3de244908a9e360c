//! SCIM 2.0 routes under `/scim/v2`.

pub mod bulk;
pub mod discovery;
pub mod groups;
pub mod render;
pub mod search;
pub mod users;

use actix_web::{http::header, web, HttpRequest};

use crate::domain::Preconditions;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/scim/v2")
            .route(
                "/ServiceProviderConfig",
                web::get().to(discovery::service_provider_config),
            )
            .route("/ResourceTypes", web::get().to(discovery::resource_types))
            .route(
                "/ResourceTypes/{id}",
                web::get().to(discovery::resource_type),
            )
            .route("/Schemas", web::get().to(discovery::schemas))
            .route("/Schemas/{id}", web::get().to(discovery::schema))
            .route("/Bulk", web::post().to(bulk::bulk))
            .route("/.search", web::post().to(search::root))
            .route("/Users/.search", web::post().to(users::search))
            .route("/Groups/.search", web::post().to(groups::search))
            .route("/Users", web::post().to(users::create))
            .route("/Users", web::get().to(users::list))
            .route("/Users/{id}", web::get().to(users::get))
            .route("/Users/{id}", web::put().to(users::replace))
            .route("/Users/{id}", web::patch().to(users::patch))
            .route("/Users/{id}", web::delete().to(users::delete))
            .route("/Groups", web::post().to(groups::create))
            .route("/Groups", web::get().to(groups::list))
            .route("/Groups/{id}", web::get().to(groups::get))
            .route("/Groups/{id}", web::put().to(groups::replace))
            .route("/Groups/{id}", web::patch().to(groups::patch))
            .route("/Groups/{id}", web::delete().to(groups::delete)),
    );
}

/// `If-Match` / `If-None-Match` of a request.
pub fn preconditions(req: &HttpRequest) -> Preconditions {
    let get = |name: header::HeaderName| {
        req.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    Preconditions {
        if_match: get(header::IF_MATCH),
        if_none_match: get(header::IF_NONE_MATCH),
    }
}

/// Decoded query-string pairs (names kept as sent; the SCIM layer matches them).
pub fn query_pairs(req: &HttpRequest) -> Vec<(String, String)> {
    web::Query::<Vec<(String, String)>>::from_query(req.query_string())
        .map(|q| q.into_inner())
        .unwrap_or_default()
}

/// What this build supports, advertised in `/ServiceProviderConfig`.
pub struct Features {
    pub patch: bool,
    pub bulk: bool,
    pub sort: bool,
}

pub const FEATURES: Features = Features {
    patch: true,
    bulk: true,
    sort: true,
};

/// `attributes` / `excludedAttributes` of a request (RFC 7644 §3.9), applied to every
/// resource the response carries.
#[derive(Debug, Clone, Default)]
pub struct Projection {
    pub attributes: Vec<String>,
    pub excluded: Vec<String>,
}

impl Projection {
    pub fn from_request(req: &HttpRequest) -> Projection {
        let mut p = Projection::default();
        for (k, v) in query_pairs(req) {
            let list = v
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string);
            if k.eq_ignore_ascii_case("attributes") {
                p.attributes.extend(list);
            } else if k.eq_ignore_ascii_case("excludedAttributes") {
                p.excluded.extend(list);
            }
        }
        p
    }

    pub fn from_query(q: &crate::scim::list::ListQuery) -> Projection {
        Projection {
            attributes: q.attributes.clone(),
            excluded: q.excluded_attributes.clone(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.attributes.is_empty() && self.excluded.is_empty()
    }

    pub fn apply(
        &self,
        resource: serde_json::Value,
        rs: &crate::scim::schema::ResourceSchema,
    ) -> serde_json::Value {
        if self.is_empty() {
            return resource;
        }
        crate::scim::projection::project(&resource, rs, &self.attributes, &self.excluded)
    }

    pub fn wants(&self, rs: &crate::scim::schema::ResourceSchema, name: &str) -> bool {
        crate::scim::projection::wants_attribute(rs, &self.attributes, &self.excluded, name)
    }
}

/// PATCH sees the resource as the client does: with its `id`, so that an unchanged readOnly
/// `id` in a path-less value (Okta's group rename) is recognised as unchanged. Normalizing
/// afterwards drops it again.
pub fn with_id(resource: &mut serde_json::Value, id: serde_json::Value) {
    if let Some(m) = resource.as_object_mut() {
        m.insert("id".into(), id);
    }
}
