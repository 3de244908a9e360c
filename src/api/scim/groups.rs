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
use crate::startup::AppState;

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
    ScimJson::resource(status, body)
}

pub async fn create(
    client: ScimClient,
    state: web::Data<AppState>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<ScimJson, Error> {
    let body = read_json(&req, payload, state.settings.http.max_body_bytes).await?;
    let view = create_op(&state, &client, body).await?;
    Ok(respond(
        StatusCode::CREATED,
        &view,
        &client,
        &Projection::from_request(&req),
    ))
}

/// POST /Groups, shared by the handler and `/Bulk`.
pub async fn create_op(
    state: &AppState,
    client: &ScimClient,
    body: Value,
) -> Result<GroupView, Error> {
    let (resource, members) = split_members(&body)?;
    let (org, actor) = (client.org_id.clone(), client.actor());
    state
        .db
        .write(move |c| domain::create(c, &org, resource, members, &actor))
        .await
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
    let view = state
        .db
        .read(move |c| domain::get(c, &org, &id, with_members))
        .await?;
    pre.check_read(view.row.version)?;
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
    query: ListQuery,
) -> Result<ScimJson, Error> {
    let org = client.org_id.clone();
    let q = query.clone();
    let (views, total) = state.db.read(move |c| domain::search(c, &org, &q)).await?;
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
    let view = replace_op(
        &state,
        &client,
        id.into_inner(),
        body,
        preconditions(&req),
        with_members,
    )
    .await?;
    Ok(respond(StatusCode::OK, &view, &client, &projection))
}

/// PUT /Groups/{id}, shared by the handler and `/Bulk`.
pub async fn replace_op(
    state: &AppState,
    client: &ScimClient,
    id: String,
    body: Value,
    pre: Preconditions,
    with_members: bool,
) -> Result<GroupView, Error> {
    let (resource, members) = split_members(&body)?;
    let (org, actor) = (client.org_id.clone(), client.actor());
    state
        .db
        .write(move |c| {
            domain::modify(
                c,
                &org,
                &id,
                &pre,
                &actor,
                move |_| Ok((resource, vec![MemberChange::ReplaceAll(members)])),
                with_members,
            )
        })
        .await
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
    let view = patch_op(
        &state,
        &client,
        id.into_inner(),
        body,
        preconditions(&req),
        with_members,
    )
    .await?;
    if wants_body {
        return Ok(respond(StatusCode::OK, &view, &client, &projection).respond_to_response(&req));
    }
    Ok(HttpResponse::NoContent()
        .insert_header((
            actix_web::http::header::ETAG,
            crate::domain::etag(view.row.version),
        ))
        .finish())
}

/// PATCH /Groups/{id}, shared by the handler and `/Bulk`.
pub async fn patch_op(
    state: &AppState,
    client: &ScimClient,
    id: String,
    body: Value,
    pre: Preconditions,
    with_members: bool,
) -> Result<GroupView, Error> {
    let ops = parse_patch_request(&body)?;
    let (org, actor) = (client.org_id.clone(), client.actor());
    state
        .db
        .write(move |c| {
            let id_value = Value::String(id.clone());
            domain::modify(
                c,
                &org,
                &id,
                &pre,
                &actor,
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
        })
        .await
}

pub async fn delete(
    client: ScimClient,
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<String>,
) -> Result<HttpResponse, Error> {
    delete_op(&state, &client, id.into_inner(), preconditions(&req)).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// DELETE /Groups/{id}, shared by the handler and `/Bulk`.
pub async fn delete_op(
    state: &AppState,
    client: &ScimClient,
    id: String,
    pre: Preconditions,
) -> Result<(), Error> {
    let (org, actor) = (client.org_id.clone(), client.actor());
    state
        .db
        .write(move |c| domain::delete(c, &org, &id, &pre, &actor))
        .await
}
