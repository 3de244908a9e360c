//! `/Groups` handlers.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::Value;

use super::{preconditions, query_pairs, render};
use crate::api::body::read_json;
use crate::api::respond::ScimJson;
use crate::auth::ScimClient;
use crate::domain::groups::{self as domain, member_refs, MemberChange, MemberRef};
use crate::error::Error;
use crate::scim::list::{list_response, ListQuery};
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

pub async fn create(
    client: ScimClient,
    state: web::Data<AppState>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<ScimJson, Error> {
    let body = read_json(&req, payload, state.settings.http.max_body_bytes).await?;
    let (resource, members) = split_members(&body)?;
    let (org, actor) = (client.org_id.clone(), client.actor());
    let view = state
        .db
        .write(move |c| domain::create(c, &org, resource, members, &actor))
        .await?;
    Ok(ScimJson::resource(
        StatusCode::CREATED,
        render::group(&view, &client.base_url),
    ))
}

pub async fn get(
    client: ScimClient,
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<String>,
) -> Result<ScimJson, Error> {
    let pre = preconditions(&req);
    let org = client.org_id.clone();
    let view = state
        .db
        .read(move |c| domain::get(c, &org, &id, true))
        .await?;
    pre.check_read(view.row.version)?;
    Ok(ScimJson::resource(
        StatusCode::OK,
        render::group(&view, &client.base_url),
    ))
}

pub async fn list(
    client: ScimClient,
    state: web::Data<AppState>,
    req: HttpRequest,
) -> Result<ScimJson, Error> {
    let query = ListQuery::from_pairs(&query_pairs(&req), state.settings.scim.max_results)?;
    let org = client.org_id.clone();
    let q = query.clone();
    let (views, total) = state.db.read(move |c| domain::search(c, &org, &q)).await?;
    let resources = views
        .iter()
        .map(|v| render::group(v, &client.base_url))
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
    let (resource, members) = split_members(&body)?;
    let (org, actor, pre) = (client.org_id.clone(), client.actor(), preconditions(&req));
    let view = state
        .db
        .write(move |c| {
            domain::modify(
                c,
                &org,
                &id,
                &pre,
                &actor,
                move |_| Ok((resource, vec![MemberChange::ReplaceAll(members)])),
                true,
            )
        })
        .await?;
    Ok(ScimJson::resource(
        StatusCode::OK,
        render::group(&view, &client.base_url),
    ))
}

pub async fn delete(
    client: ScimClient,
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<String>,
) -> Result<HttpResponse, Error> {
    let (org, actor, pre) = (client.org_id.clone(), client.actor(), preconditions(&req));
    state
        .db
        .write(move |c| domain::delete(c, &org, &id, &pre, &actor))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
