//! `/Users` handlers: thin — extract, normalize, one domain call, render.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::Value;

use super::{preconditions, query_pairs, render, with_id, Projection};
use crate::api::body::read_json;
use crate::api::respond::ScimJson;
use crate::auth::ScimClient;
use crate::domain::users::{self as domain, CreateOptions, UserView};
use crate::domain::Preconditions;
use crate::error::Error;
use crate::scim::list::{list_response, ListQuery};
use crate::scim::patch::{apply, parse_patch_request};
use crate::scim::resource::normalize;
use crate::scim::schema::Registry;
use crate::startup::AppState;

fn respond(status: StatusCode, view: &UserView, client: &ScimClient, p: &Projection) -> ScimJson {
    let body = p.apply(render::user(view, &client.base_url), &Registry::get().user);
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

/// POST /Users, shared by the handler and `/Bulk`.
pub async fn create_op(
    state: &AppState,
    client: &ScimClient,
    body: Value,
) -> Result<UserView, Error> {
    let resource = normalize(&body, &Registry::get().user)?;
    let (org, actor) = (client.org_id.clone(), client.actor());
    state
        .db
        .write(move |c| domain::create(c, &org, resource, CreateOptions::default(), &actor))
        .await
}

pub async fn get(
    client: ScimClient,
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<String>,
) -> Result<ScimJson, Error> {
    let (pre, projection) = (preconditions(&req), Projection::from_request(&req));
    let with_groups = projection.wants(&Registry::get().user, "groups");
    let org = client.org_id.clone();
    let view = state
        .db
        .read(move |c| domain::get(c, &org, &id, with_groups))
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
        .map(|v| projection.apply(render::user(v, &client.base_url), &Registry::get().user))
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
    let view = replace_op(&state, &client, id.into_inner(), body, preconditions(&req)).await?;
    Ok(respond(
        StatusCode::OK,
        &view,
        &client,
        &Projection::from_request(&req),
    ))
}

/// PUT /Users/{id}, shared by the handler and `/Bulk`.
pub async fn replace_op(
    state: &AppState,
    client: &ScimClient,
    id: String,
    body: Value,
    pre: Preconditions,
) -> Result<UserView, Error> {
    let resource = normalize(&body, &Registry::get().user)?;
    let (org, actor) = (client.org_id.clone(), client.actor());
    state
        .db
        .write(move |c| domain::replace(c, &org, &id, resource, &pre, &actor))
        .await
}

pub async fn patch(
    client: ScimClient,
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<String>,
    payload: web::Payload,
) -> Result<ScimJson, Error> {
    let body = read_json(&req, payload, state.settings.http.max_body_bytes).await?;
    let view = patch_op(&state, &client, id.into_inner(), body, preconditions(&req)).await?;
    Ok(respond(
        StatusCode::OK,
        &view,
        &client,
        &Projection::from_request(&req),
    ))
}

/// PATCH /Users/{id}, shared by the handler and `/Bulk`.
pub async fn patch_op(
    state: &AppState,
    client: &ScimClient,
    id: String,
    body: Value,
    pre: Preconditions,
) -> Result<UserView, Error> {
    let ops = parse_patch_request(&body)?;
    let (org, actor) = (client.org_id.clone(), client.actor());
    state
        .db
        .write(move |c| {
            let id_value = Value::String(id.clone());
            domain::modify(c, &org, &id, &pre, &actor, move |mut current: Value| {
                let rs = &Registry::get().user;
                with_id(&mut current, id_value);
                apply(&mut current, &ops, rs)?;
                // Re-normalize: types, required attributes and write-only values checked once.
                Ok(normalize(&current, rs)?)
            })
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

/// DELETE /Users/{id}, shared by the handler and `/Bulk`.
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
