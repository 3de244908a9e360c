//! SCIM 2.0 routes under `/scim/v2`.

pub mod discovery;
pub mod groups;
pub mod render;
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
            .route("/Users", web::post().to(users::create))
            .route("/Users", web::get().to(users::list))
            .route("/Users/{id}", web::get().to(users::get))
            .route("/Users/{id}", web::put().to(users::replace))
            .route("/Users/{id}", web::delete().to(users::delete))
            .route("/Groups", web::post().to(groups::create))
            .route("/Groups", web::get().to(groups::list))
            .route("/Groups/{id}", web::get().to(groups::get))
            .route("/Groups/{id}", web::put().to(groups::replace))
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
    patch: false,
    bulk: false,
    sort: true,
};
