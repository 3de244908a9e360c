//! The OpenAPI 3.1 description of the owner API, built with `utoipa`'s typed model from the
//! route tables of `owner` and `reports` (the same tables that register the handlers) and the
//! request body types (`ToSchema`). Served at `GET /api/v1/openapi.json`; registered here
//! rather than in the owner API's table, since the document reads that table.

use std::sync::OnceLock;

use actix_web::{web, HttpResponse};
use utoipa::openapi::extensions::ExtensionsBuilder;
use utoipa::openapi::path::{
    HttpMethod, OperationBuilder, ParameterBuilder, ParameterIn, PathItem,
};
use utoipa::openapi::request_body::RequestBodyBuilder;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{
    ComponentsBuilder, ContentBuilder, InfoBuilder, ObjectBuilder, OpenApi, OpenApiBuilder,
    PathsBuilder, Ref, Required, ResponseBuilder, Type,
};

use super::route_doc::{doc, documented, RouteDoc};

/// This document's own route (public).
fn route_doc() -> RouteDoc {
    doc(
        "GET",
        "/api/v1/openapi.json",
        None,
        "meta",
        "This document",
        200,
    )
}

/// Before the owner API: its `/api/v1` scope would swallow this path.
pub fn configure(cfg: &mut web::ServiceConfig) {
    let (d, route) = documented(route_doc(), serve);
    cfg.route(d.path, route);
}

/// What a route answers with on success, from its path: CSV, HTML pages, Prometheus text,
/// no content (204), or a JSON object.
fn success_response(d: &RouteDoc) -> utoipa::openapi::Response {
    let text = |mime: &str, desc: &str| {
        ResponseBuilder::new()
            .description(desc)
            .content(
                mime,
                ContentBuilder::new()
                    .schema(Some(ObjectBuilder::new().schema_type(Type::String)))
                    .build(),
            )
            .build()
    };
    if d.ok == 204 {
        return ResponseBuilder::new()
            .description("Done; no content")
            .build();
    }
    if d.path.ends_with(".csv") {
        return text(
            "text/csv",
            "CSV, one header row (cells that could run as spreadsheet formulas begin with ')",
        );
    }
    if d.path.ends_with(".html") {
        return text("text/html", "An HTML page");
    }
    if d.path == "/metrics" {
        return text("text/plain", "Prometheus text exposition format");
    }
    ResponseBuilder::new()
        .description("Success")
        .content(
            "application/json",
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("Object")))
                .build(),
        )
        .build()
}

fn method(m: &str) -> HttpMethod {
    match m {
        "POST" => HttpMethod::Post,
        "PUT" => HttpMethod::Put,
        "DELETE" => HttpMethod::Delete,
        "PATCH" => HttpMethod::Patch,
        _ => HttpMethod::Get,
    }
}

fn path_params(path: &str) -> Vec<String> {
    path.split('{')
        .skip(1)
        .filter_map(|s| s.split_once('}').map(|(name, _)| name.to_string()))
        .collect()
}

fn error_response(desc: &str) -> utoipa::openapi::Response {
    ResponseBuilder::new()
        .description(desc)
        .content(
            "application/scim+json",
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("Error")))
                .build(),
        )
        .build()
}

/// Build the document from the route table.
pub fn document() -> OpenApi {
    // The owner API's routes, this one (listed last among them, as it always was), the reports'.
    let mut docs = super::owner::routes().docs;
    docs.push(route_doc());
    docs.extend(super::reports::docs());
    let mut paths = PathsBuilder::new();
    let mut components = ComponentsBuilder::new()
        .security_scheme(
            "ownerToken",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some("An owner-API session token (from an invitation acceptance, an SSO login or `scim-seats token owner`)"))
                    .build(),
            ),
        )
        .schema(
            "Object",
            ObjectBuilder::new()
                .schema_type(Type::Object)
                .description(Some("A JSON object; docs/owner-api.md shows each route's fields")),
        )
        .schema(
            "Error",
            ObjectBuilder::new()
                .property("schemas", ObjectBuilder::new().schema_type(Type::Array))
                .property("status", ObjectBuilder::new().schema_type(Type::String))
                .property("detail", ObjectBuilder::new().schema_type(Type::String))
                .required("status")
                .required("detail"),
        );
    for d in &docs {
        let mut op = OperationBuilder::new()
            .summary(Some(d.summary))
            .tag(d.tag)
            .operation_id(Some(format!(
                "{}_{}",
                d.method.to_lowercase(),
                d.path
                    .trim_start_matches('/')
                    .replace(['/', '{', '}', '.', '-'], "_")
            )))
            .response(d.ok.to_string(), success_response(d))
            .response("400", error_response("Invalid request"))
            .response("413", error_response("Request body too large"))
            .response("429", error_response("Too many costly reads of this organization at once; send again after Retry-After"))
            .response("431", error_response("Request head too large"));
        if let Some((name, what)) = d.header {
            op = op.parameter(
                ParameterBuilder::new()
                    .name(name)
                    .parameter_in(ParameterIn::Header)
                    .required(Required::True)
                    .description(Some(what))
                    .schema(Some(
                        ObjectBuilder::new()
                            .schema_type(Type::String)
                            .min_length(Some(1))
                            .max_length(Some(crate::domain::billing::seat_orders::MAX_KEY_LEN)),
                    )),
            );
        }
        for p in path_params(d.path) {
            op = op.parameter(
                ParameterBuilder::new()
                    .name(p)
                    .parameter_in(ParameterIn::Path)
                    .required(Required::True)
                    .schema(Some(ObjectBuilder::new().schema_type(Type::String))),
            );
        }
        if let Some(body) = d.body {
            let (name, schema) = body();
            components = components.schema(name.clone(), schema);
            op = op.request_body(Some(
                RequestBodyBuilder::new()
                    .required(Some(Required::True))
                    .content(
                        "application/json",
                        ContentBuilder::new()
                            .schema(Some(Ref::from_schema_name(name)))
                            .build(),
                    )
                    .build(),
            ));
        }
        if let Some(role) = d.role {
            op = op
                .security(SecurityRequirement::new::<_, _, String>("ownerToken", []))
                .response("401", error_response("No valid owner token"))
                .response(
                    "403",
                    error_response(&format!("Requires {}", role.and_above())),
                )
                .description(Some(format!("Requires {}.", role.and_above())))
                .extensions(Some(
                    ExtensionsBuilder::new()
                        .add("x-required-role", role.as_str())
                        .build(),
                ));
        }
        paths = paths.path(d.path, PathItem::new(method(d.method), op.build()));
    }
    OpenApiBuilder::new()
        .info(
            InfoBuilder::new()
                .title("scim-seats owner API")
                .version(env!("CARGO_PKG_VERSION"))
                .description(Some(
                    "Seats, billing, members and roles, invitations, verified domains, SCIM tokens and SSO (JIT) of one organization; its reports (pending users, seat usage), alert settings and audit log; and the service's health and metrics endpoints. The SCIM API (/scim/v2) is described by its own /ServiceProviderConfig, /Schemas and /ResourceTypes.",
                ))
                .build(),
        )
        .paths(paths.build())
        .components(Some(components.build()))
        .build()
}

static DOCUMENT: OnceLock<String> = OnceLock::new();

pub async fn serve() -> HttpResponse {
    let body = DOCUMENT.get_or_init(|| {
        document()
            .to_pretty_json()
            .unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
    });
    HttpResponse::Ok()
        .content_type("application/json")
        .body(body.clone())
}
