//! One route's description for the OpenAPI document (`api::openapi`), and `documented`, which
//! turns it into the actix route: the owner API and the reports register their routes from
//! the same tables that describe them. A leaf: the document's assembly uses both tables.

use utoipa::openapi::{RefOr, Schema};

use crate::domain::members::Role;

/// A request body type: its schema name and schema.
pub type Body = fn() -> (String, RefOr<Schema>);

pub fn schema_of<T: utoipa::ToSchema>() -> (String, RefOr<Schema>) {
    (T::name().into_owned(), T::schema())
}

/// The description of one route.
#[derive(Clone)]
pub struct RouteDoc {
    pub method: &'static str,
    pub path: &'static str,
    /// The lowest role allowed; `None`: no owner token (public or its own credential).
    pub role: Option<Role>,
    pub tag: &'static str,
    pub summary: &'static str,
    /// Status of success.
    pub ok: u16,
    pub body: Option<Body>,
    /// A request header the route requires (`Idempotency-Key` of a confirm).
    pub header: Option<(&'static str, &'static str)>,
}

pub const fn doc(
    method: &'static str,
    path: &'static str,
    role: Option<Role>,
    tag: &'static str,
    summary: &'static str,
    ok: u16,
) -> RouteDoc {
    RouteDoc {
        method,
        path,
        role,
        tag,
        summary,
        ok,
        body: None,
        header: None,
    }
}

/// `d`, requiring the header `name` (described by `what`).
pub fn with_header(mut d: RouteDoc, name: &'static str, what: &'static str) -> RouteDoc {
    d.header = Some((name, what));
    d
}

pub fn with_body(mut d: RouteDoc, body: Body) -> RouteDoc {
    d.body = Some(body);
    d
}

pub const ADMIN: Option<Role> = Some(Role::Admin);
pub const OWNER: Option<Role> = Some(Role::Owner);

/// `handler` as the actix route for `doc.method`: the method is written once, in the doc.
/// A route table is static, so an unknown method is a programming error found at start.
pub fn documented<F, Args>(doc: RouteDoc, handler: F) -> (RouteDoc, actix_web::Route)
where
    F: actix_web::Handler<Args>,
    Args: actix_web::FromRequest + 'static,
    F::Output: actix_web::Responder + 'static,
{
    use actix_web::web;
    let route = match doc.method {
        "GET" => web::get(),
        "POST" => web::post(),
        "PUT" => web::put(),
        "DELETE" => web::delete(),
        "PATCH" => web::patch(),
        other => panic!("unsupported method {other} in the route table"),
    }
    .to(handler);
    (doc, route)
}
