//! `/Groups` handlers.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::Value;

use super::{preconditions, query_pairs, render, with_id, Projection};
use crate::api::body::read_json;
use crate::api::respond::ScimJson;
use crate::auth::ScimClient;
use crate::domain::groups::{self as domain, member_refs, GroupView, MemberChange, MemberRef};
use crate::domain::Preconditions;
use crate::error::Error;
use crate::scim::list::{list_response, ListQuery};
use crate::scim::patch::{apply, parse_patch_request, MemberOp};
use crate::scim::resource::normalize;
use crate::scim::schema::Registry;
use crate::state::AppState;
use crate::store::DbConn;

/// Split a group body into the canonical resource (without members) and its member refs.
fn split_members(body: &Value) -> Result<(Value, Vec<MemberRef>), Error> {
    let mut resource = normalize(body, &Registry::get().group)?;
    let members = match resource.as_object_mut().and_then(|m| m.remove("members")) {
        Some(list) => member_refs(&list)?,
        None => Vec::new(),
    };
    Ok((resource, members))
}

fn member_change(op: MemberOp) -> Result<MemberChange, Error> {
    Ok(match op {
        MemberOp::Add(list) => MemberChange::Add(member_refs(&Value::Array(list))?),
        MemberOp::Remove(ids) => MemberChange::Remove(ids),
        MemberOp::RemoveAll => MemberChange::RemoveAll,
        MemberOp::ReplaceAll(list) => MemberChange::ReplaceAll(member_refs(&Value::Array(list))?),
    })
}

fn respond(status: StatusCode, view: &GroupView, client: &ScimClient, p: &Projection) -> ScimJson {
    let body = p.apply(
        render::group(view, &client.base_url),
        &Registry::get().group,
    );
    ScimJson::resource(status, body, view.version().etag(), || {
        render::location(&client.base_url, "Groups", &view.row.id)
    })
}

