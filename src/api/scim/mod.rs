//! SCIM 2.0 routes under `/scim/v2`.

pub mod bulk;
pub mod discovery;
pub mod extract;
pub mod groups;
pub mod render;
pub mod search;
pub mod users;

use actix_web::{guard, http::header, web, HttpRequest, Route};

use crate::domain::Preconditions;
use crate::state::AppState;

pub fn configure(cfg: &mut web::ServiceConfig) {
    // Each path lists its methods and names them for `Allow`; any other method gets 405 with
    // a SCIM error body and that `Allow` header (RFC 9110 §15.5.6).
    let res = |path: &str, allow: &'static str| {
        web::resource(path.to_string()).default_service(web::to(move |req: HttpRequest| {
            method_not_allowed(req, allow)
        }))
    };
    cfg.service(
        web::scope("/scim/v2")
            .wrap(actix_web::middleware::from_fn(
                crate::provisioning_log::middleware,
            ))
            .service(
                res("/ServiceProviderConfig", "GET, HEAD")
                    .route(read().to(discovery::service_provider_config)),
            )
            .service(res("/ResourceTypes", "GET, HEAD").route(read().to(discovery::resource_types)))
            .service(
                res("/ResourceTypes/{id}", "GET, HEAD").route(read().to(discovery::resource_type)),
            )
            .service(res("/Schemas", "GET, HEAD").route(read().to(discovery::schemas)))
            .service(res("/Schemas/{id}", "GET, HEAD").route(read().to(discovery::schema)))
            .service(res("/Bulk", "POST").route(web::post().to(bulk::bulk)))
            .service(res("/.search", "POST").route(web::post().to(search::root)))
            .service(res("/Users/.search", "POST").route(web::post().to(users::list)))
            .service(res("/Groups/.search", "POST").route(web::post().to(groups::list)))
            .service(
                res("/Users", "GET, HEAD, POST")
                    .route(web::post().to(users::create))
                    .route(read().to(users::list)),
            )
            .service(
                res("/Users/{id}", "GET, HEAD, PUT, PATCH, DELETE")
                    .route(read().to(users::get))
                    .route(web::put().to(users::replace))
                    .route(web::patch().to(users::patch))
                    .route(web::delete().to(users::delete)),
            )
            .service(
                res("/Groups", "GET, HEAD, POST")
                    .route(web::post().to(groups::create))
                    .route(read().to(groups::list)),
            )
            .service(
                res("/Groups/{id}", "GET, HEAD, PUT, PATCH, DELETE")
                    .route(read().to(groups::get))
                    .route(web::put().to(groups::replace))
                    .route(web::patch().to(groups::patch))
                    .route(web::delete().to(groups::delete)),
            ),
    );
}

/// A route for GET and HEAD: HEAD runs the GET handler (same status and headers, `ETag` and
/// 304 included) and the server sends no body for it (RFC 9110 §9.3.2).
fn read() -> Route {
    web::route().guard(guard::Any(guard::Get()).or(guard::Head()))
}

async fn method_not_allowed(
    req: HttpRequest,
    allow: &'static str,
) -> Result<actix_web::HttpResponse, crate::error::Error> {
    Err(crate::error::Error::MethodNotAllowed {
        detail: format!("{} is not supported on {}", req.method(), req.path()),
        allow,
    })
}

/// One of the organization's search turns (`AppState::searches`) for a read that is no
/// index lookup; point lookups stay cheap and take none.
pub async fn search_turn(
    state: &AppState,
    client: &crate::auth::ScimClient,
    point: bool,
) -> Result<Option<tokio::sync::OwnedSemaphorePermit>, crate::error::Error> {
    match point {
        true => Ok(None),
        false => Ok(Some(state.searches.enter(&client.org_id).await?)),
    }
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
    pub fn of_request(req: &HttpRequest) -> Projection {
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