pub async fn create(
    client: ScimClient,
    state: web::Data<AppState>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<ScimJson, Error> {
    let body = read_json(&req, payload, state.settings.http.max_body_bytes).await?;
    let c = client.clone();
    let view = state
        .db
        .write(move |conn| create_in(conn, &c, body))
        .await?;
    Ok(respond(
        StatusCode::CREATED,
        &view,
        &client,
        &Projection::from_request(&req),
    ))
}

pub async fn get(
    client: ScimClient,
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<String>,
) -> Result<ScimJson, Error> {
    let (pre, projection) = (preconditions(&req), Projection::from_request(&req));
    let with_members = projection.wants(&Registry::get().group, "members");
    let org = client.org_id.clone();
    // Members can number 100,000: only a read without them is a point read.
    let view = state
        .db
        .read_point_if(!with_members, move |c| {
            domain::get(c, &org, &id, with_members)
        })
        .await?;
    pre.check_read(view.version())?;
    Ok(respond(StatusCode::OK, &view, &client, &projection))
}

pub async fn list(
    client: ScimClient,
    state: web::Data<AppState>,
    req: HttpRequest,
) -> Result<ScimJson, Error> {
    let query = ListQuery::from_pairs(&query_pairs(&req), state.settings.scim.max_results)?;
    search_with(client, state, query).await
}

pub async fn search(
    client: ScimClient,
    state: web::Data<AppState>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<ScimJson, Error> {
    let body = read_json(&req, payload, state.settings.http.max_body_bytes).await?;
    let query = ListQuery::from_search_request(&body, state.settings.scim.max_results)?;
    search_with(client, state, query).await
}

async fn search_with(
    client: ScimClient,
    state: web::Data<AppState>,
    mut query: ListQuery,
) -> Result<ScimJson, Error> {
    query.max_page_members = state.settings.scim.max_page_members;
    let filter = domain::parse_filter(&query)?;
    let point = domain::is_point_search(&query, filter.as_ref());
    let _turn = match point {
        true => None,
        false => Some(state.searches.enter(&client.org_id).await?),
    };
    let (org, q) = (client.org_id.clone(), query.clone());
    let (views, total) = state
        .db
        .read_point_if(point, move |c| domain::search(c, &org, &q, filter.as_ref()))
        .await?;
    let projection = Projection::from_query(&query);
    let resources = views
        .iter()
        .map(|v| projection.apply(render::group(v, &client.base_url), &Registry::get().group))
        .collect();
    Ok(ScimJson::ok(list_response(
        resources,
        total,
        query.start_index,
    )))
}

pub async fn replace(
    client: ScimClient,
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<String>,
    payload: web::Payload,
) -> Result<ScimJson, Error> {
    let body = read_json(&req, payload, state.settings.http.max_body_bytes).await?;
    let projection = Projection::from_request(&req);
    let with_members = projection.wants(&Registry::get().group, "members");
    let (c, id, pre) = (client.clone(), id.into_inner(), preconditions(&req));
    let view = state
        .db
        .write(move |conn| replace_in(conn, &c, &id, body, &pre, with_members))
        .await?;
    Ok(respond(StatusCode::OK, &view, &client, &projection))
}

/// PATCH answers 204 (RFC 7644 §3.5.2 allows it) unless the client asks for attributes:
/// returning a 100,000-member group after adding one member would defeat row-level membership.
pub async fn patch(
    client: ScimClient,
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, Error> {
    let body = read_json(&req, payload, state.settings.http.max_body_bytes).await?;
    let projection = Projection::from_request(&req);
    let wants_body = !projection.is_empty();
    let with_members = wants_body && projection.wants(&Registry::get().group, "members");
    let (c, id, pre) = (client.clone(), id.into_inner(), preconditions(&req));
    let view = state
        .db
        .write(move |conn| patch_in(conn, &c, &id, body, &pre, with_members))
        .await?;
    if wants_body {
        return Ok(respond(StatusCode::OK, &view, &client, &projection).respond_to_response(&req));
    }
    Ok(HttpResponse::NoContent()
        .insert_header((actix_web::http::header::ETAG, view.version().etag()))
        .finish())
}

pub async fn delete(
    client: ScimClient,
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<String>,
) -> Result<HttpResponse, Error> {
    let (c, id, pre) = (client.clone(), id.into_inner(), preconditions(&req));
    state
        .db
        .write(move |conn| delete_in(conn, &c, &id, &pre))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// POST /Groups as a step of a transaction; the handler and `/Bulk` share it.
pub fn create_in(conn: &mut DbConn, client: &ScimClient, body: Value) -> Result<GroupView, Error> {
    let (resource, members) = split_members(&body)?;
    domain::create(conn, &client.org_id, resource, members, &client.actor())
}

/// PUT /Groups/{id} as a step of a transaction.
pub fn replace_in(
    conn: &mut DbConn,
    client: &ScimClient,
    id: &str,
    body: Value,
    pre: &Preconditions,
    with_members: bool,
) -> Result<GroupView, Error> {
    let (resource, members) = split_members(&body)?;
    domain::modify(
        conn,
        &client.org_id,
        id,
        pre,
        &client.actor(),
        move |_| Ok((resource, vec![MemberChange::ReplaceAll(members)])),
        with_members,
    )
}

/// PATCH /Groups/{id} as a step of a transaction.
pub fn patch_in(
    conn: &mut DbConn,
    client: &ScimClient,
    id: &str,
    body: Value,
    pre: &Preconditions,
    with_members: bool,
) -> Result<GroupView, Error> {
    let ops = parse_patch_request(&body)?;
    let id_value = Value::String(id.to_string());
    domain::modify(
        conn,
        &client.org_id,
        id,
        pre,
        &client.actor(),
        move |mut current: Value| {
            let rs = &Registry::get().group;
            with_id(&mut current, id_value);
            let outcome = apply(&mut current, &ops, rs)?;
            let changes = outcome
                .member_ops
                .into_iter()
                .map(member_change)
                .collect::<Result<Vec<_>, _>>()?;
            Ok((normalize(&current, rs)?, changes))
        },
        with_members,
    )
}

/// DELETE /Groups/{id} as a step of a transaction.
pub fn delete_in(
    conn: &mut DbConn,
    client: &ScimClient,
    id: &str,
    pre: &Preconditions,
) -> Result<(), Error> {
    domain::delete(conn, &client.org_id, id, pre, &client.actor())
}
